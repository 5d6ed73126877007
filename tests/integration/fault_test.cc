// Process faults on a real 3-node cluster under client write load: kill -9 of a leader,
// a node that misses compacted log and catches up by snapshot, kill -9 of every node,
// and a leader paused with SIGSTOP. The invariant every test ends with: no write a client
// saw acknowledged is lost.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_client.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/write_load.h"

namespace ekv::integration {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr int kLoadThreads = 4;
// Failover is asserted to happen within the poll budget, not within a time: a shared 2-core
// machine can stretch it arbitrarily. The measured gap (election timeout [200, 400) ms at
// the default options, plus pre-vote's round trip) is printed for humans to watch.

std::vector<int> OthersThan(int excluded, int nodes = 3) {
  std::vector<int> out;
  for (int i = 1; i <= nodes; ++i) {
    if (i != excluded) out.push_back(i);
  }
  return out;
}

size_t CountGroup(const std::vector<AckedWrite>& acked, int group) {
  return static_cast<size_t>(std::count_if(
      acked.begin(), acked.end(), [group](const AckedWrite& w) { return w.group == group; }));
}

// Milliseconds from `since_us` to the first ack of a write of `group` invoked after it;
// nullopt when there is none.
std::optional<uint64_t> FirstAckAfterMs(const std::vector<AckedWrite>& acked, int group,
                                        uint64_t since_us) {
  std::optional<uint64_t> first;
  for (const AckedWrite& w : acked) {
    if (w.group != group || w.invoke_us < since_us) continue;
    if (!first.has_value() || w.ack_us < *first) first = w.ack_us;
  }
  if (!first.has_value()) return std::nullopt;
  return (*first - since_us) / 1000;
}

// Polls the load's acknowledged writes until `done(acked)` holds and at least `at_least` has
// passed, or kPollBudget passes; returns whether `done` held. A fixed sleep is not enough: on a
// loaded machine the first writes, an election, or a resumed node's return take longer than
// on an idle one, and a test that only slept would fail without anything being wrong. The
// minimum keeps each phase as long as the scenario needs on a fast machine.
template <typename Done>
bool WaitForAcks(const WriteLoad& load, milliseconds at_least, Done done) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + kPollBudget;
  while (true) {
    const bool held = done(load.Acked());
    const auto now = std::chrono::steady_clock::now();
    if ((held && now >= start + at_least) || now >= deadline) return held;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

// Whether `acked` holds at least `count` writes of each of groups 1 and 2.
bool BothGroupsAcked(const std::vector<AckedWrite>& acked, size_t count) {
  return CountGroup(acked, 1) >= count && CountGroup(acked, 2) >= count;
}

// The longest stretch without any ack of `group` in [from_us, to_us].
uint64_t LongestAckGapMs(const std::vector<AckedWrite>& acked, int group, uint64_t from_us,
                         uint64_t to_us) {
  std::vector<uint64_t> times{from_us, to_us};
  for (const AckedWrite& w : acked) {
    if (w.group == group && w.ack_us >= from_us && w.ack_us <= to_us) times.push_back(w.ack_us);
  }
  std::sort(times.begin(), times.end());
  uint64_t gap = 0;
  for (size_t i = 1; i < times.size(); ++i) gap = std::max(gap, times[i] - times[i - 1]);
  return gap / 1000;
}

TEST_F(ClusterTest, KillLeaderUnderWriteLoadLosesNoAcknowledgedWrite) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  absl::StatusOr<int> found = FindLeader(cluster(), "a/probe");
  ASSERT_TRUE(found.ok()) << found.status();
  const int leader = *found;
  const std::vector<int> survivors = OthersThan(leader);
  std::cout << "group 1 leader: n" << leader << "\n";

  WriteLoad load(&cluster(), "kill", {1, 2, 3}, kLoadThreads);
  load.Start();
  ASSERT_TRUE(WaitForAcks(load, milliseconds(1000), [](const std::vector<AckedWrite>& acked) {
    return BothGroupsAcked(acked, 10);
  })) << "the load got no writes acknowledged before the kill";
  const uint64_t kill_us = MonotonicMicros();
  cluster().Kill(leader);
  // Until a new group-1 leader acknowledged a write (at least 3 s, to measure the gap).
  WaitForAcks(load, milliseconds(3000), [kill_us](const std::vector<AckedWrite>& acked) {
    return FirstAckAfterMs(acked, 1, kill_us).has_value();
  });
  const uint64_t end_us = MonotonicMicros();
  load.Stop();

  const std::vector<AckedWrite> acked = load.Acked();
  const std::optional<uint64_t> gap = FirstAckAfterMs(acked, 1, kill_us);
  std::cout << "acknowledged writes: " << acked.size() << " of " << load.attempts() << " attempts ("
            << CountGroup(acked, 1) << " group 1, " << CountGroup(acked, 2)
            << " group 2); failover: first group-1 ack "
            << (gap.has_value() ? std::to_string(*gap) : std::string("never"))
            << " ms after kill -9"
            << " of n" << leader << ", longest group-1 ack gap "
            << LongestAckGapMs(acked, 1, kill_us, end_us) << " ms, group-2 ack gap "
            << LongestAckGapMs(acked, 2, kill_us, end_us) << " ms\n";
  ASSERT_TRUE(gap.has_value()) << "group 1 never served a write after its leader was killed";

  for (int node : survivors) {
    EXPECT_EQ(FindLostWrites(cluster(), node, acked), "") << "after the kill, read via n" << node;
  }

  // The killed node restarts on its data and must catch up: pause one survivor so the
  // restarted node is needed for every quorum, then read everything through both.
  const uint64_t restart_us = MonotonicMicros();
  absl::Status restarted = cluster().RestartNode(leader);
  ASSERT_TRUE(restarted.ok()) << restarted;
  std::cout << "n" << leader << " restarted and serving after "
            << (MonotonicMicros() - restart_us) / 1000 << " ms\n";
  const int paused = survivors[0];
  const int other = survivors[1];
  cluster().Pause(paused);
  for (int node : {leader, other}) {
    EXPECT_EQ(FindLostWrites(cluster(), node, acked), "")
        << "with n" << paused << " paused, read via n" << node;
  }
  grpc::Status put = RawPutEventually(cluster(), leader, "a/after-restart", "1");
  EXPECT_TRUE(put.ok()) << Describe(put);
  put = RawPutEventually(cluster(), leader, "n/after-restart", "2");
  EXPECT_TRUE(put.ok()) << Describe(put);
  cluster().Resume(paused);
}

TEST_F(ClusterTest, NodeBehindCompactedLogCatchesUpBySnapshot) {
  ClusterOptions options;
  options.snapshot_interval_entries = 50;
  // Small chunks, so the snapshot must arrive in many pieces.
  options.extra_flags = {"--snapshot_chunk_bytes=4096"};
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  ASSERT_EQ(cluster().Terminate(3), 0) << "graceful stop of n3";

  // The server compacts the log to (applied - 1000) at each snapshot, so n3 must fall more
  // than ~1050 entries behind in each group before it can only catch up by snapshot.
  constexpr size_t kWritesPerGroup = 1300;
  WriteLoad load(&cluster(), "snap", {1, 2}, 6);
  const uint64_t start_us = MonotonicMicros();
  load.Start();
  for (int i = 0; i < 1200; ++i) {  // bounded: 60 s
    const std::vector<AckedWrite> acked = load.Acked();
    if (CountGroup(acked, 1) >= kWritesPerGroup && CountGroup(acked, 2) >= kWritesPerGroup) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  load.Stop();
  const std::vector<AckedWrite> acked = load.Acked();
  std::cout << "while n3 was down: " << acked.size() << " acknowledged writes in "
            << (MonotonicMicros() - start_us) / 1000 << " ms\n";
  ASSERT_GE(CountGroup(acked, 1), kWritesPerGroup);
  ASSERT_GE(CountGroup(acked, 2), kWritesPerGroup);

  const uint64_t restart_us = MonotonicMicros();
  absl::Status restarted = cluster().RestartNode(3);
  ASSERT_TRUE(restarted.ok()) << restarted;
  std::cout << "n3 restarted and serving after " << (MonotonicMicros() - restart_us) / 1000
            << " ms\n";
  // n3 is now needed for every quorum.
  ASSERT_EQ(cluster().Terminate(1), 0) << "graceful stop of n1";
  for (int node : {3, 2}) {
    EXPECT_EQ(FindLostWrites(cluster(), node, acked), "") << "with n1 stopped, read via n" << node;
  }
  grpc::Status put = RawPutEventually(cluster(), 3, "a/after-snapshot", "1");
  EXPECT_TRUE(put.ok()) << Describe(put);
  put = RawPutEventually(cluster(), 3, "n/after-snapshot", "1");
  EXPECT_TRUE(put.ok()) << Describe(put);

  // The catch-up really was a streamed snapshot: staged on n3, sent in many chunks.
  const std::string n3_log = cluster().Log(3);
  EXPECT_THAT(n3_log, HasSubstr("staged:")) << n3_log;
  const std::regex streamed(
      "streamed to node 3: ([0-9]+) records, [0-9]+ bytes in ([0-9]+) chunks");
  std::smatch match;
  const std::string senders = cluster().Log(1) + cluster().Log(2);
  ASSERT_TRUE(std::regex_search(senders, match, streamed)) << senders;
  std::cout << "snapshot " << match[0].str() << "\n";
  EXPECT_GT(std::stoull(match[1].str()), 1000u);
  EXPECT_GT(std::stoull(match[2].str()), 10u);

  // n3 restarts from its own RocksDB state (not by replaying a log it no longer has) and
  // still serves every acknowledged write.
  ASSERT_EQ(cluster().Terminate(3), 0) << "graceful stop of n3";
  ASSERT_TRUE(cluster().StartNode(1).ok());
  ASSERT_TRUE(cluster().StartNode(3).ok());
  ASSERT_TRUE(cluster().WaitServing(3).ok());
  ASSERT_EQ(cluster().Terminate(2), 0) << "graceful stop of n2: n3's state is needed now";
  EXPECT_EQ(FindLostWrites(cluster(), 3, acked), "") << "after n3 restarted on its own state";
}

TEST_F(ClusterTest, KillAllNodesAtOnceLosesNoAcknowledgedWrite) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  WriteLoad load(&cluster(), "all", {1, 2, 3}, kLoadThreads);
  load.Start();
  // Writes of both groups acknowledged (and 1.5 s of load) before every node dies.
  WaitForAcks(load, milliseconds(1500),
              [](const std::vector<AckedWrite>& acked) { return BothGroupsAcked(acked, 10); });
  for (int node = 1; node <= 3; ++node) cluster().Kill(node);
  load.Stop();
  const std::vector<AckedWrite> acked = load.Acked();
  std::cout << "acknowledged writes before kill -9 of every node: " << acked.size() << " of "
            << load.attempts() << " attempts\n";
  ASSERT_GT(acked.size(), 0u);

  const uint64_t restart_us = MonotonicMicros();
  for (int node = 1; node <= 3; ++node) {
    absl::Status started = cluster().StartNode(node);
    ASSERT_TRUE(started.ok()) << started;
  }
  for (int node = 1; node <= 3; ++node) {
    absl::Status serving = cluster().WaitServing(node);
    ASSERT_TRUE(serving.ok()) << serving;
  }
  std::cout << "cluster serving again " << (MonotonicMicros() - restart_us) / 1000
            << " ms after restarting every node\n";
  for (int node = 1; node <= 3; ++node) {
    EXPECT_EQ(FindLostWrites(cluster(), node, acked), "") << "read via n" << node;
  }
}

TEST_F(ClusterTest, PausedLeaderIsReplacedAndLosesNoAcknowledgedWrite) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  absl::StatusOr<int> found = FindLeader(cluster(), "a/probe");
  ASSERT_TRUE(found.ok()) << found.status();
  const int leader = *found;
  std::cout << "group 1 leader: n" << leader << "\n";

  // Short write deadlines: a write forwarded to the paused leader hangs until its deadline,
  // which would otherwise dominate the measured gap.
  WriteLoad load(&cluster(), "pause", OthersThan(leader), kLoadThreads, milliseconds(250));
  load.Start();
  ASSERT_TRUE(WaitForAcks(load, milliseconds(500), [](const std::vector<AckedWrite>& acked) {
    return BothGroupsAcked(acked, 10);
  })) << "the load got no writes acknowledged before the pause";
  const uint64_t pause_us = MonotonicMicros();
  cluster().Pause(leader);
  // Paused for 5+ election timeouts, and until a new group-1 leader acknowledged a write
  // (which on a loaded machine may take longer).
  WaitForAcks(load, milliseconds(2000), [pause_us](const std::vector<AckedWrite>& acked) {
    return FirstAckAfterMs(acked, 1, pause_us).has_value();
  });
  cluster().Resume(leader);
  const uint64_t resume_us = MonotonicMicros();
  // After SIGCONT the old leader must step down and rejoin; clients now use it too. Until a
  // write sent through it after the resume is acknowledged (at least 1 s of load).
  load.SetNodes({1, 2, 3});
  WaitForAcks(load, milliseconds(1000), [leader, resume_us](const std::vector<AckedWrite>& acked) {
    return std::any_of(acked.begin(), acked.end(), [&](const AckedWrite& w) {
      return w.node == leader && w.invoke_us >= resume_us;
    });
  });
  load.Stop();

  const std::vector<AckedWrite> acked = load.Acked();
  const std::optional<uint64_t> gap = FirstAckAfterMs(acked, 1, pause_us);
  size_t during_pause = 0;
  for (const AckedWrite& w : acked) {
    if (w.group == 1 && w.invoke_us >= pause_us && w.ack_us <= resume_us) ++during_pause;
  }
  size_t via_old_leader = 0;
  for (const AckedWrite& w : acked) {
    if (w.node == leader && w.invoke_us >= resume_us) ++via_old_leader;
  }
  std::cout << "acknowledged writes: " << acked.size() << " of " << load.attempts()
            << " attempts; group-1 writes acked while n" << leader
            << " was paused: " << during_pause << "; first group-1 ack "
            << (gap.has_value() ? std::to_string(*gap) : std::string("never"))
            << " ms after SIGSTOP; acked through the resumed node: " << via_old_leader << "\n";
  EXPECT_GT(during_pause, 0u) << "no new group-1 leader served while the old one was paused";
  ASSERT_TRUE(gap.has_value());
  EXPECT_GT(via_old_leader, 0u) << "the resumed node did not serve again";
  for (int node = 1; node <= 3; ++node) {
    EXPECT_EQ(FindLostWrites(cluster(), node, acked), "") << "read via n" << node;
  }
}

}  // namespace
}  // namespace ekv::integration
