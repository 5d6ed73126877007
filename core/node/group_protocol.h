// The wire protocol between a coordinator and a server Raft group's state machine
// (group_state_machine.h): commands that are replicated (NodeHost OpKind::kApply) and
// queries served at a linearizable point (OpKind::kQuery), and one result shape for both.
//
// Encoding: [format][op byte][fields]; varints and length-prefixed strings (kv/codec.h).
// Commands and queries routed with a catalog version (catalog_version != 0) use format
// 0x02, which appends that version; unversioned ones keep format 0x01 byte for byte, so
// a coordinator that does not track versions writes exactly what it always wrote.
// Decoding rejects unknown formats and ops, truncation and trailing bytes.
//
// Ownership (core/route/ownership.h): a group refuses kKv commands and kKv/kRawGet/
// kRawScan queries for keys outside the ranges it owns with result code kAborted and a
// STALE_ROUTE message carrying its current catalog version; the coordinator refreshes its
// route table (kCatalog on the catalog group) and routes again. Such a refusal is a
// definite "not applied".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kv/kv_command.h"

namespace ekv::node {

enum class GroupCommandOp : uint8_t {
  kKv = 1,       // payload: an encoded kv::KvCommand; server-chosen timestamps assigned at apply
  kCatalog = 2,  // payload: an encoded route::CatalogCommand (catalog group only)
  // no payload: allocate one strictly increasing timestamp through the log. Superseded by
  // the leader's in-memory oracle (NodeHost OpKind::kTimestamp); still applied for logs
  // written before it.
  kTimestamp = 3,
  // payload: an encoded route::RouteCatalog; the group adopts it as its view of what it
  // owns if it is newer than the one it has (older ones are ignored). Proposed by whoever
  // changed the catalog (or noticed a group behind) to the groups the change concerns;
  // the catalog group updates its own view when it applies a catalog change.
  kOwnership = 4,
  // payload: varint floor_ts, byte above_ceiling. Raises the group's largest timestamp to
  // floor_ts (and, with above_ceiling, above the applied HLC ceiling) so later apply-time
  // timestamps exceed it. Proposed by the leader's oracle (timestamp_oracle.h).
  kTimestampFloor = 5,
  // payload: an encoded MemberChange (member_directory.h); catalog group only. Records
  // where a node can be reached; idempotent.
  kMembers = 6,
  // payload: an encoded IngestRangeRequest (range_records.h). The target group of a
  // cross-group move replaces its records of the chunk's span with the chunk's records;
  // accepted only while its ownership says the route is moving to it
  // (GroupOwnership::CheckIngest). Idempotent. Answers ts = the group's largest timestamp.
  kIngestRange = 7,
  // payload: an encoded DeleteRangeRequest (range_records.h). Drops every record of the
  // range; accepted only when the group neither owns nor receives any of it at a catalog
  // version >= the request's (GroupOwnership::CheckDeleteRange). Idempotent.
  kDeleteRange = 8,
};

struct GroupCommand {
  GroupCommandOp op = GroupCommandOp::kKv;
  // The proposer's wall clock (ms); a lower bound for timestamps assigned at apply. Only
  // a hint: the state machine keeps timestamps strictly increasing whatever it says.
  uint64_t physical_ms = 0;
  std::string payload;
  // kKv: the catalog version the coordinator routed with; 0 = unversioned (see above).
  uint64_t catalog_version = 0;
};

enum class GroupQueryOp : uint8_t {
  kKv = 1,       // payload: an encoded kv query (EncodeKvQuery)
  kCatalog = 2,  // the whole route catalog (catalog group only)
  kRawGet = 3,   // payload: key; latest committed value, ignoring transaction locks
  kRawScan = 4,  // payload: start, end, limit; latest committed values
  kMembers = 5,  // the member directory, encoded in `blob` (catalog group only)
  // payload: an encoded ExportRangeRequest (range_records.h). Answers the next chunk of
  // the range's raw records in `pairs` (engine key, engine value), the next cursor in
  // `value` ("" = complete) and the group's largest timestamp in `ts`. Needs a group
  // that owns the whole range (in any state): only it holds the authoritative copy.
  kExportRange = 6,
  // No payload. This replica's route load counters with their key samples
  // (route_load.h, encoded in `blob`) for the placement driver: an observation of the
  // replica that serves it (writes are counted on every replica, reads where served),
  // not replicated state.
  kRouteLoads = 7,
};

struct GroupQuery {
  GroupQueryOp op = GroupQueryOp::kKv;
  std::string payload;
  uint64_t catalog_version = 0;  // as GroupCommand::catalog_version
};

struct GroupKeyError {
  std::string key;
  std::string message;
  bool retryable = false;
  uint8_t code = 0;  // kv::KeyErrorCode
  // For a key locked by another transaction: who to ask about it.
  std::string lock_primary;
  uint64_t lock_start_ts = 0;
  uint64_t lock_ttl_ms = 0;
};

struct GroupResult {
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string message;
  uint64_t ts = 0;  // commit/allocated timestamp, or the latest commit ts of a key
  std::optional<std::string> value;
  std::optional<std::string> old_value;
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<GroupKeyError> key_errors;
  uint8_t txn_status = 0;  // kv::TxnStatusKind for CheckTxnStatus
  std::string blob;        // catalog image, catalog command answer or member directory
  // A snapshot read refused as ReadRestart (kv_state_machine.h, "Uncertainty"): read
  // again at a timestamp above this one. 0 otherwise.
  uint64_t restart_above = 0;
  absl::Status status() const {
    return code == absl::StatusCode::kOk ? absl::OkStatus() : absl::Status(code, message);
  }
};

std::string EncodeGroupCommand(const GroupCommand& command);
absl::StatusOr<GroupCommand> DecodeGroupCommand(absl::string_view bytes);
std::string EncodeGroupQuery(const GroupQuery& query);
absl::StatusOr<GroupQuery> DecodeGroupQuery(absl::string_view bytes);
std::string EncodeGroupResult(const GroupResult& result);
absl::StatusOr<GroupResult> DecodeGroupResult(absl::string_view bytes);
// A group's answer to a kKv command as kv::TxnCoordinator reads it (status, commit_ts,
// transaction status, key errors with their locks).
kv::KvApplyResult ToKvApplyResult(const GroupResult& result);
// A kv key error as a group reply carries it (the inverse, for one error).
GroupKeyError ToGroupKeyError(const kv::KeyError& error);

// Raw scan payload helpers.
std::string EncodeRawScan(absl::string_view start, absl::string_view end, uint64_t limit);

}  // namespace ekv::node

namespace ekv::kv {
struct KvQuery;
}

namespace ekv::node {
std::string EncodeKvQuery(const kv::KvQuery& query);
absl::StatusOr<kv::KvQuery> DecodeKvQuery(absl::string_view bytes);
}  // namespace ekv::node
