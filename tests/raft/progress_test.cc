// Flow control: Progress state transitions and the Inflights window.
#include "core/raft/progress.h"

#include "core/raft/inflights.h"
#include "gtest/gtest.h"

namespace ekv::raft {
namespace {

TEST(InflightsTest, BoundedByCount) {
  Inflights in(3, 0);
  in.Add(1, 100);
  in.Add(2, 100);
  EXPECT_FALSE(in.Full());
  in.Add(3, 100);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(in.Count(), 3);
  EXPECT_EQ(in.Bytes(), 300u);
}

TEST(InflightsTest, BoundedByBytes) {
  Inflights in(100, 250);
  in.Add(1, 100);
  in.Add(2, 100);
  EXPECT_FALSE(in.Full());
  in.Add(3, 50);  // 250 bytes: at the limit counts as full
  EXPECT_TRUE(in.Full());
  in.FreeLE(1);
  EXPECT_FALSE(in.Full());
  EXPECT_EQ(in.Bytes(), 150u);
}

TEST(InflightsTest, FreeLE) {
  Inflights in(10, 0);
  for (Index i = 1; i <= 10; ++i) in.Add(i * 2, i);
  EXPECT_TRUE(in.Full());
  in.FreeLE(0);  // nothing
  EXPECT_EQ(in.Count(), 10);
  in.FreeLE(5);  // frees 2 and 4
  EXPECT_EQ(in.Count(), 8);
  EXPECT_EQ(in.Bytes(), 55u - 3u);
  in.FreeLE(6);
  EXPECT_EQ(in.Count(), 7);
  in.FreeLE(6);  // idempotent
  EXPECT_EQ(in.Count(), 7);
  in.FreeLE(100);
  EXPECT_EQ(in.Count(), 0);
  EXPECT_EQ(in.Bytes(), 0u);
  in.Add(30, 1);  // usable again after being emptied
  EXPECT_EQ(in.Count(), 1);
  in.Reset();
  EXPECT_EQ(in.Count(), 0);
}

Progress MakeProgress(Index match, Index next, ProgressState state) {
  Progress pr(next, 256, 0, false);
  pr.match = match;
  pr.state = state;
  return pr;
}

TEST(ProgressTest, MaybeUpdate) {
  Progress pr = MakeProgress(3, 5, ProgressState::kReplicate);
  EXPECT_FALSE(pr.MaybeUpdate(2));  // stale ack
  EXPECT_EQ(pr.match, 3u);
  EXPECT_EQ(pr.next, 5u);
  EXPECT_TRUE(pr.MaybeUpdate(4));
  EXPECT_EQ(pr.match, 4u);
  EXPECT_EQ(pr.next, 5u);
  EXPECT_TRUE(pr.MaybeUpdate(7));
  EXPECT_EQ(pr.next, 8u);
}

TEST(ProgressTest, MaybeDecrToInReplicate) {
  Progress pr = MakeProgress(5, 10, ProgressState::kReplicate);
  EXPECT_FALSE(pr.MaybeDecrTo(5, 5));  // rejection at or below match is stale
  EXPECT_FALSE(pr.MaybeDecrTo(4, 4));
  EXPECT_TRUE(pr.MaybeDecrTo(9, 9));
  EXPECT_EQ(pr.next, 6u);  // back to match+1
}

TEST(ProgressTest, MaybeDecrToInProbe) {
  struct Case {
    Index match, next, rejected, hint;
    bool ok;
    Index want_next;
  };
  const std::vector<Case> cases = {
      {0, 10, 5, 5, false, 10},                          // not the probe we sent (next-1 = 9)
      {0, 10, 9, 9, true, 9},   {0, 10, 9, 2, true, 3},  // jump to hint+1
      {0, 10, 9, 20, true, 9},  // hint beyond rejected: min(rejected, hint+1)
      {5, 10, 9, 2, true, 6},   // never below match+1
      {0, 2, 1, 0, true, 1},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    Progress pr = MakeProgress(cases[i].match, cases[i].next, ProgressState::kProbe);
    pr.msg_app_flow_paused = true;
    EXPECT_EQ(pr.MaybeDecrTo(cases[i].rejected, cases[i].hint), cases[i].ok) << i;
    EXPECT_EQ(pr.next, cases[i].want_next) << i;
    if (cases[i].ok) {
      EXPECT_FALSE(pr.msg_app_flow_paused) << i;
    }
  }
}

TEST(ProgressTest, StateTransitions) {
  Progress pr = MakeProgress(1, 5, ProgressState::kReplicate);
  pr.inflights.Add(4, 10);
  pr.BecomeProbe();
  EXPECT_EQ(pr.state, ProgressState::kProbe);
  EXPECT_EQ(pr.next, 2u);
  EXPECT_EQ(pr.inflights.Count(), 0);

  pr.BecomeSnapshot(10);
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_EQ(pr.pending_snapshot, 10u);
  pr.BecomeProbe();  // resumes after the snapshot
  EXPECT_EQ(pr.next, 11u);
  EXPECT_EQ(pr.pending_snapshot, 0u);

  pr.match = 11;
  pr.BecomeReplicate();
  EXPECT_EQ(pr.next, 12u);
  EXPECT_FALSE(pr.IsPaused());
}

TEST(ProgressTest, ProbePausesAfterOneAppendReplicateWhenWindowFull) {
  Progress probe = MakeProgress(0, 1, ProgressState::kProbe);
  probe.SentEntries(3, 30, true);
  EXPECT_TRUE(probe.IsPaused());
  EXPECT_EQ(probe.next, 1u);  // probes are not optimistic

  Progress rep(1, 2, 0, false);
  rep.BecomeReplicate();
  rep.SentEntries(3, 30, true);
  EXPECT_FALSE(rep.IsPaused());
  EXPECT_EQ(rep.next, 4u);  // optimistic
  rep.SentEntries(5, 30, true);
  EXPECT_TRUE(rep.IsPaused());  // window of 2 is full
  rep.inflights.FreeLE(3);
  rep.SentEntries(5, 0, false);  // an empty append recomputes the pause
  EXPECT_FALSE(rep.IsPaused());
}

}  // namespace
}  // namespace ekv::raft
