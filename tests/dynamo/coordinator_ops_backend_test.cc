// CoordinatorOpsBackend (adapters/dynamo/coordinator_ops_backend.h): every store call is a
// core op launched through the driver's Launch, answered either inside Launch (the server:
// the caller must go on without suspending) or later (the simulator: the caller suspends
// and the answer resumes it). A scripted driver answers both ways, over a real
// coord::Coordinator that starts each op (so `start` is a real core op start, and a
// refusal core makes at once is the answer). Pinned: resumption on both paths and on
// mixed chains of calls, through nested Tasks, and errors handed back as values.
#include "adapters/dynamo/coordinator_ops_backend.h"

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/task.h"
#include "core/coord/coordinator.h"
#include "core/route/catalog.h"
#include "gtest/gtest.h"

namespace ekv::dynamo {
namespace {

using coord::OpResult;

// A node that hosts no group: the coordinator starts ops (and refuses malformed ones at
// once) but nothing it sends is ever answered; the script answers instead.
class NoGroups : public coord::GroupView {
 public:
  bool Hosts(raft::GroupId) const override { return false; }
  raft::NodeId LeaderOf(raft::GroupId) const override { return raft::kNoNode; }
  std::map<raft::GroupId, raft::ConfState> Configurations() const override { return {}; }
};

class ScriptedOpsBackend : public CoordinatorOpsBackend {
 public:
  enum class Mode { kInline, kLater };

  ScriptedOpsBackend() : coordinator_(Options(), &view_) { coordinator_.SetTime(1, 1'000'000); }

  // How the next launches are answered (each launch takes the front of `modes`, or `mode`
  // when it is empty) and with what (the front of `answers`; an op core refused at start
  // is answered with core's refusal instead).
  Mode mode = Mode::kInline;
  std::deque<Mode> modes;
  std::deque<OpResult> answers;

  int launches = 0;
  std::vector<Patience> patiences;
  uint64_t ops_started() const { return coordinator_.stats().ops_started; }
  size_t pending() const { return pending_.size(); }

  // Answers the oldest launch left for later.
  void AnswerOne() {
    ASSERT_FALSE(pending_.empty()) << "no launch waits for an answer";
    auto [done, result] = std::move(pending_.front());
    pending_.pop_front();
    done(std::move(result));
  }

 protected:
  void Launch(Start start, Patience patience, Done done) override {
    ++launches;
    patiences.push_back(patience);
    const coord::OpId op = start(coordinator_);
    std::optional<OpResult> refused;
    for (coord::OpDone& finished : coordinator_.TakeEffects().done) {
      if (finished.op == op) refused = std::move(finished.result);
    }
    OpResult answer;
    if (refused.has_value()) {
      answer = std::move(*refused);
    } else {
      EXPECT_FALSE(answers.empty()) << "launch " << launches << " has no scripted answer";
      if (!answers.empty()) {
        answer = std::move(answers.front());
        answers.pop_front();
      }
    }
    Mode how = mode;
    if (!modes.empty()) {
      how = modes.front();
      modes.pop_front();
    }
    if (how == Mode::kInline) {
      done(std::move(answer));
    } else {
      pending_.emplace_back(std::move(done), std::move(answer));
    }
  }

 private:
  static coord::CoordinatorOptions Options() {
    coord::CoordinatorOptions options;
    options.node_id = 1;
    options.seed = 3;
    return options;
  }

  NoGroups view_;
  coord::Coordinator coordinator_;
  std::deque<std::pair<Done, OpResult>> pending_;
};

OpResult Value(std::optional<std::string> value) {
  OpResult result;
  result.value = std::move(value);
  return result;
}
OpResult Error(absl::Status status) {
  OpResult result;
  result.status = std::move(status);
  return result;
}

// A request's shape: nested Tasks, several calls, the next call depending on the answer
// before it. Returns what it saw, or the first error.
Task<absl::StatusOr<std::string>> ReadIncrementRead(DynamoBackend* backend) {
  absl::StatusOr<std::optional<std::string>> first = co_await backend->Get("k");
  if (!first.ok()) co_return first.status();
  const std::string next = first->value_or("0") + "+1";
  absl::StatusOr<DynamoBackend::CasResult> cas = co_await backend->CompareAndSet("k", *first, next);
  if (!cas.ok()) co_return cas.status();
  absl::StatusOr<std::optional<std::string>> second = co_await backend->Get("k");
  if (!second.ok()) co_return second.status();
  co_return absl::StrCat(first->value_or("absent"), " cas=", cas->applied ? "applied" : "refused",
                         " then ", second->value_or("absent"));
}

Task<absl::StatusOr<std::string>> Outer(DynamoBackend* backend) {
  absl::StatusOr<std::string> inner = co_await ReadIncrementRead(backend);
  if (!inner.ok()) co_return inner.status();
  co_return "outer saw " + *inner;
}

OpResult Applied(bool applied, std::optional<std::string> current) {
  OpResult result;
  result.applied = applied;
  result.value = std::move(current);
  return result;
}

TEST(DynamoCoordinatorOpsBackendTest, AnswersInsideLaunchNeverSuspend) {
  ScriptedOpsBackend backend;
  backend.answers = {Value("5"), Applied(true, "5"), Value("5+1")};
  // RunInline asserts that the task never suspended.
  absl::StatusOr<std::string> seen = RunInline(Outer(&backend));
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(*seen, "outer saw 5 cas=applied then 5+1");
  EXPECT_EQ(backend.launches, 3);
  EXPECT_EQ(backend.ops_started(), 3u);  // each launch started a real core op
}

TEST(DynamoCoordinatorOpsBackendTest, AnswersAfterLaunchResumeTheCallerEachTime) {
  ScriptedOpsBackend backend;
  backend.mode = ScriptedOpsBackend::Mode::kLater;
  backend.answers = {Value(std::nullopt), Applied(false, "9"), Value("9")};
  Task<absl::StatusOr<std::string>> task = Outer(&backend);
  EXPECT_FALSE(task.StartInline()) << "the first call is answered later: the task suspends";
  for (int call = 1; call <= 3; ++call) {
    ASSERT_EQ(backend.launches, call);
    ASSERT_EQ(backend.pending(), 1u);
    EXPECT_FALSE(task.done()) << "call " << call;
    backend.AnswerOne();  // resumes the request up to its next call (or its end)
  }
  ASSERT_TRUE(task.done());
  absl::StatusOr<std::string> seen = task.TakeResult();
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(*seen, "outer saw absent cas=refused then 9");
}

TEST(DynamoCoordinatorOpsBackendTest, InlineAndLaterAnswersMixInOneRequest) {
  // later, inline, later: the awaiter of an inline answer must not wait for a resume that
  // never comes, and the one after it must not be resumed twice.
  ScriptedOpsBackend backend;
  backend.modes = {ScriptedOpsBackend::Mode::kLater, ScriptedOpsBackend::Mode::kInline,
                   ScriptedOpsBackend::Mode::kLater};
  backend.answers = {Value("1"), Applied(true, "1"), Value("1+1")};
  Task<absl::StatusOr<std::string>> task = Outer(&backend);
  EXPECT_FALSE(task.StartInline());
  backend.AnswerOne();  // Get answered; the CAS is answered inside its launch; the Get waits
  EXPECT_EQ(backend.launches, 3);
  EXPECT_FALSE(task.done());
  backend.AnswerOne();
  ASSERT_TRUE(task.done());
  absl::StatusOr<std::string> seen = task.TakeResult();
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(*seen, "outer saw 1 cas=applied then 1+1");
  EXPECT_EQ(backend.pending(), 0u);
}

TEST(DynamoCoordinatorOpsBackendTest, ErrorsComeBackAsValuesOnBothPaths) {
  for (ScriptedOpsBackend::Mode mode :
       {ScriptedOpsBackend::Mode::kInline, ScriptedOpsBackend::Mode::kLater}) {
    ScriptedOpsBackend backend;
    backend.mode = mode;
    backend.answers = {Value("1"), Error(absl::UnavailableError("no leader"))};
    Task<absl::StatusOr<std::string>> task = Outer(&backend);
    if (!task.StartInline()) {
      backend.AnswerOne();
      backend.AnswerOne();
    }
    ASSERT_TRUE(task.done());
    absl::StatusOr<std::string> seen = task.TakeResult();
    EXPECT_EQ(seen.status().code(), absl::StatusCode::kUnavailable) << seen.status();
    EXPECT_EQ(seen.status().message(), "no leader");
    EXPECT_EQ(backend.launches, 2) << "the request stops at the first error";
  }
}

TEST(DynamoCoordinatorOpsBackendTest, CoreRefusalAtStartIsTheAnswer) {
  // core refuses an empty key before it sends anything: the refusal, not a script, answers.
  ScriptedOpsBackend backend;
  absl::StatusOr<std::optional<std::string>> got = RunInline(backend.Get(""));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << got.status();
  // A snapshot read without a timestamp never reaches Launch.
  absl::StatusOr<std::optional<std::string>> snap = RunInline(backend.SnapshotGet("k", 0));
  EXPECT_EQ(snap.status().code(), absl::StatusCode::kInvalidArgument) << snap.status();
  EXPECT_EQ(backend.launches, 1);
}

TEST(DynamoCoordinatorOpsBackendTest, CommitOutcomesMapToCommittedRefusedOrTheStoresError) {
  ScriptedOpsBackend backend;
  backend.mode = ScriptedOpsBackend::Mode::kLater;
  const std::vector<DynamoBackend::TxnWrite> writes = {{"a", "1"}, {"b", std::nullopt}};
  OpResult conflict = Error(absl::AbortedError("write conflict"));
  conflict.key_errors.push_back({"b", "newer version", false});
  OpResult locked = Error(absl::UnavailableError("KeyIsLocked"));
  locked.key_errors.push_back({"a", "locked", true});
  OpResult unknown = Error(absl::UnavailableError("commit outcome unknown"));
  unknown.key_errors.push_back({"a", "locked", true});
  backend.answers = {OpResult{}, conflict, locked, unknown};
  std::vector<absl::StatusOr<DynamoBackend::CommitResult>> results;
  for (int i = 0; i < 4; ++i) {
    Task<absl::StatusOr<DynamoBackend::CommitResult>> task =
        backend.CommitTransaction(writes, /*start_ts=*/10);
    ASSERT_FALSE(task.StartInline());
    backend.AnswerOne();
    ASSERT_TRUE(task.done());
    results.push_back(task.TakeResult());
  }
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  EXPECT_TRUE(results[0]->committed);
  ASSERT_TRUE(results[1].ok()) << results[1].status();
  EXPECT_FALSE(results[1]->committed);
  EXPECT_EQ(results[1]->conflict_keys, std::vector<std::string>{"b"});
  ASSERT_TRUE(results[2].ok()) << results[2].status();
  EXPECT_FALSE(results[2]->committed);
  EXPECT_EQ(results[2]->conflict_keys, std::vector<std::string>{"a"});
  EXPECT_EQ(results[3].status().code(), absl::StatusCode::kUnavailable) << results[3].status();
}

TEST(DynamoCoordinatorOpsBackendTest, CatalogAndMoveCalls) {
  ScriptedOpsBackend backend;
  absl::StatusOr<route::RouteCatalog> catalog =
      route::RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 2}});
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  OpResult read;
  read.catalog = *catalog;
  backend.answers = {read, OpResult{}, Error(absl::DeadlineExceededError("move too slow"))};
  absl::StatusOr<DynamoBackend::Routes> routes = RunInline(backend.ReadRoutes());
  ASSERT_TRUE(routes.ok()) << routes.status();
  EXPECT_EQ(routes->version, catalog->version());
  ASSERT_EQ(routes->routes.size(), 2u);
  EXPECT_EQ(routes->routes[0].start, "");
  EXPECT_EQ(routes->routes[0].end, "m");
  EXPECT_EQ(routes->routes[0].group, 1u);
  EXPECT_EQ(routes->routes[1].group, 2u);
  EXPECT_TRUE(routes->routes[1].active);
  EXPECT_TRUE(RunInline(backend.SplitRoute(routes->version, routes->routes[1].route_id, "t")).ok());
  absl::Status moved = RunInline(backend.MoveRoute("t", 1));
  EXPECT_EQ(moved.code(), absl::StatusCode::kDeadlineExceeded) << moved;
  ASSERT_EQ(backend.patiences.size(), 3u);
  EXPECT_EQ(backend.patiences[0], CoordinatorOpsBackend::Patience::kRequest);
  EXPECT_EQ(backend.patiences[2], CoordinatorOpsBackend::Patience::kMove);
}

}  // namespace
}  // namespace ekv::dynamo
