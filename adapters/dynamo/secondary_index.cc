#include "adapters/dynamo/secondary_index.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/key_codec.h"
#include "adapters/dynamo/request_fields.h"
#include "core/util/assert.h"

namespace ekv::dynamo {

using nlohmann::json;

namespace {

// DynamoDB's key size limits, applied to index keys too.
constexpr size_t kMaxIndexHashBytes = 2048;
constexpr size_t kMaxIndexRangeBytes = 1024;

// One index key attribute's encoding, or nullopt when the item is not in the index
// (absent; or refused-turned-skipped under kSkip).
absl::StatusOr<std::optional<std::string>> EncodeIndexKeyPart(const SecondaryIndex& index,
                                                              const KeyElement& element,
                                                              size_t max_bytes,
                                                              const AttributeMap& item,
                                                              IndexKeyCheck check) {
  auto it = item.find(element.name);
  if (it == item.end()) return std::optional<std::string>();
  const AttributeValue& value = it->second;
  absl::Status refusal;
  if (value.type != element.type) {
    refusal = InvalidParameter(absl::StrCat(
        "Type mismatch for Index Key ", element.name, " Expected: ", TypeName(element.type),
        " Actual: ", TypeName(value.type), " IndexName: ", index.name));
  } else if ((value.type == AttributeType::kS || value.type == AttributeType::kB) &&
             value.scalar.empty()) {
    refusal = ValidationError(absl::StrCat(
        "One or more parameter values are not valid. A value specified for a secondary index "
        "key is not supported. The AttributeValue for a key attribute cannot contain an empty ",
        value.type == AttributeType::kS ? "string" : "binary", " value. IndexName: ", index.name,
        ", IndexKey: ", element.name));
  } else if (value.scalar.size() > max_bytes) {
    refusal = InvalidParameter(absl::StrCat(
        "Size limit exceeded for Index Key ", element.name, " Actual Size: ", value.scalar.size(),
        " bytes Max Size: ", max_bytes, " bytes IndexName: ", index.name));
  }
  if (!refusal.ok()) {
    if (check == IndexKeyCheck::kSkip) return std::optional<std::string>();
    return refusal;
  }
  absl::StatusOr<std::string> encoded = EncodeKeyValue(value);
  if (!encoded.ok()) return encoded.status();
  return std::optional<std::string>(*std::move(encoded));
}

}  // namespace

absl::StatusOr<const SecondaryIndex*> IndexOf(const json& request, const TableSchema& schema) {
  absl::StatusOr<std::optional<std::string>> name = OptionalString(request, "IndexName");
  if (!name.ok()) return name.status();
  if (!name->has_value()) return nullptr;
  for (const SecondaryIndex& index : schema.indexes) {
    if (index.name == **name) return &index;
  }
  return ValidationError("The table does not have the specified index: " + **name);
}

TableSchema IndexKeySchema(const TableSchema& base, const SecondaryIndex& index) {
  TableSchema view;
  view.name = base.name;
  view.id = index.id;
  view.key_layout = index.key_layout;
  view.hash = index.hash;
  view.range = index.range;
  view.attribute_definitions = base.attribute_definitions;
  return view;
}

AttributeMap IndexKeyAttributes(const TableSchema& base, const SecondaryIndex& index,
                                const AttributeMap& item) {
  AttributeMap keys = KeyAttributesOf(base, item);
  for (const AttributeMap::value_type& entry : KeyAttributesOf(IndexKeySchema(base, index), item)) {
    keys.insert(entry);
  }
  return keys;
}

AttributeMap ProjectIntoIndex(const TableSchema& base, const SecondaryIndex& index,
                              const AttributeMap& item) {
  if (index.projection_type == "ALL") return item;
  AttributeMap projected = IndexKeyAttributes(base, index, item);
  for (const std::string& name : index.non_key_attributes) {
    if (auto it = item.find(name); it != item.end()) projected.insert(*it);
  }
  return projected;
}

bool IndexProjects(const TableSchema& base, const SecondaryIndex& index, const std::string& name) {
  if (index.projection_type == "ALL") return true;
  const auto is = [&](const KeyElement& k) { return k.name == name; };
  if (is(base.hash) || (base.range && is(*base.range))) return true;
  if (is(index.hash) || (index.range && is(*index.range))) return true;
  return std::find(index.non_key_attributes.begin(), index.non_key_attributes.end(), name) !=
         index.non_key_attributes.end();
}

absl::StatusOr<std::optional<std::string>> IndexEntryKey(const TableSchema& base,
                                                         const SecondaryIndex& index,
                                                         const std::string& base_key,
                                                         const AttributeMap& item,
                                                         IndexKeyCheck check) {
  const std::string base_prefix = ItemPrefix(base.id);
  EKV_ASSERT(absl::StartsWith(base_key, base_prefix), "an item key lies under its table's prefix");
  absl::StatusOr<std::optional<std::string>> hash =
      EncodeIndexKeyPart(index, index.hash, kMaxIndexHashBytes, item, check);
  if (!hash.ok()) return hash.status();
  std::optional<std::string> range;
  if (index.range) {
    absl::StatusOr<std::optional<std::string>> part =
        EncodeIndexKeyPart(index, *index.range, kMaxIndexRangeBytes, item, check);
    if (!part.ok()) return part.status();
    if (!part->has_value()) return std::optional<std::string>();
    range = **part;
  }
  if (!hash->has_value()) return std::optional<std::string>();
  std::string key = PartitionPrefix(index.id, index.key_layout, **hash);
  absl::StrAppend(&key, range.value_or(""), absl::string_view(base_key).substr(base_prefix.size()));
  return std::optional<std::string>(std::move(key));
}

absl::StatusOr<std::vector<IndexEntryWrite>> IndexWrites(
    const TableSchema& base, const std::string& base_key,
    const std::optional<AttributeMap>& old_item, const std::optional<AttributeMap>& new_item,
    IndexKeyCheck check, bool rewrite_unchanged) {
  std::vector<IndexEntryWrite> writes;
  for (const SecondaryIndex& index : base.indexes) {
    if (index.id == 0) continue;  // not yet given an id: the backfill fills it in
    std::optional<std::string> old_key;
    if (old_item.has_value()) {
      // What is stored was accepted when written, or skipped: never refuse on it.
      absl::StatusOr<std::optional<std::string>> key =
          IndexEntryKey(base, index, base_key, *old_item, IndexKeyCheck::kSkip);
      if (!key.ok()) return key.status();
      old_key = *std::move(key);
    }
    std::optional<std::string> new_key;
    if (new_item.has_value()) {
      absl::StatusOr<std::optional<std::string>> key =
          IndexEntryKey(base, index, base_key, *new_item, check);
      if (!key.ok()) return key.status();
      new_key = *std::move(key);
    }
    if (old_key.has_value() && old_key != new_key) writes.push_back({*old_key, std::nullopt});
    if (!new_key.has_value()) continue;
    AttributeMap entry = ProjectIntoIndex(base, index, *new_item);
    if (!rewrite_unchanged && old_key == new_key &&
        ProjectIntoIndex(base, index, *old_item) == entry) {
      continue;
    }
    writes.push_back({*new_key, std::move(entry)});
  }
  return writes;
}

absl::Status CheckIndexReadable(const SecondaryIndex& index) {
  if (!index.backfilling) return absl::OkStatus();
  return ValidationError("Cannot read from backfilling global secondary index: " + index.name);
}

}  // namespace ekv::dynamo
