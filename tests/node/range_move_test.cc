// The group side of a cross-group range move: kExportRange on the source, kIngestRange on
// the target, kDeleteRange for the cleanup, and the ownership rules around them. The
// reference for "moved correctly" is a third group that received the same commands
// directly: after the move the target must answer every read at every timestamp as it
// does, hold the same raw records of the range byte for byte, and keep an open
// transaction's lock so that the transaction commits on the target.
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/kv/key_codec.h"
#include "core/kv/kv_command.h"
#include "core/kv/kv_state_machine.h"
#include "core/kv/memory_engine.h"
#include "core/kv/records.h"
#include "core/node/group_protocol.h"
#include "core/node/group_state_machine.h"
#include "core/node/range_records.h"
#include "core/redis/request.h"
#include "core/route/catalog.h"
#include "core/route/catalog_command.h"
#include "core/route/ownership.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ekv::node {
namespace {

using ::testing::HasSubstr;

constexpr raft::GroupId kSource = 1;
constexpr raft::GroupId kTarget = 3;
constexpr route::RouteId kMovedRoute = 1;  // ["", "m") on group 1

// One group's state machine with its own log index.
struct Group {
  explicit Group(raft::GroupId id, const route::RouteCatalog& bootstrap,
                 std::unique_ptr<kv::MemoryEngine> memory = std::make_unique<kv::MemoryEngine>())
      : engine(memory.get()), machine(id, std::nullopt, bootstrap, std::move(memory)) {}

  GroupResult Apply(GroupCommand command) {
    Command entry;
    entry.kind = OpKind::kApply;
    entry.value = EncodeGroupCommand(command);
    ApplyResult applied = machine.Apply(++index, entry);
    EXPECT_TRUE(applied.ok);
    absl::StatusOr<GroupResult> result = DecodeGroupResult(applied.value.value_or(""));
    EXPECT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(machine.applied_index(), index);  // applied, refused or not
    return result.ok() ? *result : GroupResult{};
  }
  GroupResult Query(const GroupQuery& query) const {
    std::optional<std::string> answer = machine.Query(EncodeGroupQuery(query));
    EXPECT_TRUE(answer.has_value());
    absl::StatusOr<GroupResult> result = DecodeGroupResult(answer.value_or(""));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : GroupResult{};
  }

  // The machine's engine, to check its raw records whatever the group owns.
  const kv::MemoryEngine* engine;
  GroupStateMachine machine;
  raft::Index index = 0;
};

GroupCommand Kv(const kv::KvCommand& command, uint64_t catalog_version = 0) {
  GroupCommand out;
  out.op = GroupCommandOp::kKv;
  out.physical_ms = 1000;
  out.payload = kv::EncodeKvCommand(command);
  out.catalog_version = catalog_version;
  return out;
}

GroupCommand Redis(std::vector<std::string> args) {
  redis_core::RedisRequest request;
  request.routing_key = args.at(1);
  request.now_ms = 1000;
  request.commands.push_back(std::move(args));
  GroupCommand out;
  out.op = GroupCommandOp::kKv;
  out.physical_ms = 1000;
  out.payload = redis_core::EncodeRedisRequest(request);
  return out;
}

GroupCommand Ownership(const route::RouteCatalog& catalog) {
  GroupCommand out;
  out.op = GroupCommandOp::kOwnership;
  out.payload = catalog.Encode();
  return out;
}

GroupCommand Ingest(const IngestRangeRequest& request) {
  GroupCommand out;
  out.op = GroupCommandOp::kIngestRange;
  out.payload = EncodeIngestRange(request);
  return out;
}

GroupCommand DeleteRange(std::string start, std::string end, uint64_t decided_version) {
  GroupCommand out;
  out.op = GroupCommandOp::kDeleteRange;
  out.payload = EncodeDeleteRange({std::move(start), std::move(end), decided_version});
  return out;
}

GroupQuery Export(std::string start, std::string end, std::string cursor, uint64_t max_bytes) {
  GroupQuery query;
  query.op = GroupQueryOp::kExportRange;
  query.payload =
      EncodeExportRange({std::move(start), std::move(end), std::move(cursor), max_bytes});
  return query;
}

// Every chunk of an export of [start, end) with `max_bytes`, in order.
std::vector<IngestRangeRequest> ExportAll(const Group& group, const std::string& start,
                                          const std::string& end, uint64_t max_bytes,
                                          uint64_t move_version) {
  std::vector<IngestRangeRequest> chunks;
  std::string cursor;
  for (int guard = 0; guard < 100000; ++guard) {
    GroupResult result = group.Query(Export(start, end, cursor, max_bytes));
    EXPECT_EQ(result.code, absl::StatusCode::kOk) << result.message;
    if (result.code != absl::StatusCode::kOk) break;
    IngestRangeRequest chunk;
    chunk.route_id = kMovedRoute;
    chunk.move_catalog_version = move_version;
    chunk.start = start;
    chunk.end = end;
    chunk.from_cursor = cursor;
    chunk.to_cursor = result.value.value_or("");
    chunk.records = result.pairs;
    cursor = chunk.to_cursor;
    chunks.push_back(std::move(chunk));
    if (cursor.empty()) break;
  }
  return chunks;
}

std::vector<RawRecord> Records(const std::vector<IngestRangeRequest>& chunks) {
  std::vector<RawRecord> out;
  for (const IngestRangeRequest& chunk : chunks) {
    out.insert(out.end(), chunk.records.begin(), chunk.records.end());
  }
  return out;
}

// The group's raw records of [start, end), read from its engine directly.
std::vector<RawRecord> RecordsOf(const Group& group, const std::string& start,
                                 const std::string& end) {
  absl::StatusOr<RangeChunk> chunk =
      ExportRangeChunk(*group.engine, {start, end, "", kMaxRangeChunkBytes});
  EXPECT_TRUE(chunk.ok()) << chunk.status();
  EXPECT_TRUE(chunk.ok() && chunk->next_cursor.empty());
  return chunk.ok() ? chunk->records : std::vector<RawRecord>{};
}

GroupQuery KvRead(const kv::KvQuery& query, uint64_t catalog_version) {
  GroupQuery out;
  out.op = GroupQueryOp::kKv;
  out.payload = EncodeKvQuery(query);
  out.catalog_version = catalog_version;
  return out;
}

// What a read answered, in a form two groups can be compared by (messages name groups).
std::string Answer(const GroupResult& result) {
  std::string out = absl::StrCat("code=", static_cast<int>(result.code),
                                 " value=", result.value.value_or("<none>"));
  for (const auto& [key, value] : result.pairs) absl::StrAppend(&out, " ", key, "=", value);
  for (const GroupKeyError& error : result.key_errors) {
    absl::StrAppend(&out, " locked:", error.key, " primary=", error.lock_primary,
                    " start_ts=", error.lock_start_ts, " ttl=", error.lock_ttl_ms);
  }
  return out;
}

route::RouteCatalog Catalog() {
  absl::StatusOr<route::RouteCatalog> catalog =
      route::RouteCatalog::Bootstrap({{"", "m", kSource}, {"m", "", 2}});
  EXPECT_TRUE(catalog.ok());
  return *catalog;
}

route::RouteCatalog Next(route::RouteCatalog catalog, route::CatalogCommand command) {
  absl::StatusOr<route::CatalogDelta> delta = catalog.Apply(command);
  EXPECT_TRUE(delta.ok()) << route::FormatCommand(command) << ": " << delta.status();
  return catalog;
}

class RangeMoveTest : public ::testing::Test {
 protected:
  RangeMoveTest()
      : catalog_(Catalog()),
        source_(kSource, catalog_),
        direct_(kSource, catalog_),
        target_(kTarget, catalog_) {}

  // The same command on the source and on the reference group; both must agree.
  GroupResult Both(const GroupCommand& command) {
    GroupResult on_source = source_.Apply(command);
    GroupResult on_direct = direct_.Apply(command);
    EXPECT_EQ(Answer(on_source), Answer(on_direct));
    EXPECT_EQ(on_source.ts, on_direct.ts);
    return on_source;
  }
  void PushCatalog(const route::RouteCatalog& catalog) {
    catalog_ = catalog;
    EXPECT_EQ(source_.Apply(Ownership(catalog)).code, absl::StatusCode::kOk);
    EXPECT_EQ(target_.Apply(Ownership(catalog)).code, absl::StatusCode::kOk);
  }
  void Write(const std::string& key, const std::string& value) {
    kv::RawWriteCommand write;
    write.mutations.push_back(kv::Mutation::Put(key, value));
    EXPECT_EQ(Both(Kv(write)).code, absl::StatusCode::kOk);
  }
  void Prewrite(const std::vector<std::string>& keys, kv::Timestamp start_ts) {
    kv::PrewriteCommand prewrite;
    for (const std::string& key : keys) {
      prewrite.mutations.push_back(kv::Mutation::Put(key, absl::StrCat("txn", start_ts)));
    }
    prewrite.primary = keys.front();
    prewrite.start_ts = start_ts;
    prewrite.lock_ttl_ms = 3000;
    GroupResult result = Both(Kv(prewrite));
    EXPECT_EQ(result.code, absl::StatusCode::kOk) << result.message;
  }
  // A workload over ["", "m") touching every kind of record a range holds.
  void Workload(int round) {
    const std::string r = std::to_string(round);
    Write("a", "a" + r);
    Write(std::string("b\0b", 3), "zero byte " + r);
    Write("c", "c" + r);
    kv::RawWriteCommand remove;
    remove.mutations.push_back(kv::Mutation::Delete("c"));
    EXPECT_EQ(Both(Kv(remove)).code, absl::StatusCode::kOk);
    kv::PutWithTtlCommand ttl;
    ttl.key = "e";
    ttl.value = "expiring " + r;
    ttl.ttl_ms = 500;
    EXPECT_EQ(Both(Kv(ttl)).code, absl::StatusCode::kOk);
    EXPECT_EQ(Both(Redis({"HSET", "h" + r, "f1", "v1", "f2", "v2"})).code, absl::StatusCode::kOk);
    EXPECT_EQ(Both(Redis({"RPUSH", "list", "x" + r, "y" + r})).code, absl::StatusCode::kOk);
    EXPECT_EQ(Both(Redis({"SADD", std::string(300, 'k'), "m" + r})).code, absl::StatusCode::kOk);
  }
  kv::Timestamp MaxTimestamp() const { return direct_.machine.max_timestamp(); }

  // Every timestamp at which a read's answer can change (each version, lock and expiry
  // of the range, and one either side), plus the first and one past the newest.
  std::set<kv::Timestamp> InterestingTimestamps() const {
    std::set<kv::Timestamp> out = {1, MaxTimestamp() + 1};
    auto add = [&](kv::Timestamp ts) {
      out.insert(ts - 1);
      out.insert(ts);
      out.insert(ts + 1);
    };
    for (const RawRecord& record : RecordsOf(direct_, "", "m")) {
      const char prefix = record.first[0];
      if (prefix == kv::kDataPrefix || prefix == kv::kTxnStatusPrefix) {
        add(kv::VersionedKeyTimestamp(record.first));
      } else if (prefix == kv::kExpiryPrefix) {
        add(kv::VersionedKeyTimestamp(record.first));
        add(kv::DecodeFixed64BigEndian(record.second));
      } else if (prefix == kv::kLockPrefix) {
        absl::StatusOr<kv::LockRecord> lock = kv::DecodeLockRecord(record.second);
        EXPECT_TRUE(lock.ok());
        if (lock.ok()) add(lock->start_ts);
      }
    }
    return out;
  }

  // Reads of every key at every interesting timestamp, on the target (routed at
  // `version`) and on the reference group: identical answers, locks included.
  void ExpectSameReads(uint64_t version) {
    const std::vector<std::string> keys = {"a", std::string("b\0b", 3), "c", "d", "e", "f", "g"};
    const std::set<kv::Timestamp> timestamps = InterestingTimestamps();
    EXPECT_GT(timestamps.size(), 20u);
    for (kv::Timestamp ts : timestamps) {
      for (const std::string& key : keys) {
        const kv::KvQuery get = kv::KvQuery::Get(key, ts);
        ASSERT_EQ(Answer(target_.Query(KvRead(get, version))),
                  Answer(direct_.Query(KvRead(get, 0))))
            << "key " << key << " at " << ts;
      }
      const kv::KvQuery scan = kv::KvQuery::Scan("a", "m", 100, ts);
      ASSERT_EQ(Answer(target_.Query(KvRead(scan, version))),
                Answer(direct_.Query(KvRead(scan, 0))))
          << "scan at " << ts;
    }
    for (const std::string hash : {"h0", "h1"}) {
      GroupQuery query;
      query.op = GroupQueryOp::kKv;
      redis_core::RedisRequest request;
      request.routing_key = hash;
      request.now_ms = 1000;
      request.commands.push_back({"HGETALL", hash});
      query.payload = redis_core::EncodeRedisRequest(request);
      GroupResult on_target = target_.Query(query);
      EXPECT_EQ(on_target.code, absl::StatusCode::kOk) << on_target.message;
      EXPECT_EQ(on_target.value, direct_.Query(query).value);
    }
  }

  route::RouteCatalog catalog_;
  Group source_;
  Group direct_;
  Group target_;
};

TEST_F(RangeMoveTest, ExportIngestMovesEveryRecordAndTheOpenLockSurvives) {
  Workload(0);
  Prewrite({"f", "g"}, 5000);  // stays open across the move
  Prewrite({"d"}, 5100);       // rolled back on the source between two copy passes
  // Keys of the other route never enter the source (it does not own them).
  EXPECT_TRUE(route::ParseStaleRouteError(
                  Both(Kv(kv::RawWriteCommand{{kv::Mutation::Put("n", "x")}})).status())
                  .has_value());

  // Nothing can be ingested before the move is in the target's view: a definite no-op.
  std::vector<IngestRangeRequest> early = ExportAll(source_, "", "m", 1 << 20, 1);
  ASSERT_EQ(early.size(), 1u);
  GroupResult refused = target_.Apply(Ingest(early[0]));
  EXPECT_EQ(refused.code, absl::StatusCode::kFailedPrecondition) << refused.message;
  EXPECT_TRUE(RecordsOf(target_, "", "m").empty());

  PushCatalog(Next(catalog_, {route::StartMove{catalog_.version(), kMovedRoute, kTarget}}));
  const uint64_t move_version = catalog_.version();
  EXPECT_EQ(move_version, 2u);
  // The target serves nothing of the range while receiving it.
  EXPECT_TRUE(route::ParseStaleRouteError(
                  target_.Query(KvRead(kv::KvQuery::Get("a", 10), move_version)).status())
                  .has_value());
  // First pass while the source still takes writes, one record per chunk, each chunk
  // ingested twice (a retry after an unknown outcome).
  std::vector<IngestRangeRequest> first = ExportAll(source_, "", "m", 1, move_version);
  EXPECT_GE(first.size(), 15u);
  for (const IngestRangeRequest& chunk : first) {
    EXPECT_EQ(chunk.records.size(), 1u);
    for (int attempt = 0; attempt < 2; ++attempt) {
      GroupResult result = target_.Apply(Ingest(chunk));
      ASSERT_EQ(result.code, absl::StatusCode::kOk) << result.message;
    }
  }
  EXPECT_EQ(RecordsOf(target_, "", "m").size(), first.size());

  // The source moves on: a new round of writes, and the lock of 5100 is rolled back.
  Workload(1);
  kv::RollbackCommand rollback;
  rollback.keys = {"d"};
  rollback.start_ts = 5100;
  EXPECT_EQ(Both(Kv(rollback)).code, absl::StatusCode::kOk);

  // Fence, final pass (small chunks), cut over.
  PushCatalog(Next(catalog_, {route::SetRouteState{catalog_.version(), kMovedRoute,
                                                   route::RouteState::kWriteFenced}}));
  // Chunks of the final pass carry the fence's version: the target refuses older ones
  // (late duplicates of the passes before the fence) from the fence on.
  for (const IngestRangeRequest& chunk : ExportAll(source_, "", "m", 64, catalog_.version())) {
    GroupResult result = target_.Apply(Ingest(chunk));
    ASSERT_EQ(result.code, absl::StatusCode::kOk) << result.message;
  }
  // Byte for byte the records of the reference group (which got every write directly).
  EXPECT_EQ(RecordsOf(target_, "", "m"), RecordsOf(direct_, "", "m"));
  EXPECT_GE(target_.machine.max_timestamp(), 5000u);  // observed the versions it holds

  // Delete on the source is refused while it still owns the range.
  EXPECT_EQ(source_.Apply(DeleteRange("", "m", catalog_.version())).code,
            absl::StatusCode::kFailedPrecondition);
  PushCatalog(Next(catalog_, {route::ReassignRoute{catalog_.version(), kMovedRoute, kTarget}}));
  const uint64_t cutover = catalog_.version();
  PushCatalog(Next(catalog_, {route::SetRouteState{catalog_.version(), kMovedRoute,
                                                   route::RouteState::kActive}}));
  // Ingest after the cut-over would overwrite live data: refused.
  GroupResult late = target_.Apply(Ingest(first[0]));
  EXPECT_EQ(late.code, absl::StatusCode::kFailedPrecondition) << late.message;
  // Requests routed before the cut-over are refused on the target, and the source no
  // longer serves.
  GroupResult old_route = target_.Query(KvRead(kv::KvQuery::Get("a", 10), cutover - 1));
  ASSERT_TRUE(route::ParseStaleRouteError(old_route.status()).has_value()) << old_route.message;
  EXPECT_THAT(old_route.message, HasSubstr("only since version 4"));
  EXPECT_TRUE(route::ParseStaleRouteError(
                  source_.Query(KvRead(kv::KvQuery::Get("a", 10), catalog_.version())).status())
                  .has_value());

  ExpectSameReads(catalog_.version());

  // The open transaction's lock moved with the range: it blocks reads on the target and
  // commits there.
  GroupResult blocked =
      target_.Query(KvRead(kv::KvQuery::Get("g", MaxTimestamp() + 10), catalog_.version()));
  ASSERT_EQ(blocked.key_errors.size(), 1u) << Answer(blocked);
  EXPECT_EQ(blocked.key_errors[0].lock_start_ts, 5000u);
  EXPECT_EQ(blocked.key_errors[0].lock_primary, "f");
  kv::CommitCommand commit;
  commit.keys = {"f", "g"};
  commit.start_ts = 5000;
  commit.commit_ts = MaxTimestamp() + 5;
  GroupResult committed = target_.Apply(Kv(commit, catalog_.version()));
  EXPECT_EQ(committed.code, absl::StatusCode::kOk) << committed.message;
  EXPECT_EQ(direct_.Apply(Kv(commit)).code, absl::StatusCode::kOk);
  ExpectSameReads(catalog_.version());
  EXPECT_EQ(RecordsOf(target_, "", "m"), RecordsOf(direct_, "", "m"));
  // Writes after the cut-over land above every moved version.
  kv::RawWriteCommand after;
  after.mutations.push_back(kv::Mutation::Put("a", "after"));
  GroupResult written = target_.Apply(Kv(after, catalog_.version()));
  ASSERT_EQ(written.code, absl::StatusCode::kOk) << written.message;
  EXPECT_GT(written.ts, commit.commit_ts);

  // Cleanup on the source: every record of the range goes, nothing else.
  const std::vector<RawRecord> other = RecordsOf(direct_, "m", "");
  GroupResult deleted = source_.Apply(DeleteRange("", "m", catalog_.version()));
  EXPECT_EQ(deleted.code, absl::StatusCode::kOk) << deleted.message;
  EXPECT_FALSE(source_.machine.Read("a").has_value());
  EXPECT_TRUE(route::ParseStaleRouteError(source_.Query(Export("", "m", "", 1 << 20)).status())
                  .has_value());
  // The target owns the range: its cleanup is refused.
  EXPECT_EQ(target_.Apply(DeleteRange("", "m", catalog_.version())).code,
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(other.empty());
}

TEST_F(RangeMoveTest, PaginationReturnsEveryRecordOnceInKeyOrder) {
  Workload(0);
  Workload(1);
  Prewrite({"f"}, 7000);
  const std::vector<RawRecord> whole = Records(ExportAll(source_, "", "m", kMaxRangeChunkBytes, 0));
  ASSERT_GT(whole.size(), 20u);
  for (uint64_t max_bytes : {1, 7, 40, 300}) {
    std::vector<IngestRangeRequest> chunks = ExportAll(source_, "", "m", max_bytes, 0);
    EXPECT_EQ(Records(chunks), whole) << "max_bytes " << max_bytes;
    for (const IngestRangeRequest& chunk : chunks) {
      ASSERT_FALSE(chunk.records.empty());
      uint64_t bytes = 0;
      for (const RawRecord& record : chunk.records)
        bytes += record.first.size() + record.second.size();
      EXPECT_TRUE(chunk.records.size() == 1 || bytes <= max_bytes) << bytes << " > " << max_bytes;
    }
  }
  for (size_t i = 1; i < whole.size(); ++i) EXPECT_LT(whole[i - 1].first, whole[i].first);
  for (const RawRecord& record : whole) EXPECT_TRUE(IsRangeRecord(record.first, "", "m"));
  // A sub-range holds exactly the records of its keys, Redis elements included.
  const std::vector<RawRecord> part = RecordsOf(source_, "b", "h1");
  size_t expected = 0;
  for (const RawRecord& record : whole) expected += IsRangeRecord(record.first, "b", "h1") ? 1 : 0;
  EXPECT_EQ(part.size(), expected);
  EXPECT_GT(part.size(), 0u);
  EXPECT_LT(part.size(), whole.size());
  // Bad requests.
  EXPECT_EQ(source_.Query(Export("", "m", "", 0)).code, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(source_.Query(Export("m", "a", "", 10)).code, absl::StatusCode::kInvalidArgument);
}

TEST_F(RangeMoveTest, MalformedOrForeignChunksAreRefusedAndChangeNothing) {
  Workload(0);
  PushCatalog(Next(catalog_, {route::StartMove{catalog_.version(), kMovedRoute, kTarget}}));
  std::vector<IngestRangeRequest> chunks = ExportAll(source_, "", "m", 1 << 20, 2);
  ASSERT_EQ(chunks.size(), 1u);
  IngestRangeRequest chunk = chunks[0];

  IngestRangeRequest unsorted = chunk;
  std::swap(unsorted.records[0], unsorted.records[1]);
  IngestRangeRequest foreign = chunk;
  foreign.records.push_back({std::string("d") + kv::EncodeUserKey("z"), "x"});  // not in range
  IngestRangeRequest meta = chunk;
  meta.records.push_back({"m" + std::string("applied_index"), "x"});
  IngestRangeRequest wrong_route = chunk;
  wrong_route.route_id = 2;
  IngestRangeRequest older_move = chunk;
  older_move.move_catalog_version = 1;
  for (const IngestRangeRequest& bad : {unsorted, foreign, meta, wrong_route, older_move}) {
    GroupResult result = target_.Apply(Ingest(bad));
    EXPECT_NE(result.code, absl::StatusCode::kOk);
  }
  EXPECT_TRUE(RecordsOf(target_, "", "m").empty());
  // A view newer than the target's: retryable stale route.
  IngestRangeRequest ahead = chunk;
  ahead.move_catalog_version = 9;
  EXPECT_TRUE(route::ParseStaleRouteError(target_.Apply(Ingest(ahead)).status()).has_value());

  // The real chunk, then an abort: the target may drop its partial copy, and the source,
  // which owns the range again, may not.
  ASSERT_EQ(target_.Apply(Ingest(chunk)).code, absl::StatusCode::kOk);
  EXPECT_FALSE(RecordsOf(target_, "", "m").empty());
  PushCatalog(Next(catalog_, {route::SetRouteState{catalog_.version(), kMovedRoute,
                                                   route::RouteState::kActive}}));
  EXPECT_EQ(target_.Apply(Ingest(chunk)).code, absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(source_.Apply(DeleteRange("", "m", catalog_.version())).code,
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(target_.Apply(DeleteRange("", "m", catalog_.version())).code, absl::StatusCode::kOk);
  EXPECT_TRUE(RecordsOf(target_, "", "m").empty());
  EXPECT_FALSE(RecordsOf(source_, "", "m").empty());
}

TEST_F(RangeMoveTest, IngestSurvivesASnapshotOfTheTarget) {
  Workload(0);
  PushCatalog(Next(catalog_, {route::StartMove{catalog_.version(), kMovedRoute, kTarget}}));
  for (const IngestRangeRequest& chunk : ExportAll(source_, "", "m", 100, 2)) {
    ASSERT_EQ(target_.Apply(Ingest(chunk)).code, absl::StatusCode::kOk);
  }
  GroupStateMachine restored(kTarget, std::nullopt, Catalog());
  ASSERT_TRUE(restored.Restore(target_.machine.SnapshotImage(), target_.index).ok());
  EXPECT_EQ(restored.Digest(), target_.machine.Digest());
  ASSERT_TRUE(restored.ownership().has_value());
  EXPECT_EQ(restored.ownership()->IncomingRoutes().size(), 1u);
}

}  // namespace
}  // namespace ekv::node
