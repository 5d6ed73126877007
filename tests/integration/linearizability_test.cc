// Linearizability from outside: client threads RawPut/RawGet a handful of keys through
// random nodes while the leader of group 1 is killed -9 and restarted; the recorded
// history goes through the simulator's checker. The same history with one planted stale
// read must then fail the check, so a pass is not a checker that never says no.
#include <atomic>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sim/checkers/linearizability.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/history_recorder.h"

namespace ekv::integration {
namespace {

using checkers::LinearizabilityResult;
using checkers::Operation;
using std::chrono::milliseconds;

constexpr int kClients = 4;
constexpr int kMaxOpsPerClient = 8000;
constexpr milliseconds kOpTimeout{1000};
// Operations answered OK before the history is judged: in all, and after the faulty node is
// back (so the history shows it serving again).
constexpr int kEnoughServed = 100;
constexpr int kEnoughServedAfter = 20;
// Two keys on group 1 (whose leader is killed), one on group 2.
const std::vector<std::string> kKeys = {"a/lin/0", "a/lin/1", "n/lin/2"};

enum class Fault { kKillAndRestart, kPauseAndResume };

void CheckRegisterHistoryUnderFault(ProcessCluster& cluster, Fault fault) {
  // Probe a key of the same group, not one of the checked registers (which start absent).
  absl::StatusOr<int> found = FindLeader(cluster, "a/lin-probe");
  ASSERT_TRUE(found.ok()) << found.status();
  const int victim = *found;
  std::cout << "group 1 leader (to be " << (fault == Fault::kKillAndRestart ? "killed" : "paused")
            << "): n" << victim << "\n";

  HistoryRecorder recorder;
  std::atomic<uint32_t> up_nodes{0b111};  // bit i-1: clients may send to node i
  std::atomic<bool> stop{false};
  std::atomic<int> served{0};  // operations answered OK so far
  std::vector<std::thread> clients;
  // Joins the clients on every way out, an ASSERT's early return included.
  struct StopClients {
    std::atomic<bool>* stop;
    std::vector<std::thread>* clients;
    ~StopClients() {
      stop->store(true);
      for (std::thread& client : *clients) {
        if (client.joinable()) client.join();
      }
    }
  } stop_clients{&stop, &clients};
  for (int client = 0; client < kClients; ++client) {
    clients.emplace_back([&, client] {
      std::mt19937 rng(static_cast<uint32_t>(1000 + client));
      for (int seq = 0; seq < kMaxOpsPerClient && !stop; ++seq) {
        const std::string& key = kKeys[rng() % kKeys.size()];
        std::vector<int> nodes;
        for (int node = 1; node <= 3; ++node) {
          if (up_nodes.load() & (1u << (node - 1))) nodes.push_back(node);
        }
        const int node = nodes[rng() % nodes.size()];
        if (rng() % 2 == 0) {
          const std::string value = "c" + std::to_string(client) + "-" + std::to_string(seq);
          const uint64_t id = recorder.BeginWrite(client, key, value, MonotonicMicros());
          grpc::Status status = RawPut(cluster, node, key, value, kOpTimeout);
          recorder.EndWrite(id, status, MonotonicMicros());
          if (status.ok()) ++served;
        } else {
          const uint64_t id = recorder.BeginRead(client, key, MonotonicMicros());
          ReadResult read = RawGet(cluster, node, key, kOpTimeout);
          recorder.EndRead(id, read.status, read.exists, read.value, MonotonicMicros());
          if (read.status.ok()) ++served;
        }
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(1000));
  up_nodes &= ~(1u << (victim - 1));
  absl::Status restarted;
  if (fault == Fault::kKillAndRestart) {
    cluster.Kill(victim);
    std::this_thread::sleep_for(milliseconds(1500));
    restarted = cluster.RestartNode(victim);
  } else {
    // A paused leader that resumes must not serve reads from a lease it no longer holds.
    cluster.Pause(victim);
    std::this_thread::sleep_for(milliseconds(1500));
    // Written through a live node while the old leader is stopped, then read through the
    // old leader the moment it resumes: its lease ran out while it was stopped.
    const int live = victim == 1 ? 2 : 1;
    const grpc::Status put = RawPutEventually(cluster, live, "a/lin-probe", "after-pause");
    ASSERT_TRUE(put.ok()) << put.error_message();
    cluster.Resume(victim);
    const ReadResult first_read = RawGet(cluster, victim, "a/lin-probe", kOpTimeout);
    if (first_read.status.ok()) {
      EXPECT_EQ(first_read.value, "after-pause")
          << "the resumed old leader served a read from an expired lease";
    }
  }
  up_nodes |= 1u << (victim - 1);
  // 1.5 s more with every node, and until enough was served to judge (a loaded machine
  // serves less in any fixed time: the count, not the clock, is what the verdict needs).
  const int served_before = served.load();
  const auto settle_start = std::chrono::steady_clock::now();
  const auto settle_deadline = settle_start + kPollBudget;
  while (std::chrono::steady_clock::now() < settle_deadline &&
         (std::chrono::steady_clock::now() < settle_start + milliseconds(1500) ||
          served.load() <= kEnoughServed || served.load() - served_before < kEnoughServedAfter)) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  stop = true;
  for (std::thread& client : clients) client.join();
  ASSERT_TRUE(restarted.ok()) << restarted;

  const checkers::History history = recorder.history();
  size_t ok = 0, failed = 0, unknown = 0;
  for (const Operation& op : history.operations()) {
    if (op.outcome == Operation::Outcome::kOk) ++ok;
    if (op.outcome == Operation::Outcome::kFailed) ++failed;
    if (op.outcome == Operation::Outcome::kUnknown) ++unknown;
  }
  const uint64_t check_start_us = MonotonicMicros();
  const LinearizabilityResult result = checkers::CheckLinearizable(history);
  std::cout << "history: " << history.size() << " operations (" << ok << " ok, " << failed
            << " failed reads, " << unknown << " unknown writes) on " << kKeys.size()
            << " keys; verdict " << checkers::VerdictName(result.verdict) << " after "
            << result.total_steps << " steps in " << (MonotonicMicros() - check_start_us) / 1000
            << " ms\n";
  ASSERT_GT(ok, static_cast<size_t>(kEnoughServed)) << "too little was served to judge";
  EXPECT_EQ(result.verdict, LinearizabilityResult::Verdict::kOk) << "key " << result.key << "\n"
                                                                 << result.explanation;

  // Test the test: the same history with a planted stale read is a violation.
  std::optional<checkers::History> doctored = WithInjectedStaleRead(history);
  ASSERT_TRUE(doctored.has_value()) << "no two real-time-ordered ok writes to plant a stale read";
  const LinearizabilityResult planted = checkers::CheckLinearizable(*doctored);
  EXPECT_EQ(planted.verdict, LinearizabilityResult::Verdict::kViolation)
      << "the planted stale read went unnoticed";
}

TEST_F(ClusterTest, RegisterHistoryIsLinearizableAcrossLeaderKillAndRestart) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  CheckRegisterHistoryUnderFault(cluster(), Fault::kKillAndRestart);
}

TEST_F(ClusterTest, RegisterHistoryIsLinearizableAcrossLeaderPause) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  CheckRegisterHistoryUnderFault(cluster(), Fault::kPauseAndResume);
}

}  // namespace
}  // namespace ekv::integration
