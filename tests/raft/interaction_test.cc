// Golden-file interaction tests: every tests/raft/testdata/*.txt script is run against an
// in-memory cluster and its output compared with the file. Regenerate with
//   EKV_REWRITE_GOLDEN=1 ./raft_interaction_test   (or --rewrite)
// and review the diff: the golden output is the specification.
#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/raft/raft.h"
#include "gtest/gtest.h"
#include "tests/raft/cluster.h"
#include "tests/raft/datadriven.h"

namespace ekv::testing {
namespace {

using raft::NodeId;

class InteractionEnv {
 public:
  std::string Handle(const TestCommand& cmd);

 private:
  std::vector<NodeId> Targets(const TestCommand& cmd) {
    std::vector<uint64_t> ids = cmd.PositionalUints();
    return std::vector<NodeId>(ids.begin(), ids.end());
  }
  NodeId One(const TestCommand& cmd) {
    std::vector<NodeId> ids = Targets(cmd);
    if (ids.size() != 1) throw std::runtime_error(absl::StrCat(cmd.name, " needs one node id"));
    return ids[0];
  }
  std::string RaftState();
  std::string RaftLog(NodeId id);
  RaftTestCluster cluster_;
  NodeId next_id_ = 1;
};

std::string InteractionEnv::RaftState() {
  std::string out;
  for (NodeId id : cluster_.ids()) {
    TestNode& n = cluster_.node(id);
    if (!n.raw) {
      absl::StrAppend(&out, id, ": crashed\n");
      continue;
    }
    const char* role = raft::StateTypeName(n.raw->state());
    absl::StrAppend(&out, id, ": ", role, " Term:", n.raw->term(), " Lead:", n.raw->leader(),
                    " Commit:", n.raw->commit_index(), " Applied:", n.raw->applied_index(),
                    " Last:", n.raw->last_index(), "\n");
  }
  return out;
}

std::string InteractionEnv::RaftLog(NodeId id) {
  TestNode& n = cluster_.node(id);
  const raft::Index first = n.storage->FirstIndex();
  const raft::Index last = n.storage->LastIndex();
  std::string out;
  auto snapshot = n.storage->GetSnapshot();
  if (snapshot.ok() && !snapshot->IsEmpty()) {
    absl::StrAppend(&out, "snapshot Index:", snapshot->metadata.index,
                    " Term:", snapshot->metadata.term, "\n");
  }
  absl::StrAppend(&out, "stable log ", first, "..", last, ":\n");
  if (last >= first) {
    auto entries = n.storage->Entries(first, last + 1, raft::kNoLimit);
    for (const raft::Entry& e : *entries)
      absl::StrAppend(&out, "  ", DescribeEntryForTest(e), "\n");
  }
  return out;
}

std::string InteractionEnv::Handle(const TestCommand& cmd) {
  std::string out;
  if (cmd.name == "add-nodes") {
    const uint64_t count = cmd.positional.empty() ? 1 : std::stoull(cmd.positional[0]);
    std::vector<NodeId> ids;
    for (uint64_t i = 0; i < count; ++i) ids.push_back(next_id_++);
    std::vector<uint64_t> voters = cmd.GetList("voters");
    std::vector<uint64_t> learners = cmd.GetList("learners");
    if (!cmd.Has("voters") && !cmd.Has("empty")) voters.assign(ids.begin(), ids.end());
    NodeOptions options;
    options.election_tick = static_cast<int>(cmd.GetUint("election", 10));
    options.heartbeat_tick = static_cast<int>(cmd.GetUint("heartbeat", 1));
    options.pre_vote = cmd.GetBool("prevote", false);
    options.check_quorum = cmd.GetBool("checkquorum", false);
    if (cmd.GetBool("lease", false)) options.read_only = raft::ReadOnlyOption::kLeaseBased;
    options.max_clock_drift_ticks = static_cast<int>(cmd.GetUint("drift", 1));
    options.max_size_per_msg = cmd.GetUint("max-size-per-msg", 1 << 20);
    options.max_uncommitted_size = cmd.GetUint("max-uncommitted", 0);
    options.max_inflight = static_cast<int>(cmd.GetUint("max-inflight", 256));
    options.planted.commit_previous_term_by_count = cmd.GetBool("plant-commit-prev-term", false);
    cluster_.AddNodes(ids, std::vector<NodeId>(voters.begin(), voters.end()),
                      std::vector<NodeId>(learners.begin(), learners.end()), options);
    for (NodeId id : ids) {
      absl::StrAppend(&out, "INFO ", id,
                      " started: ", raft::DescribeConfState(cluster_.node(id).raw->conf_state()),
                      "\n");
    }
    return out;
  }
  if (cmd.name == "campaign") {
    absl::Status s = cluster_.node(One(cmd)).raw->Campaign();
    return s.ok() ? RaftState() : absl::StrCat("error: ", s.message(), "\n");
  }
  if (cmd.name == "tick") {
    const uint64_t times = cmd.GetUint("times", 1);
    for (NodeId id : Targets(cmd)) {
      for (uint64_t i = 0; i < times; ++i) cluster_.node(id).raw->Tick();
    }
    return RaftState();
  }
  if (cmd.name == "tick-election") {
    // Enough ticks to pass even the largest randomized election timeout.
    for (NodeId id : Targets(cmd)) {
      TestNode& n = cluster_.node(id);
      for (int i = 0; i < 2 * n.options.election_tick; ++i) n.raw->Tick();
    }
    return RaftState();
  }
  if (cmd.name == "tick-heartbeat") {
    // One heartbeat interval on each node (a leader broadcasts MsgHeartbeat once).
    for (NodeId id : Targets(cmd)) {
      TestNode& n = cluster_.node(id);
      for (int i = 0; i < n.options.heartbeat_tick; ++i) n.raw->Tick();
    }
    return RaftState();
  }
  if (cmd.name == "hard-state") {
    // What is on the node's disk, i.e. what survives a crash.
    TestNode& n = cluster_.node(One(cmd));
    return absl::StrCat("stored HardState ", raft::DescribeHardState(n.storage->hard_state()),
                        "\n");
  }
  if (cmd.name == "conf-state") {
    for (NodeId id : Targets(cmd)) {
      TestNode& n = cluster_.node(id);
      if (!n.raw) {
        absl::StrAppend(&out, id, ": crashed\n");
        continue;
      }
      absl::StrAppend(&out, id, ": ", raft::DescribeConfState(n.raw->conf_state()), "\n");
    }
    return out;
  }
  if (cmd.name == "propose") {
    if (cmd.positional.size() < 2) throw std::runtime_error("propose ID DATA");
    absl::Status s = cluster_.node(std::stoull(cmd.positional[0])).raw->Propose(cmd.positional[1]);
    return s.ok() ? "ok\n" : absl::StrCat("error: ", s.message(), "\n");
  }
  if (cmd.name == "propose-conf-change") {
    raft::ConfChange change;
    const std::string transition = cmd.Get("transition", "auto");
    if (transition == "implicit") change.transition = raft::ConfChangeTransition::kJointImplicit;
    if (transition == "explicit") change.transition = raft::ConfChangeTransition::kJointExplicit;
    for (size_t i = 1; i < cmd.positional.size(); ++i) {
      const std::string& word = cmd.positional[i];
      raft::ConfChangeSingle single;
      single.node = std::stoull(word.substr(1));
      switch (word[0]) {
        case 'v':
          single.type = raft::ConfChangeType::kAddVoter;
          break;
        case 'l':
          single.type = raft::ConfChangeType::kAddLearner;
          break;
        case 'r':
          single.type = raft::ConfChangeType::kRemoveVoter;
          break;
        default:
          throw std::runtime_error("conf change words are v<id>, l<id>, r<id>");
      }
      change.changes.push_back(single);
    }
    absl::Status s = cluster_.node(std::stoull(cmd.positional[0])).raw->ProposeConfChange(change);
    return s.ok() ? "ok\n" : absl::StrCat("error: ", s.message(), "\n");
  }
  if (cmd.name == "process-ready") {
    for (NodeId id : Targets(cmd)) {
      if (!cluster_.ProcessReady(id, &out)) absl::StrAppend(&out, "> ", id, " no Ready\n");
    }
    return out;
  }
  if (cmd.name == "deliver-msgs") {
    for (NodeId id : Targets(cmd)) {
      absl::StrAppend(&out, "> ", id, " receiving messages\n");
      cluster_.Deliver({id}, &out);
    }
    return out;
  }
  if (cmd.name == "drop-msgs") {
    const NodeId to = cmd.GetUint("to", 0);
    const NodeId from = cmd.GetUint("from", 0);
    cluster_.DropMessages(to, from, &out);
    return out.empty() ? "no messages\n" : out;
  }
  if (cmd.name == "stabilize") {
    cluster_.Stabilize(Targets(cmd), &out);
    return out;
  }
  if (cmd.name == "stabilize-quiet") {
    cluster_.Stabilize(Targets(cmd), nullptr);
    return RaftState();
  }
  if (cmd.name == "raft-state") return RaftState();
  if (cmd.name == "raft-log") return RaftLog(One(cmd));
  if (cmd.name == "status") {
    TestNode& n = cluster_.node(One(cmd));
    return n.raw->DescribeProgress();
  }
  if (cmd.name == "applied") {
    TestNode& n = cluster_.node(One(cmd));
    return absl::StrCat("applied index ", n.applied_index, ": [", absl::StrJoin(n.applied, " "),
                        "]\n");
  }
  if (cmd.name == "partition") {
    // partition 1 2 / 3 4 5
    std::vector<std::vector<NodeId>> sides(1);
    for (const std::string& word : cmd.positional) {
      if (word == "/") {
        sides.emplace_back();
      } else {
        sides.back().push_back(std::stoull(word));
      }
    }
    cluster_.Partition(sides);
    return "ok\n";
  }
  if (cmd.name == "isolate") {
    const NodeId isolated = One(cmd);
    std::vector<NodeId> others;
    for (NodeId id : cluster_.ids()) {
      if (id != isolated) others.push_back(id);
    }
    cluster_.Partition({{isolated}, others});
    return "ok\n";
  }
  if (cmd.name == "heal") {
    cluster_.Heal();
    return "ok\n";
  }
  if (cmd.name == "crash") {
    cluster_.Crash(One(cmd));
    return RaftState();
  }
  if (cmd.name == "restart") {
    cluster_.Restart(One(cmd));
    return RaftState();
  }
  if (cmd.name == "read-index") {
    if (cmd.positional.size() < 2) throw std::runtime_error("read-index ID CONTEXT");
    absl::Status s =
        cluster_.node(std::stoull(cmd.positional[0])).raw->ReadIndex(cmd.positional[1]);
    return s.ok() ? "ok\n" : absl::StrCat("error: ", s.message(), "\n");
  }
  if (cmd.name == "read-states") {
    TestNode& n = cluster_.node(One(cmd));
    for (const raft::ReadState& rs : n.read_states) {
      absl::StrAppend(&out, "Index:", rs.index, " Context:\"", rs.request_context, "\"\n");
    }
    n.read_states.clear();
    return out.empty() ? "none\n" : out;
  }
  if (cmd.name == "lease") {
    TestNode& n = cluster_.node(One(cmd));
    return n.raw->raft_for_testing().LeaseValid() ? "lease valid\n" : "lease not valid\n";
  }
  if (cmd.name == "transfer-leadership") {
    const NodeId from = cmd.GetUint("from", 0);
    const NodeId to = cmd.GetUint("to", 0);
    absl::Status s = cluster_.node(from).raw->TransferLeadership(to);
    return s.ok() ? "ok\n" : absl::StrCat("error: ", s.message(), "\n");
  }
  if (cmd.name == "compact") {
    if (cmd.positional.size() < 2) throw std::runtime_error("compact ID INDEX");
    absl::Status s =
        cluster_.Compact(std::stoull(cmd.positional[0]), std::stoull(cmd.positional[1]));
    return s.ok() ? RaftLog(std::stoull(cmd.positional[0]))
                  : absl::StrCat("error: ", s.message(), "\n");
  }
  if (cmd.name == "report-unreachable") {
    cluster_.node(cmd.GetUint("from", 0)).raw->ReportUnreachable(cmd.GetUint("to", 0));
    return "ok\n";
  }
  throw std::runtime_error(absl::StrCat("unknown command ", cmd.name));
}

std::vector<std::string> TestdataFiles() {
  std::vector<std::string> files;
  const std::filesystem::path dir = std::filesystem::path(EKV_SOURCE_DIR) / "tests/raft/testdata";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class InteractionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InteractionTest, MatchesGolden) {
  InteractionEnv env;
  const std::string failures = RunDataDrivenFile(
      GetParam(), RewriteRequested(), [&env](const TestCommand& cmd) { return env.Handle(cmd); });
  EXPECT_TRUE(failures.empty()) << failures;
}

INSTANTIATE_TEST_SUITE_P(Testdata, InteractionTest, ::testing::ValuesIn(TestdataFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = std::filesystem::path(info.param).stem().string();
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace ekv::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--rewrite") ekv::testing::SetRewriteRequested(true);
  }
  return RUN_ALL_TESTS();
}
