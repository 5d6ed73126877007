#include "core/node/group_state_machine.h"

#include "core/redis/cleanup.h"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"
#include "core/kv/timestamp.h"
#include "core/node/range_records.h"
#include "core/node/snapshot_reference.h"
#include "core/redis/cleanup.h"
#include "core/route/catalog_command.h"
#include "core/util/assert.h"

namespace ekv::node {
namespace {

constexpr uint8_t kImageFormat = 1;
constexpr uint8_t kImageFormatWithOwnership = 2;  // kImageFormat + the group's ownership
// kImageFormatWithOwnership + the member directory; written only when it is not empty,
// so images of groups without members stay byte for byte what they were.
constexpr uint8_t kImageFormatWithMembers = 4;
static_assert(kSnapshotReferenceFormat != kImageFormat &&
              kSnapshotReferenceFormat != kImageFormatWithOwnership &&
              kSnapshotReferenceFormat != kImageFormatWithMembers);

// The group's own records in a durable engine (kv meta namespace).
constexpr absl::string_view kMaxTimestampRecord = "group_max_ts";
constexpr absl::string_view kCatalogRecord = "group_catalog";
constexpr absl::string_view kOwnershipRecord = "group_ownership";
constexpr absl::string_view kMembersRecord = "group_members";

// Reads of the latest committed state use a timestamp above every possible commit.
constexpr kv::Timestamp kLatest = kv::kMaxTimestamp - 1;

GroupResult FromStatus(const absl::Status& status) {
  GroupResult result;
  result.code = status.code();
  result.message = std::string(status.message());
  return result;
}

// A latest-state read (RawGet, RawScan) answers, with the versions it read, every
// transaction lock on a key it covers, as KeyIsLocked key errors (FirstLocksIn). A lock may
// belong to a transaction already committed at its primary in another group (the commit
// point) whose commit of this key has not arrived: a two-phase commit answers once its
// primary committed, and a lost secondary commit is left to readers. Reading past such a
// lock would miss a committed -- perhaps acknowledged -- write, and keep missing it, as
// nothing else rolls the lock forward (ekv-sim --seed 115 --workload dynamo). So the
// coordinator asks each lock's primary: if none had committed, the read stands (it was
// served before their commit points); else it resolves the lock and reads again.
// Up to kMaxScanLimit locks; more (the list is full) answer KeyIsLocked alone, and the
// reader resolves the first and reads again.
absl::StatusOr<std::vector<kv::KeyError>> FirstLocksIn(const kv::MvccStore& store,
                                                       absl::string_view start,
                                                       absl::string_view end) {
  absl::StatusOr<std::vector<kv::LockEntry>> locks = store.ScanLocks(start, end, kv::kMaxScanLimit);
  if (!locks.ok()) return locks.status();
  std::vector<kv::KeyError> errors;
  errors.reserve(locks->size());
  for (const kv::LockEntry& entry : *locks) {
    errors.push_back(kv::KeyIsLockedError(entry.key, entry.lock));
  }
  return errors;
}

ApplyResult ToApplyResult(const GroupResult& result) {
  ApplyResult out;
  out.ok = true;  // the reply carries the group result, success or not
  out.value = EncodeGroupResult(result);
  return out;
}

}  // namespace

GroupStateMachine::GroupStateMachine(raft::GroupId group,
                                     std::optional<route::RouteCatalog> catalog,
                                     std::optional<route::RouteCatalog> bootstrap,
                                     std::unique_ptr<kv::Engine> engine)
    : group_(group),
      engine_(engine != nullptr ? std::move(engine) : std::make_unique<kv::MemoryEngine>()),
      durable_(engine_->durable()),
      kv_(std::make_unique<kv::KvStateMachine>(engine_.get())),
      catalog_(std::move(catalog)) {
  const std::optional<route::RouteCatalog>& initial = bootstrap.has_value() ? bootstrap : catalog_;
  if (initial.has_value()) {
    ownership_.emplace(group_);
    ownership_->Apply(*initial);
  }
  if (catalog_.has_value() && ownership_.has_value()) ownership_->Apply(*catalog_);
  if (!durable_) return;
  if (kv_->applied_index() == 0) {
    // A new replica: its first applied batch records where it started.
    StageMaxTimestamp();
    StageCatalogAndOwnership();
    return;
  }
  absl::Status loaded = LoadDurableRecords();
  EKV_ASSERT(loaded.ok(), "group ", group_, ": durable state at applied index ",
             kv_->applied_index(), " is unreadable: ", loaded.ToString());
}

void GroupStateMachine::StageMaxTimestamp() {
  if (!durable_) return;
  std::string bytes;
  kv::AppendVarint64(&bytes, max_ts_);
  kv_->StageMeta(kMaxTimestampRecord, std::move(bytes));
}

void GroupStateMachine::StageCatalogAndOwnership() {
  if (!durable_) return;
  if (catalog_.has_value()) kv_->StageMeta(kCatalogRecord, catalog_->Encode());
  if (ownership_.has_value()) {
    std::string bytes;
    ownership_->Encode(&bytes);
    kv_->StageMeta(kOwnershipRecord, std::move(bytes));
  }
}

void GroupStateMachine::StageMembers() {
  if (!durable_) return;
  kv_->StageMeta(kMembersRecord, EncodeMemberDirectory(members_));
}

void GroupStateMachine::NotifyListeners() {
  if (catalog_listener_ && catalog_.has_value()) catalog_listener_(*catalog_);
  if (members_listener_ && catalog_.has_value()) members_listener_(members_);
}

absl::Status GroupStateMachine::LoadDurableRecords() {
  absl::StatusOr<std::optional<std::string>> max_ts = kv_->ReadMeta(kMaxTimestampRecord);
  if (!max_ts.ok()) return max_ts.status();
  if (max_ts->has_value()) {
    kv::ByteReader reader(**max_ts);
    auto value = reader.ReadVarint64();
    if (!value.ok()) return absl::DataLossError("group record max_ts: truncated");
    max_ts_ = *value;
  }
  absl::StatusOr<std::optional<std::string>> catalog = kv_->ReadMeta(kCatalogRecord);
  if (!catalog.ok()) return catalog.status();
  if (catalog->has_value()) {
    absl::StatusOr<route::RouteCatalog> decoded = route::RouteCatalog::Decode(**catalog);
    if (!decoded.ok()) return decoded.status();
    catalog_ = std::move(*decoded);
  }
  absl::StatusOr<std::optional<std::string>> ownership = kv_->ReadMeta(kOwnershipRecord);
  if (!ownership.ok()) return ownership.status();
  if (ownership->has_value()) {
    absl::StatusOr<route::GroupOwnership> decoded =
        route::GroupOwnership::Decode(group_, planted_route_, **ownership);
    if (!decoded.ok()) return decoded.status();
    ownership_ = std::move(*decoded);
  }
  absl::StatusOr<std::optional<std::string>> members = kv_->ReadMeta(kMembersRecord);
  if (!members.ok()) return members.status();
  if (members->has_value()) {
    absl::StatusOr<MemberDirectory> decoded = DecodeMemberDirectory(**members);
    if (!decoded.ok()) return decoded.status();
    members_ = std::move(*decoded);
  } else {
    members_.clear();
  }
  return absl::OkStatus();
}

void GroupStateMachine::SetPlantedRouteBugs(const route::PlantedRouteBugs& planted) {
  planted_route_ = planted;
  if (ownership_.has_value()) ownership_->set_planted(planted);
}

absl::Status GroupStateMachine::CheckKeyOwnership(absl::string_view key, uint64_t catalog_version,
                                                  route::AccessKind access) const {
  if (!ownership_.has_value()) return absl::OkStatus();
  return ownership_->CheckOwnership(key, catalog_version, access);
}

absl::Status GroupStateMachine::CheckRangeOwnership(absl::string_view start, absl::string_view end,
                                                    uint64_t catalog_version) const {
  if (!ownership_.has_value()) return absl::OkStatus();
  return ownership_->CheckRangeOwnership(start, end, catalog_version, route::AccessKind::kRead);
}

absl::Status GroupStateMachine::CheckKvCommandOwnership(const kv::KvCommand& command,
                                                        uint64_t catalog_version) const {
  if (!ownership_.has_value()) return absl::OkStatus();
  absl::Status status = absl::OkStatus();
  auto check = [&](absl::string_view key) {
    if (status.ok()) status = CheckKeyOwnership(key, catalog_version, route::AccessKind::kWrite);
  };
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, kv::RawWriteCommand> ||
                      std::is_same_v<T, kv::PrewriteCommand> ||
                      std::is_same_v<T, kv::OnePhaseCommitCommand>) {
          for (const kv::Mutation& m : c.mutations) check(m.key);
        } else if constexpr (std::is_same_v<T, kv::CommitCommand> ||
                             std::is_same_v<T, kv::RollbackCommand> ||
                             std::is_same_v<T, kv::ResolveLockCommand>) {
          for (const std::string& key : c.keys) check(key);
        } else if constexpr (std::is_same_v<T, kv::CheckTxnStatusCommand>) {
          check(c.primary);
        } else if constexpr (std::is_same_v<T, kv::ConditionalWriteCommand>) {
          check(c.mutation.key);
        } else if constexpr (std::is_same_v<T, kv::CompareAndSetCommand> ||
                             std::is_same_v<T, kv::IncrementCommand> ||
                             std::is_same_v<T, kv::AppendCommand> ||
                             std::is_same_v<T, kv::PutWithTtlCommand>) {
          check(c.key);
        } else {
          // Whole-group maintenance: no keys to check. GC collects only this group's
          // engine, so it cannot touch another group's data whatever its key range.
          static_assert(std::is_same_v<T, kv::SetHlcCeilingCommand> ||
                            std::is_same_v<T, kv::GcCommand> ||
                            std::is_same_v<T, kv::AdvanceReadFloorCommand>,
                        "every keyed kv command must be checked for ownership");
        }
      },
      command);
  return status;
}

kv::Timestamp GroupStateMachine::NextTimestamp(uint64_t physical_ms) {
  const uint64_t capped = std::min<uint64_t>(physical_ms, kv::kMaxPhysicalMs);
  const kv::Timestamp from_clock = kv::MakeTimestamp(capped, 0);
  // Above the read floor too: a snapshot read at read_ts was served only once a floor
  // >= read_ts applied, so a write applied after it never appears below that snapshot
  // (kv_state_machine.h, "Contract"; the oracle may issue read_ts before this write,
  // still in flight, applies).
  max_ts_ = std::max({from_clock, max_ts_ + 1, kv_->read_floor_ts() + 1});
  StageMaxTimestamp();
  return max_ts_;
}

void GroupStateMachine::Observe(kv::Timestamp ts) {
  if (ts <= max_ts_) return;
  max_ts_ = ts;
  StageMaxTimestamp();
}

ApplyResult GroupStateMachine::Apply(raft::Index index, const Command& command) {
  ApplyResult result = ApplyCommand(index, command);
  // Whatever the command changed of the group's own records must have been written in
  // its batch: left staged, it would land with a later entry and a restart would recover
  // a state that no replica ever had at this index.
  EKV_ASSERT(!kv_->has_staged_meta(), "group ", group_, ": entry ", index,
             " left group records staged after it was applied");
  EKV_ASSERT(kv_->applied_index() == index, "group ", group_, ": entry ", index,
             " was not marked applied");
  return result;
}

ApplyResult GroupStateMachine::ApplyCommand(raft::Index index, const Command& command) {
  if (command.kind != OpKind::kApply) {
    kv_->Skip(index);
    ApplyResult out;
    out.ok = false;
    out.failure_detail = "server groups accept only kApply commands";
    return out;
  }
  absl::StatusOr<GroupCommand> decoded = DecodeGroupCommand(command.value);
  if (!decoded.ok()) {
    kv_->Skip(index);
    return ToApplyResult(FromStatus(decoded.status()));
  }
  switch (decoded->op) {
    case GroupCommandOp::kKv:
      return ToApplyResult(ApplyKv(index, *decoded));
    case GroupCommandOp::kCatalog: {
      GroupResult result = ApplyCatalog(*decoded);
      kv_->Skip(index);
      return ToApplyResult(result);
    }
    case GroupCommandOp::kOwnership: {
      GroupResult result = ApplyOwnership(*decoded);
      kv_->Skip(index);
      return ToApplyResult(result);
    }
    case GroupCommandOp::kTimestampFloor: {
      GroupResult result = ApplyTimestampFloor(*decoded);
      kv_->Skip(index);  // after: a raised max timestamp rides in this entry's batch
      return ToApplyResult(result);
    }
    case GroupCommandOp::kMembers: {
      GroupResult result = ApplyMembers(*decoded);
      kv_->Skip(index);  // after: the changed directory rides in this entry's batch
      return ToApplyResult(result);
    }
    case GroupCommandOp::kIngestRange:
      return ToApplyResult(ApplyIngestRange(index, *decoded));
    case GroupCommandOp::kDeleteRange:
      return ToApplyResult(ApplyDeleteRange(index, *decoded));
    case GroupCommandOp::kTimestamp: {
      GroupResult result;
      result.ts = NextTimestamp(decoded->physical_ms);
      kv_->Skip(index);  // after: the new max timestamp rides in this entry's batch
      return ToApplyResult(result);
    }
  }
  EKV_UNREACHABLE("decoded an unknown group command op");
}

GroupResult GroupStateMachine::ApplyKv(raft::Index index, const GroupCommand& command) {
  if (redis_core::IsRedisRequest(command.payload)) return ApplyRedis(index, command);
  if (redis_core::IsCleanupPass(command.payload)) return ApplyRedisCleanup(index, command);
  absl::StatusOr<kv::KvCommand> decoded = kv::DecodeKvCommand(command.payload);
  if (!decoded.ok()) {
    kv_->Skip(index);
    return FromStatus(decoded.status());
  }
  kv::KvCommand& kv_command = *decoded;
  // Refused before anything changes, timestamps included: a refusal is a definite no-op.
  if (absl::Status owned = CheckKvCommandOwnership(kv_command, command.catalog_version);
      !owned.ok()) {
    kv_->Skip(index);
    return FromStatus(owned);
  }
  load_.RecordCommand(ownership_or_null(), kv_command);
  kv::Timestamp assigned = 0;
  // Server-chosen timestamps are assigned here, at apply, from the group's sequence.
  std::visit(
      [&](auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, kv::RawWriteCommand> ||
                      std::is_same_v<T, kv::CompareAndSetCommand> ||
                      std::is_same_v<T, kv::ConditionalWriteCommand> ||
                      std::is_same_v<T, kv::IncrementCommand> ||
                      std::is_same_v<T, kv::AppendCommand> ||
                      std::is_same_v<T, kv::PutWithTtlCommand>) {
          assigned = NextTimestamp(command.physical_ms);
          c.commit_ts = assigned;
        } else if constexpr (std::is_same_v<T, kv::PrewriteCommand>) {
          Observe(c.start_ts);
        } else if constexpr (std::is_same_v<T, kv::OnePhaseCommitCommand>) {
          // Chosen here when asked (0): above its snapshot and every read floor, and no
          // higher (kv_state_machine.h, "One-phase commit", says why both matter).
          if (c.commit_ts == 0) c.commit_ts = std::max(c.start_ts, kv_->read_floor_ts()) + 1;
          Observe(c.start_ts);
          Observe(c.commit_ts);
        } else if constexpr (std::is_same_v<T, kv::CommitCommand>) {
          Observe(c.start_ts);
          Observe(c.commit_ts);
        } else if constexpr (std::is_same_v<T, kv::ResolveLockCommand>) {
          Observe(c.commit_ts);
        } else if constexpr (std::is_same_v<T, kv::GcCommand>) {
          // Timestamps the group assigns from now on land above the safe point, so a
          // write made after a pass is never below what reads may use.
          Observe(c.safe_point);
        } else if constexpr (std::is_same_v<T, kv::AdvanceReadFloorCommand>) {
          // Bounds what reads at or below this floor are unsure of (kv_state_machine.h,
          // "Uncertainty"): every timestamp assigned before it is <= max_ts_.
          c.max_applied_ts = max_ts_;
        }
      },
      kv_command);
  kv::KvApplyResult applied = kv_->Apply(index, kv_command);
  GroupResult result = FromStatus(applied.status);
  result.ts = assigned != 0 ? assigned : applied.commit_ts;
  result.old_value = applied.old_value;
  result.value = applied.new_value;
  if (std::holds_alternative<kv::GcCommand>(kv_command) && applied.ok()) {
    // A GC pass answers with the safe point it ran at and where the next pass starts
    // (no value: done).
    result.ts = applied.gc_safe_point;
    result.value = applied.gc_resume_key;
  }
  result.txn_status = static_cast<uint8_t>(applied.txn_status);
  for (const kv::KeyError& error : applied.key_errors) {
    result.key_errors.push_back(ToGroupKeyError(error));
  }
  if (applied.lock.has_value()) {
    GroupKeyError lock;
    lock.key = applied.lock->primary;
    lock.lock_primary = applied.lock->primary;
    lock.lock_start_ts = applied.lock->start_ts;
    lock.lock_ttl_ms = applied.lock->ttl_ms;
    lock.retryable = true;
    lock.message = "transaction lock is alive";
    result.key_errors.push_back(std::move(lock));
  }
  return result;
}

GroupResult GroupStateMachine::ApplyCatalog(const GroupCommand& command) {
  if (!catalog_.has_value()) {
    return FromStatus(absl::FailedPreconditionError(
        absl::StrCat("group ", group_, " does not host the route catalog")));
  }
  absl::StatusOr<route::CatalogCommand> decoded = route::CatalogCommand::Decode(command.payload);
  if (!decoded.ok()) return FromStatus(decoded.status());
  GroupResult result;
  if (const auto* split = std::get_if<route::SplitRange>(&decoded->op)) {
    absl::StatusOr<route::SplitResult> done = catalog_->Split(*split);
    if (!done.ok()) return FromStatus(done.status());
    result.ts = done->catalog_version;
    route::EncodeRoute(&result.blob, done->left);
    route::EncodeRoute(&result.blob, done->right);
    if (ownership_.has_value()) ownership_->Apply(*catalog_);
    StageCatalogAndOwnership();
    if (catalog_listener_) catalog_listener_(*catalog_);
    return result;
  }
  if (const auto* merge = std::get_if<route::MergeRanges>(&decoded->op)) {
    // Its own branch only for the planted bug; the answer is the delta, as below.
    absl::StatusOr<route::MergeResult> done =
        catalog_->Merge(*merge, route::PlantedCatalogBugs{planted_route_.merge_across_groups});
    if (!done.ok()) return FromStatus(done.status());
    result.ts = done->catalog_version;
    done->delta.Encode(&result.blob);
    if (ownership_.has_value()) ownership_->Apply(*catalog_);
    StageCatalogAndOwnership();
    if (catalog_listener_) catalog_listener_(*catalog_);
    return result;
  }
  route::PlantedCatalogBugs plants;
  plants.keep_retired_group = planted_route_.keep_retired_group;
  absl::StatusOr<route::CatalogDelta> delta = catalog_->Apply(*decoded, plants);
  if (!delta.ok()) return FromStatus(delta.status());
  result.ts = delta->version;
  delta->Encode(&result.blob);
  if (ownership_.has_value()) ownership_->Apply(*catalog_);
  StageCatalogAndOwnership();
  if (catalog_listener_) catalog_listener_(*catalog_);
  return result;
}

GroupResult GroupStateMachine::ApplyMembers(const GroupCommand& command) {
  if (!catalog_.has_value()) {
    return FromStatus(absl::FailedPreconditionError(
        absl::StrCat("group ", group_, " does not host the member directory")));
  }
  absl::StatusOr<MemberChange> change = DecodeMemberChange(command.payload);
  if (!change.ok()) return FromStatus(change.status());
  if (absl::Status valid = ValidateMemberChange(*change); !valid.ok()) return FromStatus(valid);
  if (ApplyMemberChange(*change, &members_)) {
    StageMembers();
    if (members_listener_) members_listener_(members_);
  }
  GroupResult result;
  result.blob = EncodeMemberDirectory(members_);
  return result;
}

GroupResult GroupStateMachine::ApplyOwnership(const GroupCommand& command) {
  absl::StatusOr<route::RouteCatalog> catalog = route::RouteCatalog::Decode(command.payload);
  if (!catalog.ok()) return FromStatus(catalog.status());
  if (!ownership_.has_value()) {
    ownership_.emplace(group_, planted_route_);
  }
  // Older than what this group knows: ignored (updates may arrive in any order).
  ownership_->Apply(*catalog);
  StageCatalogAndOwnership();
  GroupResult result;
  result.ts = ownership_->version();
  return result;
}

GroupResult GroupStateMachine::ApplyIngestRange(raft::Index index, const GroupCommand& command) {
  absl::StatusOr<IngestRangeRequest> request = DecodeIngestRange(command.payload);
  if (!request.ok()) {
    kv_->Skip(index);
    return FromStatus(request.status());
  }
  // A group that does not know what it owns cannot know it is receiving a range either.
  absl::Status allowed =
      ownership_.has_value()
          ? ownership_->CheckIngest(request->route_id, request->start, request->end,
                                    request->move_catalog_version)
          : absl::FailedPreconditionError(absl::StrCat(
                "group ", group_, " tracks no ownership and cannot receive a range move"));
  if (!allowed.ok()) {
    kv_->Skip(index);
    return FromStatus(allowed);
  }
  kv::Timestamp chunk_max_ts = 0;
  absl::StatusOr<kv::MvccBatch> batch = BuildIngestBatch(*engine_, *request, &chunk_max_ts);
  if (!batch.ok()) {
    kv_->Skip(index);
    return FromStatus(batch.status());
  }
  // Timestamps this group assigns later must land above every version it now holds.
  Observe(chunk_max_ts);
  kv_->ApplyPrepared(index, std::move(*batch));
  GroupResult result;
  result.ts = max_ts_;
  return result;
}

GroupResult GroupStateMachine::ApplyDeleteRange(raft::Index index, const GroupCommand& command) {
  absl::StatusOr<DeleteRangeRequest> request = DecodeDeleteRange(command.payload);
  if (!request.ok()) {
    kv_->Skip(index);
    return FromStatus(request.status());
  }
  absl::Status allowed =
      ownership_.has_value()
          ? ownership_->CheckDeleteRange(request->start, request->end,
                                         request->decided_catalog_version)
          : absl::FailedPreconditionError(
                absl::StrCat("group ", group_,
                             " tracks no ownership and cannot prove the range is not its own"));
  if (!allowed.ok()) {
    kv_->Skip(index);
    return FromStatus(allowed);
  }
  absl::StatusOr<kv::MvccBatch> batch =
      BuildDeleteRangeBatch(*engine_, request->start, request->end);
  if (!batch.ok()) {
    kv_->Skip(index);
    return FromStatus(batch.status());
  }
  kv_->ApplyPrepared(index, std::move(*batch));
  return GroupResult{};
}

GroupResult GroupStateMachine::QueryExportRange(absl::string_view payload) const {
  absl::StatusOr<ExportRangeRequest> request = DecodeExportRange(payload);
  if (!request.ok()) return FromStatus(request.status());
  if (ownership_.has_value()) {
    if (absl::Status held = ownership_->CheckHoldsRange(request->start, request->end); !held.ok()) {
      return FromStatus(held);
    }
  }
  absl::StatusOr<RangeChunk> chunk = ExportRangeChunk(*engine_, *request);
  if (!chunk.ok()) return FromStatus(chunk.status());
  GroupResult result;
  result.pairs = std::move(chunk->records);
  result.value = std::move(chunk->next_cursor);
  result.ts = max_ts_;
  return result;
}

GroupResult GroupStateMachine::ApplyTimestampFloor(const GroupCommand& command) {
  kv::ByteReader reader(command.payload);
  auto floor_ts = reader.ReadVarint64();
  auto above_ceiling = reader.ReadByte();
  if (!floor_ts.ok() || !above_ceiling.ok() || *above_ceiling > 1 ||
      !reader.ExpectEnd("timestamp floor").ok()) {
    return FromStatus(absl::InvalidArgumentError("timestamp floor: malformed payload"));
  }
  Observe(*floor_ts);
  if (*above_ceiling == 1) {
    const uint64_t ceiling = std::min<uint64_t>(kv_->hlc_ceiling_ms() + 1, kv::kMaxPhysicalMs);
    Observe(kv::MakeTimestamp(ceiling, 0));
  }
  GroupResult result;
  result.ts = max_ts_;
  return result;
}

uint64_t GroupStateMachine::QueryReadTimestamp(std::string_view payload) const {
  absl::StatusOr<GroupQuery> query =
      DecodeGroupQuery(absl::string_view(payload.data(), payload.size()));
  if (!query.ok() || query->op != GroupQueryOp::kKv) return 0;
  absl::StatusOr<kv::KvQuery> kv_query = DecodeKvQuery(query->payload);
  if (!kv_query.ok() || kv_query->kind == kv::KvQuery::Kind::kLatestCommitTs) return 0;
  // kLatest-style reads (at the maximum) need no floor: no commit_ts can reach them.
  return kv_query->read_ts >= kLatest ? 0 : kv_query->read_ts;
}

std::string GroupStateMachine::EncodeCeilingCommand(uint64_t ceiling_ms) const {
  GroupCommand command;
  command.op = GroupCommandOp::kKv;
  command.payload = kv::EncodeKvCommand(kv::SetHlcCeilingCommand{ceiling_ms});
  return EncodeGroupCommand(command);
}

std::string GroupStateMachine::EncodeTimestampFloorCommand(uint64_t floor_ts,
                                                           bool above_ceiling) const {
  GroupCommand command;
  command.op = GroupCommandOp::kTimestampFloor;
  kv::AppendVarint64(&command.payload, floor_ts);
  kv::AppendByte(&command.payload, above_ceiling ? 1 : 0);
  return EncodeGroupCommand(command);
}

std::string GroupStateMachine::EncodeReadFloorCommand(uint64_t floor_ts) const {
  GroupCommand command;
  command.op = GroupCommandOp::kKv;
  command.payload = kv::EncodeKvCommand(kv::AdvanceReadFloorCommand{floor_ts});
  return EncodeGroupCommand(command);
}

void GroupStateMachine::Skip(raft::Index index) { kv_->Skip(index); }

std::vector<RouteLoad> GroupStateMachine::RouteLoads() const {
  return load_.Loads(ownership_or_null());
}

void GroupStateMachine::SetPlantedKvBugs(const kv::PlantedKvBugs& planted) {
  planted_ = planted;
  kv_->set_planted(planted);
}

void GroupStateMachine::SetCatalogListener(CatalogListener listener) {
  catalog_listener_ = std::move(listener);
  if (catalog_listener_ && catalog_.has_value()) catalog_listener_(*catalog_);
}

void GroupStateMachine::SetMembersListener(MembersListener listener) {
  members_listener_ = std::move(listener);
  if (members_listener_ && catalog_.has_value()) members_listener_(members_);
}

std::optional<std::string> GroupStateMachine::Read(std::string_view key) const {
  // The register interface is not used by server groups; answer from MVCC for checkers.
  absl::StatusOr<std::optional<std::string>> value =
      kv_->store().Get(absl::string_view(key.data(), key.size()), kLatest);
  if (!value.ok()) return std::nullopt;
  return *value;
}

GroupResult GroupStateMachine::QueryKv(absl::string_view payload, uint64_t catalog_version) const {
  if (redis_core::IsRedisRequest(payload)) return QueryRedis(payload, catalog_version);
  absl::StatusOr<kv::KvQuery> query = DecodeKvQuery(payload);
  if (!query.ok()) return FromStatus(query.status());
  absl::Status owned =
      query->kind == kv::KvQuery::Kind::kScan
          ? CheckRangeOwnership(query->key, query->end_key, catalog_version)
          : CheckKeyOwnership(query->key, catalog_version, route::AccessKind::kRead);
  if (!owned.ok()) return FromStatus(owned);
  kv::KvQueryResult answer = kv_->Query(*query);
  GroupResult result = FromStatus(answer.status);
  if (answer.locked.has_value()) result.key_errors.push_back(ToGroupKeyError(*answer.locked));
  result.value = answer.value;
  for (const kv::KvPair& pair : answer.pairs) result.pairs.emplace_back(pair.key, pair.value);
  if (answer.latest_commit_ts.has_value()) result.ts = *answer.latest_commit_ts;
  result.restart_above = answer.restart_above;
  load_.RecordRead(ownership_or_null(), query->key, result);
  return result;
}

std::optional<std::string> GroupStateMachine::Query(std::string_view payload) const {
  absl::StatusOr<GroupQuery> query =
      DecodeGroupQuery(absl::string_view(payload.data(), payload.size()));
  if (!query.ok()) return EncodeGroupResult(FromStatus(query.status()));
  GroupResult result;
  switch (query->op) {
    case GroupQueryOp::kKv:
      result = QueryKv(query->payload, query->catalog_version);
      break;
    case GroupQueryOp::kCatalog:
      if (!catalog_.has_value()) {
        result = FromStatus(absl::FailedPreconditionError(
            absl::StrCat("group ", group_, " does not host the route catalog")));
      } else {
        result.ts = catalog_->version();
        result.blob = catalog_->Encode();
      }
      break;
    case GroupQueryOp::kMembers:
      if (!catalog_.has_value()) {
        result = FromStatus(absl::FailedPreconditionError(
            absl::StrCat("group ", group_, " does not host the member directory")));
      } else {
        result.blob = EncodeMemberDirectory(members_);
      }
      break;
    case GroupQueryOp::kExportRange:
      result = QueryExportRange(query->payload);
      break;
    case GroupQueryOp::kRouteLoads:
      result.blob = EncodeRouteLoadReports(load_.Reports(ownership_or_null()));
      break;
    case GroupQueryOp::kRawGet: {
      if (absl::Status owned =
              CheckKeyOwnership(query->payload, query->catalog_version, route::AccessKind::kRead);
          !owned.ok()) {
        result = FromStatus(owned);
        break;
      }
      const std::string& key = query->payload;
      absl::StatusOr<std::optional<kv::LockRecord>> lock = kv_->store().GetLock(key);
      if (!lock.ok()) {
        result = FromStatus(lock.status());
        load_.RecordRead(ownership_or_null(), key, result);
        break;
      }
      // The version below a lock, with the lock (FirstLocksIn says why).
      if (lock->has_value()) {
        result.key_errors.push_back(ToGroupKeyError(kv::KeyIsLockedError(key, **lock)));
      }
      absl::StatusOr<std::optional<std::string>> value = kv_->store().Get(key, kLatest);
      if (!value.ok()) {
        result = FromStatus(value.status());
      } else {
        result.value = *value;
      }
      load_.RecordRead(ownership_or_null(), query->payload, result);
      break;
    }
    case GroupQueryOp::kRawScan: {
      kv::ByteReader reader(query->payload);
      auto start = reader.ReadLengthPrefixed();
      auto end = reader.ReadLengthPrefixed();
      auto limit = reader.ReadVarint64();
      if (!start.ok() || !end.ok() || !limit.ok() || *limit == 0 || *limit > kv::kMaxScanLimit) {
        result = FromStatus(absl::InvalidArgumentError(
            absl::StrCat("raw scan needs start, end and a limit in 1..", kv::kMaxScanLimit)));
        break;
      }
      if (absl::Status owned = CheckRangeOwnership(*start, *end, query->catalog_version);
          !owned.ok()) {
        result = FromStatus(owned);
        break;
      }
      auto pairs = kv_->store().Scan(*start, *end, *limit, kLatest);
      if (!pairs.ok()) {
        result = FromStatus(pairs.status());
        load_.RecordRead(ownership_or_null(), *start, result);
        break;
      }
      // Locks matter up to the last key read when the limit cut the scan short.
      std::string lock_end(*end);
      if (pairs->size() == *limit) lock_end = pairs->back().key + std::string(1, '\0');
      absl::StatusOr<std::vector<kv::KeyError>> locked =
          FirstLocksIn(kv_->store(), *start, lock_end);
      if (!locked.ok()) {
        result = FromStatus(locked.status());
      } else if (locked->size() >= kv::kMaxScanLimit) {
        result = FromStatus(kv::KeyErrorStatus(locked->front()));
        result.key_errors.push_back(ToGroupKeyError(locked->front()));
      } else {
        for (const kv::KvPair& pair : *pairs) result.pairs.emplace_back(pair.key, pair.value);
        for (const kv::KeyError& error : *locked) {
          result.key_errors.push_back(ToGroupKeyError(error));
        }
      }
      load_.RecordRead(ownership_or_null(), *start, result);
      break;
    }
  }
  return EncodeGroupResult(result);
}

std::string GroupStateMachine::SnapshotImage() const {
  if (durable_) return EncodeSnapshotReference({kv_->applied_index(), ""});
  std::string out;
  // Without ownership the image is byte for byte the format-1 image.
  const bool with_members = !members_.empty();
  EKV_ASSERT(!with_members || ownership_.has_value(), "group ", group_,
             " has members but no ownership");
  kv::AppendByte(&out, with_members             ? kImageFormatWithMembers
                       : ownership_.has_value() ? kImageFormatWithOwnership
                                                : kImageFormat);
  kv::AppendVarint64(&out, max_ts_);
  kv::AppendLengthPrefixed(&out, kv_->SnapshotImage());
  kv::AppendByte(&out, catalog_.has_value() ? 1 : 0);
  if (catalog_.has_value()) kv::AppendLengthPrefixed(&out, catalog_->Encode());
  if (ownership_.has_value()) {
    std::string ownership;
    ownership_->Encode(&ownership);
    kv::AppendLengthPrefixed(&out, ownership);
  }
  if (with_members) kv::AppendLengthPrefixed(&out, EncodeMemberDirectory(members_));
  return out;
}

absl::Status GroupStateMachine::RestoreFromReference(std::string_view image, raft::Index index) {
  if (!durable_) {
    return absl::DataLossError(
        absl::StrCat("group ", group_, ": a snapshot by reference reached a group kept in memory"));
  }
  absl::StatusOr<SnapshotReference> reference = DecodeSnapshotReference(image);
  if (!reference.ok()) return reference.status();
  // The engine may already be at or past the snapshot: a restart after the staged copy
  // was installed, or state that outran the log. Its applied entries are committed ones,
  // so it is a valid state at least as new as the snapshot (NodeHost skips the rest).
  if (kv_->applied_index() >= index) {
    if (!reference->staged_ref.empty()) engine_->DiscardStaged(reference->staged_ref);
    return absl::OkStatus();
  }
  if (reference->staged_ref.empty()) {
    return absl::DataLossError(absl::StrCat("group ", group_, ": state is at applied index ",
                                            kv_->applied_index(), ", the snapshot at ", index,
                                            ", and no staged copy of the snapshot was received"));
  }
  if (absl::Status s = engine_->ReplaceWithStaged(reference->staged_ref); !s.ok()) return s;
  kv_ = std::make_unique<kv::KvStateMachine>(engine_.get());
  kv_->set_planted(planted_);
  if (absl::Status s = LoadDurableRecords(); !s.ok()) return s;
  if (kv_->applied_index() < index) {
    return absl::DataLossError(absl::StrCat("group ", group_,
                                            ": installed snapshot is at applied index ",
                                            kv_->applied_index(), ", older than ", index));
  }
  NotifyListeners();
  return absl::OkStatus();
}

absl::Status GroupStateMachine::Restore(std::string_view image, raft::Index index) {
  if (IsSnapshotReference(image)) return RestoreFromReference(image, index);
  // A durable group meets an image only in a data dir written before state machines were
  // durable (its last Raft snapshot is such an image): the engine either already holds
  // that state (restarted since the upgrade) or takes it over now.
  if (durable_ && kv_->applied_index() >= index) return absl::OkStatus();
  kv::ByteReader reader(absl::string_view(image.data(), image.size()));
  auto format = reader.ReadByte();
  if (!format.ok() || (*format != kImageFormat && *format != kImageFormatWithOwnership &&
                       *format != kImageFormatWithMembers)) {
    return absl::DataLossError("group snapshot: unknown format");
  }
  auto max_ts = reader.ReadVarint64();
  auto kv_image = reader.ReadLengthPrefixed();
  auto has_catalog = reader.ReadByte();
  if (!max_ts.ok() || !kv_image.ok() || !has_catalog.ok() || *has_catalog > 1) {
    return absl::DataLossError("group snapshot: truncated header");
  }
  std::optional<route::RouteCatalog> catalog;
  if (*has_catalog == 1) {
    auto bytes = reader.ReadLengthPrefixed();
    if (!bytes.ok()) return absl::DataLossError("group snapshot: truncated catalog");
    absl::StatusOr<route::RouteCatalog> decoded = route::RouteCatalog::Decode(*bytes);
    if (!decoded.ok()) return decoded.status();
    catalog = std::move(*decoded);
  }
  std::optional<route::GroupOwnership> ownership;
  if (*format == kImageFormatWithOwnership || *format == kImageFormatWithMembers) {
    auto bytes = reader.ReadLengthPrefixed();
    if (!bytes.ok()) return absl::DataLossError("group snapshot: truncated ownership");
    absl::StatusOr<route::GroupOwnership> decoded =
        route::GroupOwnership::Decode(group_, planted_route_, *bytes);
    if (!decoded.ok()) return decoded.status();
    ownership = std::move(*decoded);
  } else if (catalog.has_value()) {
    // A format-1 image of the catalog group: its ownership follows from the catalog.
    ownership.emplace(group_, planted_route_);
    ownership->Apply(*catalog);
  }
  MemberDirectory members;
  if (*format == kImageFormatWithMembers) {
    auto bytes = reader.ReadLengthPrefixed();
    if (!bytes.ok()) return absl::DataLossError("group snapshot: truncated member directory");
    absl::StatusOr<MemberDirectory> decoded = DecodeMemberDirectory(*bytes);
    if (!decoded.ok()) return decoded.status();
    members = std::move(*decoded);
  }
  if (absl::Status s = reader.ExpectEnd("group snapshot"); !s.ok()) return s;
  if (durable_) {
    // Validated before anything is written (KvStateMachine::Restore is all or nothing).
    if (absl::Status s = kv_->Restore(*kv_image); !s.ok()) return s;
    if (kv_->applied_index() != index) {
      return absl::DataLossError(absl::StrCat("group snapshot: image is at applied index ",
                                              kv_->applied_index(), ", expected ", index));
    }
    max_ts_ = *max_ts;
    if (catalog.has_value() || !catalog_.has_value()) catalog_ = std::move(catalog);
    if (ownership.has_value()) ownership_ = std::move(ownership);
    members_ = std::move(members);
    StageMaxTimestamp();
    StageCatalogAndOwnership();
    StageMembers();
    if (absl::Status s = kv_->FlushStagedMeta(); !s.ok()) return s;
    NotifyListeners();
    return absl::OkStatus();
  }
  auto engine = std::make_unique<kv::MemoryEngine>();
  auto restored = std::make_unique<kv::KvStateMachine>(engine.get());
  if (absl::Status s = restored->Restore(*kv_image); !s.ok()) return s;
  restored->set_planted(planted_);
  if (restored->applied_index() != index) {
    return absl::DataLossError(absl::StrCat("group snapshot: image is at applied index ",
                                            restored->applied_index(), ", expected ", index));
  }
  kv_ = std::move(restored);
  engine_ = std::move(engine);
  max_ts_ = *max_ts;
  if (catalog.has_value() || !catalog_.has_value()) catalog_ = std::move(catalog);
  // A format-1 image of another group says nothing about ownership: keep what we have.
  if (ownership.has_value()) ownership_ = std::move(ownership);
  members_ = std::move(members);
  NotifyListeners();
  return absl::OkStatus();
}

uint64_t GroupStateMachine::Digest() const {
  uint64_t digest = kv_->Digest() ^ (max_ts_ * 0x9e3779b97f4a7c15ULL);
  if (catalog_.has_value()) digest ^= catalog_->Digest() * 0xbf58476d1ce4e5b9ULL;
  if (!members_.empty()) {
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (char c : EncodeMemberDirectory(members_)) {
      hash ^= static_cast<uint8_t>(c);
      hash *= 0x100000001b3ULL;
    }
    digest ^= hash * 0xd6e8feb86659fd93ULL;
  }
  if (ownership_.has_value()) {
    std::string bytes;
    ownership_->Encode(&bytes);
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (char c : bytes) {
      hash ^= static_cast<uint8_t>(c);
      hash *= 0x100000001b3ULL;
    }
    digest ^= hash * 0x94d049bb133111ebULL;
  }
  return digest;
}

}  // namespace ekv::node
