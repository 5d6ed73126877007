// The coordinator's range move (StartMoveRange, core/coord/range_mover.cc) driven by a
// fake driver: one node hosting groups 1 (the catalog), 2 and 3, each the server's
// GroupStateMachine over a memory engine, every group call applied at once (a Raft group
// of one). Faults are the driver's: calls answered "failed" (definitely not applied),
// applied but reported lost (outcome unknown), or never answered. The move must end with
// every value and every open transaction's lock on the target, the source empty of the
// range, and a clean catalog; or, when it cannot reach the cut-over, rolled back.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/coord/coordinator.h"
#include "core/kv/key_codec.h"
#include "core/kv/kv_command.h"
#include "core/kv/memory_engine.h"
#include "core/kv/timestamp.h"
#include "core/node/group_protocol.h"
#include "core/node/group_state_machine.h"
#include "core/node/range_records.h"
#include "core/route/catalog.h"
#include "core/route/catalog_command.h"
#include "core/util/assert.h"
#include "gtest/gtest.h"

namespace ekv::coord {
namespace {

constexpr raft::NodeId kNode = 1;

route::RouteCatalog Bootstrap() {
  absl::StatusOr<route::RouteCatalog> catalog =
      route::RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 2}});
  EKV_ASSERT(catalog.ok(), "the demo catalog is valid");
  return *catalog;
}

// What the driver does with one group call.
enum class Fault {
  kNone,
  kRefuse,         // answered kFailed: not applied
  kLostAnswer,     // applied, then reported as a failed forward that may have arrived
  kNeverAnswered,  // not applied, no answer (the attempt times out)
};

class FakeDriver : public GroupView {
 public:
  FakeDriver() : bootstrap_(Bootstrap()) {
    for (raft::GroupId g : {1, 2, 3}) {
      auto memory = std::make_unique<kv::MemoryEngine>();
      engines_[g] = memory.get();
      groups_[g] = std::make_unique<node::GroupStateMachine>(
          g, g == 1 ? std::optional<route::RouteCatalog>(bootstrap_) : std::nullopt, bootstrap_,
          std::move(memory));
    }
    groups_[1]->SetCatalogListener([this](const route::RouteCatalog& catalog) {
      if (coordinator_ != nullptr) coordinator_->OnCatalog(catalog);
    });
    NewCoordinator();
  }

  // A new coordinator process (the old one and everything it had in flight are gone).
  void NewCoordinator(CoordinatorPlants plants = {}) {
    CoordinatorOptions options;
    options.node_id = kNode;
    options.request_timeout_us = 1'000'000;
    options.attempt_timeout_us = 200'000;
    options.move_timeout_us = 5'000'000;
    options.move_finish_timeout_us = 10'000'000;
    options.move_chunk_bytes = 64;  // many chunks per pass
    options.seed = ++seed_;
    options.plants = plants;
    coordinator_ = std::make_unique<Coordinator>(options, this);
    timers_.clear();
    coordinator_->SetTime(now_us_, wall_ms());
    coordinator_->OnCatalog(*groups_[1]->catalog());
  }

  bool Hosts(raft::GroupId group) const override { return groups_.count(group) != 0; }
  raft::NodeId LeaderOf(raft::GroupId group) const override {
    return Hosts(group) ? kNode : raft::kNoNode;
  }
  std::map<raft::GroupId, raft::ConfState> Configurations() const override { return {}; }

  Coordinator& coordinator() { return *coordinator_; }
  node::GroupStateMachine& group(raft::GroupId g) { return *groups_.at(g); }
  void set_fault(std::function<Fault(const node::ClientRequest&)> fault) {
    fault_ = std::move(fault);
  }
  // Stops delivering anything once `stop` says so (the coordinator's node died).
  void set_crash_when(std::function<bool()> stop) { crash_when_ = std::move(stop); }
  uint64_t now_us() const { return now_us_; }
  // A raw write applied straight to group `g` (unversioned), as a client's would.
  void WriteDirect(raft::GroupId g, std::string key, std::string value) {
    kv::RawWriteCommand write;
    write.mutations.push_back(kv::Mutation::Put(std::move(key), std::move(value)));
    node::GroupCommand command;
    command.op = node::GroupCommandOp::kKv;
    command.physical_ms = wall_ms();
    command.payload = kv::EncodeKvCommand(write);
    node::ApplyResult applied = Apply(*groups_.at(g), node::EncodeGroupCommand(command));
    absl::StatusOr<node::GroupResult> result = node::DecodeGroupResult(applied.value.value_or(""));
    ASSERT_TRUE(result.ok() && result->status().ok());
  }

  // A catalog command applied straight to the catalog group, as another coordinator's
  // would be; answers its status.
  absl::Status ApplyCatalog(route::CatalogCommand catalog_command) {
    node::GroupCommand command;
    command.op = node::GroupCommandOp::kCatalog;
    command.physical_ms = wall_ms();
    command.payload = catalog_command.Encode();
    node::ApplyResult applied = Apply(*groups_.at(1), node::EncodeGroupCommand(command));
    absl::StatusOr<node::GroupResult> result = node::DecodeGroupResult(applied.value.value_or(""));
    if (!result.ok()) return result.status();
    return result->status();
  }

  // Starts an operation and drives it to its answer (nullopt: the coordinator died).
  std::optional<OpResult> Run(const std::function<OpId(Coordinator&)>& start) {
    coordinator_->SetTime(now_us_, wall_ms());
    const OpId op = start(*coordinator_);
    for (int guard = 0; guard < 1'000'000; ++guard) {
      Effects effects = coordinator_->TakeEffects();
      for (OpDone& done : effects.done) {
        if (done.op == op) answer_ = std::move(done.result);
      }
      for (const TimerRequest& timer : effects.timers) timers_.emplace(timer.at_us, timer.timer);
      for (const GroupCall& call : effects.calls) pending_.push_back(call);
      if (answer_.has_value()) {
        std::optional<OpResult> out = std::move(answer_);
        answer_.reset();
        pending_.clear();
        return out;
      }
      if (crash_when_ && crash_when_()) {
        crash_when_ = nullptr;
        pending_.clear();
        return std::nullopt;
      }
      if (!pending_.empty()) {
        GroupCall call = std::move(pending_.front());
        pending_.erase(pending_.begin());
        Deliver(call);
        continue;
      }
      EKV_ASSERT(!timers_.empty(), "an operation without an answer waits for a timer");
      auto next = timers_.begin();
      now_us_ = std::max(now_us_, next->first);
      const TimerId timer = next->second;
      timers_.erase(next);
      coordinator_->SetTime(now_us_, wall_ms());
      coordinator_->OnTimer(timer);
    }
    ADD_FAILURE() << "operation did not finish";
    return std::nullopt;
  }

  // Every raw engine record of [start, end) group `g` holds.
  std::vector<node::RawRecord> Records(raft::GroupId g, const std::string& start,
                                       const std::string& end) {
    std::vector<node::RawRecord> out;
    std::string cursor;
    // Exported straight from the engine: the group may no longer own the range.
    for (int guard = 0; guard < 10'000; ++guard) {
      absl::StatusOr<node::RangeChunk> chunk = node::ExportRangeChunk(
          engine_reader(g), node::ExportRangeRequest{start, end, cursor, 1 << 20});
      EXPECT_TRUE(chunk.ok()) << chunk.status();
      if (!chunk.ok()) break;
      out.insert(out.end(), chunk->records.begin(), chunk->records.end());
      cursor = chunk->next_cursor;
      if (cursor.empty()) break;
    }
    return out;
  }

 private:
  uint64_t wall_ms() const { return 1'000'000 + now_us_ / 1000; }
  const kv::EngineReader& engine_reader(raft::GroupId g) { return *engines_.at(g); }

  void Deliver(const GroupCall& call) {
    now_us_ += 100;  // every call takes a little time, so pauses are measurable
    coordinator_->SetTime(now_us_, wall_ms());
    const Fault fault = fault_ ? fault_(call.request) : Fault::kNone;
    if (fault == Fault::kNeverAnswered) return;
    if (fault == Fault::kRefuse) {
      node::ClientReply reply;
      reply.status = node::ReplyStatus::kFailed;
      reply.detail = "refused by the test";
      coordinator_->OnCallReply(call.call, reply);
      return;
    }
    node::ClientReply reply = Execute(call.request);
    if (fault == Fault::kLostAnswer) {
      coordinator_->OnCallFailed(call.call, /*maybe_delivered=*/true, "answer lost by the test");
      return;
    }
    coordinator_->OnCallReply(call.call, reply);
  }

  node::ClientReply Execute(const node::ClientRequest& request) {
    node::ClientReply reply;
    reply.group = request.group;
    reply.status = node::ReplyStatus::kOk;
    if (request.kind == node::OpKind::kTimestamp) {
      oracle_ = std::max(oracle_ + 1, kv::MakeTimestamp(wall_ms(), 0));
      reply.timestamp = oracle_;
      return reply;
    }
    node::GroupStateMachine& machine = *groups_.at(request.group);
    if (request.kind == node::OpKind::kQuery) {
      // As NodeHost does: a snapshot read waits for a read floor at its timestamp.
      if (const uint64_t ts = machine.QueryReadTimestamp(request.value);
          ts > machine.read_floor_ts()) {
        Apply(machine, machine.EncodeReadFloorCommand(ts));
      }
      reply.value = machine.Query(request.value);
      reply.index = machine.applied_index();
      return reply;
    }
    EKV_ASSERT(request.kind == node::OpKind::kApply, "unexpected request kind");
    node::ApplyResult applied = Apply(machine, request.value);
    reply.value = applied.value;
    reply.index = machine.applied_index();
    return reply;
  }

  node::ApplyResult Apply(node::GroupStateMachine& machine, const std::string& bytes) {
    node::Command command;
    command.kind = node::OpKind::kApply;
    command.value = bytes;
    return machine.Apply(machine.applied_index() + 1, command);
  }

  route::RouteCatalog bootstrap_;
  std::map<raft::GroupId, std::unique_ptr<node::GroupStateMachine>> groups_;
  std::map<raft::GroupId, const kv::MemoryEngine*> engines_;  // owned by groups_
  std::unique_ptr<Coordinator> coordinator_;
  std::multimap<uint64_t, TimerId> timers_;
  std::vector<GroupCall> pending_;
  std::optional<OpResult> answer_;
  std::function<Fault(const node::ClientRequest&)> fault_;
  std::function<bool()> crash_when_;
  uint64_t now_us_ = 0;
  uint64_t oracle_ = 0;
  uint64_t seed_ = 0;
};

const std::vector<std::string> kKeys = {"a", "b", "c", "d", "e", "f", "g", "h", "k", "l"};

// Writes every key of kKeys (value "<key>-<round>") through the coordinator.
void WriteAll(FakeDriver& driver, int round) {
  for (const std::string& key : kKeys) {
    std::optional<OpResult> put = driver.Run(
        [&](Coordinator& c) { return c.StartRawPut(key, absl::StrCat(key, "-", round)); });
    ASSERT_TRUE(put.has_value() && put->status.ok()) << key << ": " << put->status;
  }
}

void ExpectAll(FakeDriver& driver, int round) {
  for (const std::string& key : kKeys) {
    std::optional<OpResult> got = driver.Run([&](Coordinator& c) { return c.StartRawGet(key, 0); });
    ASSERT_TRUE(got.has_value() && got->status.ok()) << key << ": " << got->status;
    EXPECT_EQ(got->value, absl::StrCat(key, "-", round)) << key;
  }
}

// Prewrites "c" (primary) and "n" (group 2) for a transaction at a fresh start_ts, and
// leaves it open: its lock on "c" must travel with the range. Returns the start_ts.
uint64_t OpenTransaction(FakeDriver& driver) {
  std::optional<OpResult> ts = driver.Run([](Coordinator& c) { return c.StartGetTimestamp(); });
  EKV_ASSERT(ts.has_value() && ts->status.ok(), "the fake oracle answers");
  const uint64_t start_ts = ts->ts;
  std::optional<OpResult> prewrite = driver.Run([&](Coordinator& c) {
    return c.StartPrewrite({{"c", "c-txn"}, {"n", "n-txn"}}, start_ts, /*lock_ttl_ms=*/600'000);
  });
  EXPECT_TRUE(prewrite.has_value() && prewrite->status.ok()) << prewrite->status;
  EXPECT_TRUE(prewrite->key_errors.empty()) << prewrite->key_errors.front().message;
  return start_ts;
}

std::optional<OpResult> Move(FakeDriver& driver, std::string key, raft::GroupId target,
                             raft::GroupId source = 0) {
  return driver.Run([&](Coordinator& c) {
    MoveRangeSpec spec;
    spec.key = key;
    spec.target_group = target;
    spec.source_group = source;
    return c.StartMoveRange(spec);
  });
}

const route::RouteDescriptor& RouteOf(FakeDriver& driver, const std::string& key) {
  const route::RouteDescriptor* route = driver.group(1).catalog()->RouteForKey(key);
  EKV_ASSERT(route != nullptr, "a catalog covers every key");
  return *route;
}

// After a finished move of ["", "m") from 1 to 3: the catalog, the data, the lock.
void ExpectMovedWithTransaction(FakeDriver& driver, uint64_t start_ts) {
  const route::RouteDescriptor& route = RouteOf(driver, "a");
  EXPECT_EQ(route.raft_group_id, 3u);
  EXPECT_EQ(route.state, route::RouteState::kActive);
  EXPECT_EQ(route.move_target_group_id, 0u);
  EXPECT_TRUE(driver.Records(1, "", "m").empty()) << "the source dropped the range";
  EXPECT_FALSE(driver.Records(3, "", "m").empty());
  ExpectAll(driver, 2);
  // The open transaction commits: its lock on "c" moved with the range.
  std::optional<OpResult> commit = driver.Run([&](Coordinator& c) {
    return c.StartCommit(start_ts, {"c", "n"});
  });
  ASSERT_TRUE(commit.has_value() && commit->status.ok()) << commit->status;
  ASSERT_TRUE(commit->key_errors.empty()) << commit->key_errors.front().message;
  std::optional<OpResult> read = driver.Run([&](Coordinator& c) { return c.StartTxnGet("c", 0); });
  ASSERT_TRUE(read.has_value() && read->status.ok()) << read->status;
  EXPECT_EQ(read->value, "c-txn");
  // Writes go on, to the target.
  WriteAll(driver, 3);
  ExpectAll(driver, 3);
  EXPECT_TRUE(driver.Records(1, "", "m").empty());
}

TEST(RangeMoverTest, MovesARouteWithItsValuesAndOpenLocks) {
  FakeDriver driver;
  WriteAll(driver, 1);
  WriteAll(driver, 2);
  const uint64_t start_ts = OpenTransaction(driver);
  std::optional<OpResult> moved = Move(driver, "a", 3);
  ASSERT_TRUE(moved.has_value());
  ASSERT_TRUE(moved->status.ok()) << moved->status;
  ASSERT_TRUE(moved->move.has_value());
  EXPECT_EQ(moved->move->source_group, 1u);
  EXPECT_EQ(moved->move->target_group, 3u);
  EXPECT_TRUE(moved->move->cut_over);
  EXPECT_FALSE(moved->move->aborted);
  EXPECT_EQ(moved->move->copy_passes, 3u);  // two passes, then the final one under the fence
  EXPECT_GT(moved->move->records_copied, kKeys.size());
  EXPECT_GT(moved->move->fence_us, 0u);
  const CoordinatorStats& stats = driver.coordinator().stats();
  EXPECT_EQ(stats.moves_started, 1u);
  EXPECT_EQ(stats.moves_finished, 1u);
  EXPECT_EQ(stats.moves_aborted, 0u);
  EXPECT_EQ(stats.move_fence_us_max, moved->move->fence_us);
  ExpectMovedWithTransaction(driver, start_ts);
  // Moving it where it is: nothing to do.
  std::optional<OpResult> again = Move(driver, "a", 3);
  ASSERT_TRUE(again.has_value() && again->status.ok()) << again->status;
  // And back, to its first group.
  std::optional<OpResult> back = Move(driver, "b", 1);
  ASSERT_TRUE(back.has_value() && back->status.ok()) << back->status;
  EXPECT_EQ(RouteOf(driver, "a").raft_group_id, 1u);
  EXPECT_TRUE(driver.Records(3, "", "m").empty());
  ExpectAll(driver, 3);
}

// Every third call is answered "failed", every fifth applied but its answer lost, every
// seventh never answered: each step goes again until it is done.
// Distribution.MoveRange names a route by id and may expect a catalog version: a stale
// version or a route id the catalog no longer has changes nothing; a current one moves.
TEST(RangeMoverTest, ByRouteIdWithAnExpectedCatalogVersion) {
  FakeDriver driver;
  WriteAll(driver, 1);
  const route::RouteDescriptor before = RouteOf(driver, "a");
  const uint64_t version = driver.group(1).catalog()->version();
  auto move = [&](route::RouteId route_id, uint64_t expected) {
    return driver.Run([&](Coordinator& c) {
      MoveRangeSpec spec;
      spec.route_id = route_id;
      spec.expected_catalog_version = expected;
      spec.target_group = 3;
      return c.StartMoveRange(spec);
    });
  };
  std::optional<OpResult> stale = move(before.route_id, version + 1);
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(stale->status.code(), absl::StatusCode::kFailedPrecondition) << stale->status;
  std::optional<OpResult> unknown = move(999, 0);
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status.code(), absl::StatusCode::kFailedPrecondition) << unknown->status;
  EXPECT_EQ(driver.group(1).catalog()->version(), version) << "a refused move changed the catalog";
  EXPECT_EQ(RouteOf(driver, "a").raft_group_id, before.raft_group_id);

  std::optional<OpResult> moved = move(before.route_id, version);
  ASSERT_TRUE(moved.has_value());
  ASSERT_TRUE(moved->status.ok()) << moved->status;
  EXPECT_EQ(moved->move->route_id, before.route_id);
  EXPECT_EQ(RouteOf(driver, "a").raft_group_id, 3u);
  EXPECT_EQ(RouteOf(driver, "a").state, route::RouteState::kActive);
  ExpectAll(driver, 1);
}

TEST(RangeMoverTest, ResumesItsStepAfterFailedLostAndUnansweredCalls) {
  FakeDriver driver;
  WriteAll(driver, 1);
  WriteAll(driver, 2);
  const uint64_t start_ts = OpenTransaction(driver);
  uint64_t calls = 0;
  driver.set_fault([&](const node::ClientRequest&) {
    ++calls;
    if (calls % 7 == 0) return Fault::kNeverAnswered;
    if (calls % 5 == 0) return Fault::kLostAnswer;
    if (calls % 3 == 0) return Fault::kRefuse;
    return Fault::kNone;
  });
  std::optional<OpResult> moved = Move(driver, "a", 3);
  driver.set_fault(nullptr);
  ASSERT_TRUE(moved.has_value());
  ASSERT_TRUE(moved->status.ok()) << moved->status;
  EXPECT_GT(calls, 40u);
  ExpectMovedWithTransaction(driver, start_ts);
}

// The target takes no chunk: the move cannot reach its cut-over before its deadline and
// rolls back; the source serves writes again and the target keeps nothing.
TEST(RangeMoverTest, RollsBackWhenItCannotReachTheCutOver) {
  FakeDriver driver;
  WriteAll(driver, 1);
  driver.set_fault([](const node::ClientRequest& request) {
    absl::StatusOr<node::GroupCommand> command = node::DecodeGroupCommand(request.value);
    const bool ingest = request.kind == node::OpKind::kApply && command.ok() &&
                        command->op == node::GroupCommandOp::kIngestRange;
    static int ingests = 0;
    // Let two chunks in, so the target has something to drop.
    return ingest && ++ingests > 2 ? Fault::kRefuse : Fault::kNone;
  });
  std::optional<OpResult> moved = Move(driver, "a", 3);
  driver.set_fault(nullptr);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->status.code(), absl::StatusCode::kAborted) << moved->status;
  ASSERT_TRUE(moved->move.has_value());
  EXPECT_TRUE(moved->move->aborted);
  EXPECT_FALSE(moved->move->cut_over);
  EXPECT_EQ(driver.coordinator().stats().moves_aborted, 1u);
  const route::RouteDescriptor& route = RouteOf(driver, "a");
  EXPECT_EQ(route.raft_group_id, 1u);
  EXPECT_EQ(route.state, route::RouteState::kActive);
  EXPECT_EQ(route.move_target_group_id, 0u);
  EXPECT_TRUE(driver.Records(3, "", "m").empty()) << "the target dropped its partial copy";
  WriteAll(driver, 2);
  ExpectAll(driver, 2);
}

// A target retired before the move named it (group 3 created at run time, retired while
// no route named it): StartMove would be refused for ever, so the move ends at once,
// refused, with nothing changed; before, it retried until its deadline and rolled back.
TEST(RangeMoverTest, AMoveToARetiredGroupIsRefusedAtOnce) {
  FakeDriver driver;
  WriteAll(driver, 1);
  const uint64_t version = driver.group(1).catalog()->version();
  ASSERT_TRUE(driver.ApplyCatalog({route::CreateGroup{version, 3, {kNode}}}).ok());
  ASSERT_TRUE(driver.ApplyCatalog({route::RetireGroup{version + 1, 3}}).ok());
  ASSERT_TRUE(driver.group(1).catalog()->IsRetired(3));
  const uint64_t started_us = driver.now_us();
  std::optional<OpResult> moved = Move(driver, "a", 3);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->status.code(), absl::StatusCode::kFailedPrecondition) << moved->status;
  EXPECT_NE(moved->status.message().find("retired"), std::string::npos) << moved->status;
  EXPECT_FALSE(moved->move->aborted);
  // Well within the move's 5 s deadline (simulated time: no wall clock is involved).
  EXPECT_LT(driver.now_us() - started_us, 1'000'000u);
  EXPECT_EQ(driver.group(1).catalog()->version(), version + 2) << "the refused move changed it";
  const route::RouteDescriptor& route = RouteOf(driver, "a");
  EXPECT_EQ(route.raft_group_id, 1u);
  EXPECT_EQ(route.state, route::RouteState::kActive);
  EXPECT_TRUE(driver.Records(3, "", "m").empty());
  ExpectAll(driver, 1);
}

// The coordinator dies at each point of a move in turn; a new one, asked again (with the
// source, which the catalog no longer names after the cut-over), finishes it.
TEST(RangeMoverTest, ANewCoordinatorResumesAMoveWhereTheOldOneDied) {
  for (int die_after_calls = 5; die_after_calls < 120; die_after_calls += 7) {
    SCOPED_TRACE(absl::StrCat("coordinator died after ", die_after_calls, " calls"));
    FakeDriver driver;
    WriteAll(driver, 1);
    WriteAll(driver, 2);
    const uint64_t start_ts = OpenTransaction(driver);
    int calls = 0;
    driver.set_fault([&](const node::ClientRequest&) {
      ++calls;
      return Fault::kNone;
    });
    driver.set_crash_when([&] { return calls >= die_after_calls; });
    std::optional<OpResult> first = Move(driver, "a", 3);
    driver.set_fault(nullptr);
    driver.NewCoordinator();
    std::optional<OpResult> resumed = Move(driver, "a", 3, /*source=*/1);
    ASSERT_TRUE(resumed.has_value());
    ASSERT_TRUE(resumed->status.ok()) << resumed->status;
    ExpectMovedWithTransaction(driver, start_ts);
    if (first.has_value()) break;  // the first finished before it could die: all covered
  }
}

bool IsFenceProposal(const node::ClientRequest& request) {
  absl::StatusOr<node::GroupCommand> command = node::DecodeGroupCommand(request.value);
  if (request.kind != node::OpKind::kApply || !command.ok() ||
      command->op != node::GroupCommandOp::kCatalog) {
    return false;
  }
  absl::StatusOr<route::CatalogCommand> catalog = route::CatalogCommand::Decode(command->payload);
  const auto* set = catalog.ok() ? std::get_if<route::SetRouteState>(&catalog->op) : nullptr;
  return set != nullptr && set->state == route::RouteState::kWriteFenced;
}

bool IsCutOverProposal(const node::ClientRequest& request) {
  absl::StatusOr<node::GroupCommand> command = node::DecodeGroupCommand(request.value);
  if (request.kind != node::OpKind::kApply || !command.ok() ||
      command->op != node::GroupCommandOp::kCatalog) {
    return false;
  }
  absl::StatusOr<route::CatalogCommand> catalog = route::CatalogCommand::Decode(command->payload);
  return catalog.ok() && std::holds_alternative<route::ReassignRoute>(catalog->op);
}

// The cut-over applies but its answer is lost, and nothing answers until the move's
// deadline has passed: the abort it starts finds the route cut over and finishes the
// move instead.
TEST(RangeMoverTest, AnAbortAfterAnUnseenCutOverRollsForward) {
  FakeDriver driver;
  WriteAll(driver, 1);
  WriteAll(driver, 2);
  const uint64_t start_ts = OpenTransaction(driver);
  const uint64_t deadline = driver.now_us() + 5'000'000;  // move_timeout_us
  bool cut = false;
  driver.set_fault([&](const node::ClientRequest& request) {
    if (!cut && IsCutOverProposal(request)) {
      cut = true;
      return Fault::kLostAnswer;
    }
    return cut && driver.now_us() < deadline + 100'000 ? Fault::kNeverAnswered : Fault::kNone;
  });
  std::optional<OpResult> moved = Move(driver, "a", 3);
  driver.set_fault(nullptr);
  ASSERT_TRUE(cut);
  ASSERT_TRUE(moved.has_value());
  ASSERT_TRUE(moved->status.ok()) << moved->status;
  EXPECT_TRUE(moved->move->cut_over);
  EXPECT_FALSE(moved->move->aborted);
  ExpectMovedWithTransaction(driver, start_ts);
}

// A write that lands on the source after the copy passes and just before the fence
// reaches the target only through the final pass, made under the fence.
void MoveWithALateWrite(FakeDriver& driver, bool expect_copied) {
  WriteAll(driver, 1);
  bool wrote = false;
  driver.set_fault([&](const node::ClientRequest& request) {
    if (!wrote && IsFenceProposal(request)) {
      wrote = true;
      driver.WriteDirect(1, "a", "late");
    }
    return Fault::kNone;
  });
  std::optional<OpResult> moved = Move(driver, "a", 3);
  driver.set_fault(nullptr);
  ASSERT_TRUE(moved.has_value() && moved->status.ok()) << moved->status;
  ASSERT_TRUE(wrote);
  std::optional<OpResult> got = driver.Run([](Coordinator& c) { return c.StartRawGet("a", 0); });
  ASSERT_TRUE(got.has_value() && got->status.ok()) << got->status;
  EXPECT_EQ(got->value, expect_copied ? "late" : "a-1");
}

TEST(RangeMoverTest, TheFinalPassUnderTheFenceCopiesTheLastWrites) {
  FakeDriver driver;
  MoveWithALateWrite(driver, /*expect_copied=*/true);
}

// The planted bugs the simulator must catch, shown here on one move each.
TEST(RangeMoverTest, PlantedCutOverBeforeFinalCopyLosesTheLastWrites) {
  FakeDriver driver;
  driver.NewCoordinator(CoordinatorPlants{.move_cutover_before_final_copy = true});
  MoveWithALateWrite(driver, /*expect_copied=*/false);
}

TEST(RangeMoverTest, PlantedSourceServesAfterCutOverKeepsServingReads) {
  FakeDriver driver;
  driver.NewCoordinator(CoordinatorPlants{.move_source_serves_after_cutover = true});
  // From group 2 (group 1 follows the catalog itself as it applies it).
  std::optional<OpResult> moved = Move(driver, "n", 3);
  ASSERT_TRUE(moved.has_value() && moved->status.ok()) << moved->status;
  EXPECT_TRUE(driver.group(2).ownership()->CheckOwnership("n", 0, route::AccessKind::kRead).ok())
      << "the source was never told";
  EXPECT_TRUE(driver.group(3).ownership()->CheckOwnership("n", 0, route::AccessKind::kWrite).ok());
}

TEST(RangeMoverTest, PlantedForgetsLocksDropsTheOpenTransactionsLock) {
  FakeDriver driver;
  driver.NewCoordinator(CoordinatorPlants{.move_forgets_locks = true});
  WriteAll(driver, 1);
  OpenTransaction(driver);
  std::optional<OpResult> moved = Move(driver, "a", 3);
  ASSERT_TRUE(moved.has_value() && moved->status.ok()) << moved->status;
  for (const node::RawRecord& record : driver.Records(3, "", "m")) {
    EXPECT_NE(record.first[0], kv::kLockPrefix) << "the plant drops every lock";
  }
}

// ---- Merges (StartMergeRange, core/coord/range_merger.cc) -----------------------------

std::optional<OpResult> MergeAt(FakeDriver& driver, std::string key, bool move_if_needed = false,
                                uint64_t expected_version = 0) {
  return driver.Run([&](Coordinator& c) {
    MergeRangeSpec spec;
    spec.key = key;
    spec.move_if_needed = move_if_needed;
    spec.expected_catalog_version = expected_version;
    return c.StartMergeRange(spec);
  });
}

// Two routes of group 1 merge as metadata only: every value and the open transaction's
// lock stay where they are and the transaction commits afterwards.
TEST(RangeMergerTest, MergesTwoRoutesOfOneGroupKeepingValuesAndOpenLocks) {
  FakeDriver driver;
  const uint64_t version = driver.group(1).catalog()->version();
  std::optional<OpResult> split = driver.Run([&](Coordinator& c) {
    return c.StartSplitRange(version, RouteOf(driver, "a").route_id, "d");
  });
  ASSERT_TRUE(split.has_value() && split->status.ok()) << split->status;
  WriteAll(driver, 1);
  const uint64_t start_ts = OpenTransaction(driver);
  const std::vector<node::RawRecord> before = driver.Records(1, "", "m");
  const route::RouteId left = RouteOf(driver, "a").route_id;
  const route::RouteId right = RouteOf(driver, "e").route_id;
  ASSERT_NE(left, right);

  std::optional<OpResult> merged = MergeAt(driver, "b", false, version + 1);
  ASSERT_TRUE(merged.has_value());
  ASSERT_TRUE(merged->status.ok()) << merged->status;
  ASSERT_TRUE(merged->merge.has_value());
  EXPECT_EQ(merged->merge->left_route_id, left);
  EXPECT_EQ(merged->merge->right_route_id, right);
  EXPECT_FALSE(merged->merge->moved);
  EXPECT_EQ(merged->merge->merged.start, "");
  EXPECT_EQ(merged->merge->merged.end, "m");
  EXPECT_EQ(merged->merge->merged.raft_group_id, 1u);
  EXPECT_EQ(merged->merge->catalog_version, version + 2);
  EXPECT_EQ(RouteOf(driver, "h").route_id, merged->merge->merged.route_id);
  EXPECT_EQ(driver.coordinator().routes().Lookup("h")->route_id, merged->merge->merged.route_id);
  EXPECT_EQ(driver.Records(1, "", "m"), before) << "a merge touches no record";
  EXPECT_EQ(driver.coordinator().stats().merges_done, 1u);
  ExpectAll(driver, 1);
  std::optional<OpResult> commit = driver.Run([&](Coordinator& c) {
    return c.StartCommit(start_ts, {"c", "n"});
  });
  ASSERT_TRUE(commit.has_value() && commit->status.ok()) << commit->status;
  ASSERT_TRUE(commit->key_errors.empty()) << commit->key_errors.front().message;
  std::optional<OpResult> read = driver.Run([&](Coordinator& c) { return c.StartTxnGet("c", 0); });
  ASSERT_TRUE(read.has_value() && read->status.ok()) << read->status;
  EXPECT_EQ(read->value, "c-txn");
  WriteAll(driver, 2);
  ExpectAll(driver, 2);
}

TEST(RangeMergerTest, RefusalsChangeNothing) {
  FakeDriver driver;
  const uint64_t version = driver.group(1).catalog()->version();
  // The last route has nothing after it.
  std::optional<OpResult> last = MergeAt(driver, "z");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->status.code(), absl::StatusCode::kInvalidArgument) << last->status;
  // Routes on groups 1 and 2, no move asked for.
  std::optional<OpResult> cross = MergeAt(driver, "a");
  ASSERT_TRUE(cross.has_value());
  EXPECT_EQ(cross->status.code(), absl::StatusCode::kFailedPrecondition) << cross->status;
  EXPECT_NE(cross->status.message().find("move one into the other's group"), std::string::npos)
      << cross->status;
  // A stale version.
  std::optional<OpResult> stale = MergeAt(driver, "a", true, version + 5);
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(stale->status.code(), absl::StatusCode::kFailedPrecondition) << stale->status;
  // A right route id that is not the one after it.
  std::optional<OpResult> wrong = driver.Run([&](Coordinator& c) {
    MergeRangeSpec spec;
    spec.key = "a";
    spec.right_route_id = 999;
    return c.StartMergeRange(spec);
  });
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(wrong->status.code(), absl::StatusCode::kFailedPrecondition) << wrong->status;
  EXPECT_EQ(driver.group(1).catalog()->version(), version) << "a refused merge changed the catalog";
}

// Neighbours on two groups: the right one moves into the left's group (with its values and
// the open transaction's lock), then they merge.
TEST(RangeMergerTest, MergesAcrossGroupsByMovingTheRightRouteFirst) {
  FakeDriver driver;
  WriteAll(driver, 1);
  for (const std::string key : {"n", "p", "x"}) driver.WriteDirect(2, key, key + "-2");
  const uint64_t start_ts = OpenTransaction(driver);
  std::optional<OpResult> merged = MergeAt(driver, "a", /*move_if_needed=*/true);
  ASSERT_TRUE(merged.has_value());
  ASSERT_TRUE(merged->status.ok()) << merged->status;
  EXPECT_TRUE(merged->merge->moved);
  ASSERT_TRUE(merged->merge->move.has_value());
  EXPECT_EQ(merged->merge->move->source_group, 2u);
  EXPECT_EQ(merged->merge->move->target_group, 1u);
  EXPECT_EQ(merged->merge->merged.start, "");
  EXPECT_TRUE(merged->merge->merged.end.empty());
  EXPECT_EQ(merged->merge->merged.raft_group_id, 1u);
  EXPECT_EQ(driver.group(1).catalog()->route_count(), 1u);
  EXPECT_TRUE(driver.Records(2, "m", "").empty()) << "the source dropped the moved range";
  ExpectAll(driver, 1);
  for (const std::string key : {"p", "x"}) {
    std::optional<OpResult> got = driver.Run([&](Coordinator& c) { return c.StartRawGet(key, 0); });
    ASSERT_TRUE(got.has_value() && got->status.ok()) << key << ": " << got->status;
    EXPECT_EQ(got->value, key + "-2");
  }
  std::optional<OpResult> commit = driver.Run([&](Coordinator& c) {
    return c.StartCommit(start_ts, {"c", "n"});
  });
  ASSERT_TRUE(commit.has_value() && commit->status.ok()) << commit->status;
  ASSERT_TRUE(commit->key_errors.empty()) << commit->key_errors.front().message;
  std::optional<OpResult> read = driver.Run([&](Coordinator& c) { return c.StartTxnGet("n", 0); });
  ASSERT_TRUE(read.has_value() && read->status.ok()) << read->status;
  EXPECT_EQ(read->value, "n-txn");
}

// The planted merge_skips_move: the catalog names group 1 for keys group 2 still holds, and
// group 2 is never told: group 1 answers them as absent, group 2 goes on serving them.
TEST(RangeMergerTest, PlantedSkipsMoveLosesTheRightRoutesValues) {
  FakeDriver driver;
  driver.NewCoordinator(CoordinatorPlants{.merge_skips_move = true});
  route::PlantedRouteBugs bugs;
  bugs.merge_across_groups = true;
  driver.group(1).SetPlantedRouteBugs(bugs);
  driver.WriteDirect(2, "p", "p-2");
  std::optional<OpResult> merged = MergeAt(driver, "a");
  ASSERT_TRUE(merged.has_value() && merged->status.ok()) << merged->status;
  std::optional<OpResult> got = driver.Run([&](Coordinator& c) { return c.StartRawGet("p", 0); });
  ASSERT_TRUE(got.has_value() && got->status.ok()) << got->status;
  EXPECT_FALSE(got->value.has_value()) << "group 1 does not hold group 2's records";
  EXPECT_TRUE(driver.group(2).ownership()->CheckOwnership("p", 0, route::AccessKind::kRead).ok())
      << "the right route's group was never told";
}

}  // namespace
}  // namespace ekv::coord
