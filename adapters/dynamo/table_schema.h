// TableSchema: what ekv keeps about a DynamoDB table (name, id, key schema, attribute
// definitions, billing mode), how CreateTable's request becomes one (validated as
// DynamoDB does), how it is stored (versioned JSON under TableMetaKey) and described
// (DescribeTable's TableDescription). Also the item-key rules that depend on the schema.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "adapters/dynamo/attribute_value.h"
#include "adapters/dynamo/key_codec.h"

namespace ekv::dynamo {

struct KeyElement {
  std::string name;
  AttributeType type = AttributeType::kS;  // S, N or B
  bool operator==(const KeyElement&) const = default;
};

// A global or local secondary index. Its entries are stored under ItemPrefix(id), written in
// the same transaction as the base item (secondary_index.h); an index added to a table with
// items is backfilled (IndexBackfiller) and reads are refused until it is ACTIVE.
struct SecondaryIndex {
  std::string name;
  // Scopes the index's entry keys, from the same source as table ids (never reused: a
  // deleted index's leftovers are never read by one created again under its name). 0 until
  // TableStore assigns one (CreateTable / UpdateTable).
  uint64_t id = 0;
  // True while existing items are being copied in (DescribeTable: IndexStatus CREATING,
  // Backfilling); `backfill_cursor` is the base item key the copy continues from ("": the
  // table's first item).
  bool backfilling = false;
  std::string backfill_cursor;
  // How the entry keys are laid out (key_codec.h); kUnhashed for indexes stored before
  // partition hashes existed.
  KeyLayout key_layout = KeyLayout::kHashed;
  bool global = true;
  KeyElement hash;
  std::optional<KeyElement> range;
  std::string projection_type = "ALL";          // KEYS_ONLY, INCLUDE or ALL
  std::vector<std::string> non_key_attributes;  // INCLUDE
  int64_t read_capacity_units = 0;              // a GSI of a PROVISIONED table
  int64_t write_capacity_units = 0;
  bool operator==(const SecondaryIndex&) const = default;
};

struct TableSchema {
  std::string name;
  uint64_t id = 0;  // scopes the table's item keys (key_codec.h)
  // How the item keys are laid out (key_codec.h); kUnhashed for tables created before
  // partition hashes existed, whose keys stay where they are.
  KeyLayout key_layout = KeyLayout::kHashed;
  KeyElement hash;
  std::optional<KeyElement> range;
  std::vector<KeyElement> attribute_definitions;  // as the client declared them
  std::string billing_mode = "PROVISIONED";       // or PAY_PER_REQUEST
  int64_t read_capacity_units = 0;
  int64_t write_capacity_units = 0;
  double creation_date_time = 0;            // seconds since the epoch
  std::map<std::string, std::string> tags;  // TagResource / CreateTable Tags
  std::string ttl_attribute;                // UpdateTimeToLive; empty: TTL disabled
  std::vector<SecondaryIndex> indexes;      // GSIs and LSIs, in the order created
  bool operator==(const TableSchema&) const = default;
};

// Table names: 3..255 characters of [a-zA-Z0-9_.-].
absl::Status ValidateTableName(const nlohmann::json& request, const char* field = "TableName");

// CreateTable's request -> schema (id and creation time left for the caller).
absl::StatusOr<TableSchema> SchemaFromCreateTable(const nlohmann::json& request);

// One GlobalSecondaryIndexes / LocalSecondaryIndexes element (or a GSI Create of UpdateTable)
// checked against `schema`'s attribute definitions and key, as DynamoDB does.
absl::StatusOr<SecondaryIndex> ParseSecondaryIndex(const nlohmann::json& element, bool global,
                                                   const TableSchema& schema);
// An index name's checks: 3..255 characters of [a-zA-Z0-9_.-], unique in the table.
absl::Status CheckNewIndexName(const std::string& name, const TableSchema& schema);
// AttributeDefinitions must be exactly the attributes some key schema (table or index) uses.
absl::Status CheckAttributeDefinitionsUsed(const TableSchema& schema);
// DynamoDB's 255-byte limit on the attribute names in a CreateTable or UpdateTable request's
// key schemas, AttributeDefinitions and indexes' NonKeyAttributes, in its model's words.
absl::Status CheckKeyAttributeNames(const nlohmann::json& request);

// BillingMode and ProvisionedThroughput of a CreateTable or UpdateTable request, applied to
// `schema` (whose current billing mode is the default), validated as DynamoDB does.
absl::Status ApplyBillingParameters(const nlohmann::json& request, TableSchema* schema);
// Adds or replaces a Tags list ([{"Key", "Value"}]); at most kMaxTags per table.
inline constexpr size_t kMaxTags = 50;
absl::Status ApplyTags(const nlohmann::json& tags, TableSchema* schema);

// Tables' ARNs, as DynamoDB Local forms them (region "ddblocal", account 000000000000).
inline constexpr absl::string_view kTableArnPrefix =
    "arn:aws:dynamodb:ddblocal:000000000000:table/";
// DescribeTable's TableId: the table's id in a UUID's 8-4-4-4-12 hex form.
std::string TableIdUuid(uint64_t id);
std::string TableArn(absl::string_view table_name);

std::string EncodeTableSchema(const TableSchema& schema);
absl::StatusOr<TableSchema> DecodeTableSchema(absl::string_view bytes);

struct TableStats;  // table_stats.h
// TableDescription, with TableStatus `status` (ACTIVE, DELETING). ItemCount and the sizes
// come from `stats`, the table's last background count (nullptr: 0, never counted).
nlohmann::json DescribeTable(const TableSchema& schema, const char* status,
                             const TableStats* stats = nullptr);

// The item's storage key under the schema: from a full item (PutItem: other attributes
// allowed) or from a Key parameter (exactly the key attributes). Errors in DynamoDB's
// words (missing key, type mismatch, empty key string).
absl::StatusOr<std::string> ItemKeyOfItem(const TableSchema& schema, const AttributeMap& item);
absl::StatusOr<std::string> ItemKeyOfKey(const TableSchema& schema, const AttributeMap& key);
// The key attributes of an item (LastEvaluatedKey).
AttributeMap KeyAttributesOf(const TableSchema& schema, const AttributeMap& item);

}  // namespace ekv::dynamo
