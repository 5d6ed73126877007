// Hand-written list-append histories: one per anomaly, each with the smallest history
// that shows it, plus valid serial and concurrent histories that must pass.
#include "sim/checkers/list_append.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/txn_test_history.h"

namespace ekv::checkers {
namespace {

using testing::A;
using testing::CrashedTxn;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kAborted;
using testing::kUnknownOutcome;
using testing::R;
using testing::Txn;
using ::testing::UnorderedElementsAre;
using Kind = ListAppendAnomaly::Kind;

ListAppendOptions Serializable() {
  ListAppendOptions options;
  options.strict = false;
  return options;
}

const ListAppendAnomaly& Only(const ListAppendResult& result) {
  EXPECT_EQ(result.anomalies.size(), 1u) << result.explanation;
  return result.anomalies.at(0);
}

TEST(ListAppendTest, EmptyHistoryIsOk) {
  const ListAppendResult result = CheckListAppend(TxnHistory());
  EXPECT_TRUE(result.ok());
  EXPECT_THAT(result.explanation, HasSubstr("list-append ok"));
}

TEST(ListAppendTest, SerialHistoryIsOk) {
  TxnHistory history;
  Txn(history, 1, 0, 1, {A("x", 1), A("y", 1)});
  Txn(history, 2, 2, 3, {R("x", {1}), A("x", 2), R("x", {1, 2})});
  Txn(history, 1, 4, 5, {R("x", {1, 2}), R("y", {1}), A("y", 2)});
  Txn(history, 3, 6, 7, {R("y", {1, 2}), R("z", {})});
  const ListAppendResult result = CheckListAppend(history);
  EXPECT_TRUE(result.ok()) << result.explanation;
  EXPECT_EQ(result.transactions_included, 4u);
  EXPECT_GT(result.edges, 0u);
}

TEST(ListAppendTest, ConcurrentAppendsMayApplyInEitherOrder) {
  for (const std::vector<int64_t>& order : {std::vector<int64_t>{1, 2}, {2, 1}}) {
    TxnHistory history;
    Txn(history, 1, 0, 10, {A("x", 1)});
    Txn(history, 2, 0, 10, {A("x", 2)});
    Txn(history, 3, 5, 6, {R("x", {order[0]})});  // concurrent with both appends
    Txn(history, 3, 11, 12, {R("x", order)});
    const ListAppendResult result = CheckListAppend(history);
    EXPECT_TRUE(result.ok()) << result.explanation;
  }
}

TEST(ListAppendTest, ConcurrentReadMaySeeOldOrNewState) {
  TxnHistory history;
  Txn(history, 1, 0, 1, {A("x", 1)});
  Txn(history, 2, 2, 10, {A("x", 2), A("y", 1)});
  Txn(history, 3, 3, 4, {R("x", {1}), R("y", {})});      // before T1 took effect
  Txn(history, 4, 5, 6, {R("x", {1, 2}), R("y", {1})});  // after
  EXPECT_TRUE(CheckListAppend(history).ok()) << CheckListAppend(history).explanation;
}

TEST(ListAppendTest, G0WriteCycle) {
  TxnHistory history;
  const uint64_t t1 = Txn(history, 1, 0, 10, {A("x", 1), A("y", 1)});
  const uint64_t t2 = Txn(history, 2, 0, 10, {A("x", 2), A("y", 2)});
  Txn(history, 3, 11, 12, {R("x", {1, 2}), R("y", {2, 1})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  const ListAppendAnomaly& anomaly = Only(result);
  EXPECT_EQ(anomaly.kind, Kind::kG0);
  EXPECT_THAT(anomaly.transaction_ids, UnorderedElementsAre(t1, t2));
  ASSERT_EQ(anomaly.cycle.size(), 2u);
  for (const DependencyEdge& edge : anomaly.cycle) EXPECT_EQ(edge.kind, DependencyKind::kWw);
  EXPECT_THAT(result.explanation, HasSubstr("G0: a cycle of 2 transactions"));
  EXPECT_THAT(result.explanation,
              HasSubstr("T0 -ww(x)-> T1: T0 appended 1 to x before T1 appended 2"));
  EXPECT_THAT(result.explanation,
              HasSubstr("T1 -ww(y)-> T0: T1 appended 2 to y before T0 appended 1"));
}

TEST(ListAppendTest, G1cCircularInformationFlow) {
  TxnHistory history;
  Txn(history, 1, 0, 10, {A("x", 1), R("y", {1})});
  Txn(history, 2, 0, 10, {A("y", 1), R("x", {1})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(Only(result).kind, Kind::kG1c);
  EXPECT_THAT(result.explanation, HasSubstr("-wr(x)->"));
  EXPECT_THAT(result.explanation, HasSubstr("-wr(y)->"));
}

TEST(ListAppendTest, GSingleReadSkew) {
  // T1 saw T0's y but not T0's x: it read half of a transaction.
  TxnHistory history;
  const uint64_t t0 = Txn(history, 1, 0, 10, {A("x", 1), A("y", 1)});
  const uint64_t t1 = Txn(history, 2, 0, 10, {R("x", {}), R("y", {1})});
  const ListAppendResult result = CheckListAppend(history, Serializable());
  ASSERT_FALSE(result.ok());
  const ListAppendAnomaly& anomaly = Only(result);
  EXPECT_EQ(anomaly.kind, Kind::kGSingle);
  EXPECT_THAT(anomaly.transaction_ids, UnorderedElementsAre(t0, t1));
  EXPECT_THAT(result.explanation,
              HasSubstr("T1 -rw(x)-> T0: T1's read of x (empty) did not observe T0's append of "
                        "1, which no read ever observed"));
  EXPECT_THAT(result.explanation, HasSubstr("T0 -wr(y)-> T1"));
}

TEST(ListAppendTest, GSingleReadSkewWithObservedVersions) {
  TxnHistory history;
  Txn(history, 1, 0, 10, {A("x", 1), A("y", 1)});
  Txn(history, 2, 0, 10, {R("x", {}), R("y", {1})});
  Txn(history, 3, 11, 12, {R("x", {1}), R("y", {1})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(Only(result).kind, Kind::kGSingle);
}

TEST(ListAppendTest, G2WriteSkew) {
  // Each transaction checks both keys are empty and then appends to one of them.
  TxnHistory history;
  Txn(history, 1, 0, 10, {R("x", {}), R("y", {}), A("x", 1)});
  Txn(history, 2, 0, 10, {R("x", {}), R("y", {}), A("y", 1)});
  Txn(history, 3, 11, 12, {R("x", {1}), R("y", {1})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  const ListAppendAnomaly& anomaly = Only(result);
  EXPECT_EQ(anomaly.kind, Kind::kG2Item);
  ASSERT_EQ(anomaly.cycle.size(), 2u);
  for (const DependencyEdge& edge : anomaly.cycle) EXPECT_EQ(edge.kind, DependencyKind::kRw);
  EXPECT_THAT(result.explanation, HasSubstr("(2 rw edges)"));
}

TEST(ListAppendTest, LostUpdate) {
  // Both read x empty and append; the later read shows both, so one update was blind.
  TxnHistory history;
  Txn(history, 1, 0, 10, {R("x", {}), A("x", 1)});
  Txn(history, 2, 0, 10, {R("x", {}), A("x", 2)});
  Txn(history, 3, 11, 12, {R("x", {1, 2})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(Only(result).kind, Kind::kGSingle);
}

TEST(ListAppendTest, LostUpdateNeverReadAfterwards) {
  // No later read orders the appends, but each transaction missed the other's.
  TxnHistory history;
  Txn(history, 1, 0, 10, {R("x", {}), A("x", 1)});
  Txn(history, 2, 0, 10, {R("x", {}), A("x", 2)});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(Only(result).kind, Kind::kG2Item);
}

TEST(ListAppendTest, StaleReadViolatesStrictSerializabilityOnly) {
  // T1 completed its append before T2 began, yet T2 does not see it. Serializable (T2
  // before T1), not strictly serializable.
  TxnHistory history;
  const uint64_t t1 = Txn(history, 1, 0, 1, {A("x", 1)});
  const uint64_t t2 = Txn(history, 2, 2, 3, {R("x", {})});
  EXPECT_TRUE(CheckListAppend(history, Serializable()).ok());
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  const ListAppendAnomaly& anomaly = Only(result);
  EXPECT_EQ(anomaly.kind, Kind::kGSingleRealtime);
  EXPECT_THAT(anomaly.transaction_ids, UnorderedElementsAre(t1, t2));
  EXPECT_THAT(result.explanation, HasSubstr("T0 -rt-> T1: T0 completed at 1 before T1 was "
                                            "invoked at 2"));
}

TEST(ListAppendTest, StaleReadOfObservedValue) {
  TxnHistory history;
  Txn(history, 1, 0, 1, {A("x", 1)});
  Txn(history, 1, 2, 3, {A("x", 2)});
  Txn(history, 2, 4, 5, {R("x", {1})});  // must see 2
  Txn(history, 3, 6, 7, {R("x", {1, 2})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(Only(result).kind, Kind::kGSingleRealtime);
}

TEST(ListAppendTest, EqualTimesAreConcurrent) {
  TxnHistory history;
  Txn(history, 1, 0, 2, {A("x", 1)});
  Txn(history, 2, 2, 3, {R("x", {})});  // invoked at the instant T0 completed
  EXPECT_TRUE(CheckListAppend(history).ok());
}

TEST(ListAppendTest, WriteCycleOnlyThroughRealTime) {
  // x's order puts T1 before T0, but T0 completed before T1 began.
  TxnHistory history;
  Txn(history, 1, 0, 1, {A("x", 1)});
  Txn(history, 2, 2, 3, {A("x", 2)});
  Txn(history, 3, 4, 5, {R("x", {2, 1})});
  EXPECT_TRUE(CheckListAppend(history, Serializable()).ok());
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(Only(result).kind, Kind::kG0Realtime);
}

TEST(ListAppendTest, AbortedRead) {
  TxnHistory history;
  const uint64_t aborted = Txn(history, 1, 0, 1, {A("x", 1)}, kAborted);
  const uint64_t reader = Txn(history, 2, 2, 3, {R("x", {1})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  const ListAppendAnomaly& anomaly = Only(result);
  EXPECT_EQ(anomaly.kind, Kind::kAbortedRead);
  EXPECT_EQ(anomaly.key, "x");
  EXPECT_THAT(anomaly.transaction_ids, ElementsAre(reader, aborted));
  EXPECT_THAT(result.explanation, HasSubstr("G1a: T1 read x [1], observing 1 appended by "
                                            "aborted T0"));
}

TEST(ListAppendTest, AbortedWritesUnseenAreFine) {
  TxnHistory history;
  Txn(history, 1, 0, 1, {A("x", 1)}, kAborted);
  Txn(history, 2, 2, 3, {R("x", {})});
  EXPECT_TRUE(CheckListAppend(history).ok());
}

TEST(ListAppendTest, GarbageRead) {
  TxnHistory history;
  Txn(history, 1, 0, 1, {A("x", 1)});
  Txn(history, 2, 2, 3, {R("x", {1, 7})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(Only(result).kind, Kind::kGarbageRead);
  EXPECT_THAT(result.explanation, HasSubstr("no transaction appended 7 to x"));
}

TEST(ListAppendTest, DuplicateElements) {
  TxnHistory history;
  Txn(history, 1, 0, 1, {A("x", 1)});
  Txn(history, 2, 2, 3, {R("x", {1, 1})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(Only(result).kind, Kind::kDuplicateElements);
}

TEST(ListAppendTest, IncompatibleOrder) {
  TxnHistory history;
  Txn(history, 1, 0, 1, {A("x", 1)});
  Txn(history, 2, 0, 1, {A("x", 2)});
  const uint64_t first = Txn(history, 3, 2, 3, {R("x", {1, 2})});
  const uint64_t second = Txn(history, 4, 2, 3, {R("x", {2, 1})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  const ListAppendAnomaly& anomaly = Only(result);
  EXPECT_EQ(anomaly.kind, Kind::kIncompatibleOrder);
  EXPECT_THAT(anomaly.transaction_ids, ElementsAre(second, first));
}

TEST(ListAppendTest, InternalReadMissesOwnAppend) {
  TxnHistory history;
  Txn(history, 1, 0, 1, {A("x", 1), R("x", {})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.Has(Kind::kInternal)) << result.explanation;
  EXPECT_THAT(result.explanation, HasSubstr("expected a list ending in its own appends [1]"));
}

TEST(ListAppendTest, InternalRereadDiffers) {
  TxnHistory history;
  Txn(history, 9, 0, 1, {A("x", 5)});
  Txn(history, 1, 2, 3, {R("x", {5}), A("x", 6), R("x", {5})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.Has(Kind::kInternal));
  EXPECT_THAT(result.explanation, HasSubstr("expected [5 6]"));
}

TEST(ListAppendTest, InternalFutureRead) {
  TxnHistory history;
  Txn(history, 1, 0, 1, {R("x", {3}), A("x", 3)});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.Has(Kind::kInternal));
  EXPECT_THAT(result.explanation, HasSubstr("which the transaction appends later"));
}

TEST(ListAppendTest, ReadYourOwnAppends) {
  TxnHistory history;
  Txn(history, 1, 0, 1, {A("x", 1)});
  Txn(history, 2, 2, 3, {A("x", 2), R("x", {1, 2}), A("x", 3), R("x", {1, 2, 3})});
  Txn(history, 3, 4, 5, {R("x", {1, 2, 3})});
  const ListAppendResult result = CheckListAppend(history);
  EXPECT_TRUE(result.ok()) << result.explanation;
}

TEST(ListAppendTest, IntermediateRead) {
  // T1 saw T0's first append but not its second. Elle also reports the G-single this
  // makes: T0's append of 1 -wr-> T1 -rw-> T0's append of 2.
  TxnHistory history;
  const uint64_t writer = Txn(history, 1, 0, 10, {A("x", 1), A("x", 2)});
  const uint64_t reader = Txn(history, 2, 0, 10, {R("x", {1})});
  Txn(history, 3, 11, 12, {R("x", {1, 2})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.anomalies.size(), 2u) << result.explanation;
  EXPECT_EQ(result.anomalies[0].kind, Kind::kGSingle);
  const ListAppendAnomaly& anomaly = result.anomalies[1];
  EXPECT_EQ(anomaly.kind, Kind::kIntermediateRead);
  EXPECT_THAT(anomaly.transaction_ids, ElementsAre(reader, writer));
  EXPECT_THAT(result.explanation, HasSubstr("G1b: T1 read x [1], which shows some but not all "
                                            "of T0's appends to x"));
}

TEST(ListAppendTest, IntermediateReadOfNeverObservedAppend) {
  TxnHistory history;
  Txn(history, 1, 0, 10, {A("x", 1), A("x", 2)});
  Txn(history, 2, 0, 10, {R("x", {1})});
  const ListAppendResult result = CheckListAppend(history);
  EXPECT_TRUE(result.Has(Kind::kIntermediateRead)) << result.explanation;
}

TEST(ListAppendTest, ObservedUnknownTransactionCommitted) {
  TxnHistory history;
  CrashedTxn(history, 1, 0, {A("x", 1), A("y", 1)});
  Txn(history, 2, 5, 6, {R("x", {1}), R("y", {1})});
  const ListAppendResult result = CheckListAppend(history);
  EXPECT_TRUE(result.ok()) << result.explanation;
  EXPECT_EQ(result.transactions_included, 2u);
  EXPECT_EQ(result.unknown_dropped, 0u);
}

TEST(ListAppendTest, UnobservedUnknownTransactionIsDropped) {
  // A committed T0 would make T1's read stale; an unknown one may never have committed.
  TxnHistory history;
  Txn(history, 1, 0, 1, {A("x", 1)}, kUnknownOutcome);
  Txn(history, 2, 2, 3, {R("x", {})});
  const ListAppendResult result = CheckListAppend(history);
  EXPECT_TRUE(result.ok()) << result.explanation;
  EXPECT_EQ(result.transactions_included, 1u);
  EXPECT_EQ(result.unknown_dropped, 1u);
}

TEST(ListAppendTest, TimedOutTransactionMayCommitAfterItsClientGaveUp) {
  // T0 timed out at 1; T1 (after that) misses x=1 and T2 sees it: T0 committed late.
  TxnHistory history;
  Txn(history, 1, 0, 1, {A("x", 1)}, kUnknownOutcome);
  Txn(history, 2, 2, 3, {R("x", {})});
  Txn(history, 3, 4, 5, {R("x", {1})});
  const ListAppendResult result = CheckListAppend(history);
  EXPECT_TRUE(result.ok()) << result.explanation;
  EXPECT_EQ(result.transactions_included, 3u);
}

TEST(ListAppendTest, ObservedUnknownTransactionTakesPartInCycles) {
  TxnHistory history;
  CrashedTxn(history, 1, 0, {A("x", 1), A("y", 1)});
  Txn(history, 2, 5, 6, {R("x", {1}), R("y", {})});
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(Only(result).kind, Kind::kGSingle);
}

TEST(ListAppendTest, ReportsAreBoundedButEveryAnomalyIsCounted) {
  TxnHistory history;
  for (int64_t i = 0; i < 10; ++i) {
    Txn(history, 1, 2 * i, 2 * i + 1, {R(absl::StrCat("x", i), {100 + i})});
  }
  ListAppendOptions options;
  options.max_reported_per_kind = 3;
  const ListAppendResult result = CheckListAppend(history, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.anomalies.size(), 3u);
  ASSERT_FALSE(result.anomaly_counts.empty());
  EXPECT_EQ(result.anomaly_counts[0].first, Kind::kGarbageRead);
  EXPECT_EQ(result.anomaly_counts[0].second, 10u);
  EXPECT_THAT(result.explanation, HasSubstr("garbage-read x10"));
}

TEST(ListAppendTest, OneCyclePerStronglyConnectedComponent) {
  TxnHistory history;
  for (int k = 0; k < 3; ++k) {
    const std::string x = absl::StrCat("x", k);
    const std::string y = absl::StrCat("y", k);
    Txn(history, 1, 0, 10, {A(x, 1), A(y, 1)});
    Txn(history, 2, 0, 10, {A(x, 2), A(y, 2)});
    Txn(history, 3, 11, 12, {R(x, {1, 2}), R(y, {2, 1})});
  }
  const ListAppendResult result = CheckListAppend(history);
  ASSERT_EQ(result.anomalies.size(), 3u) << result.explanation;
  for (const ListAppendAnomaly& anomaly : result.anomalies) EXPECT_EQ(anomaly.kind, Kind::kG0);
}

TEST(ListAppendTest, ExhaustedSearchBudgetStillReportsTheCycle) {
  TxnHistory history;
  Txn(history, 1, 0, 10, {A("x", 1), A("y", 1)});
  Txn(history, 2, 0, 10, {R("x", {}), R("y", {1})});
  ListAppendOptions options;
  options.max_search_steps = 0;
  const ListAppendResult result = CheckListAppend(history, options);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.search_budget_exhausted);
  EXPECT_EQ(Only(result).kind, Kind::kGSingle);  // classified from the cycle's edges
}

TEST(ListAppendTest, Deterministic) {
  TxnHistory history;
  Txn(history, 1, 0, 10, {R("x", {}), R("y", {}), A("x", 1)});
  Txn(history, 2, 0, 10, {R("x", {}), R("y", {}), A("y", 1)});
  Txn(history, 3, 11, 12, {R("x", {1}), R("y", {1}), R("z", {4})});
  EXPECT_EQ(CheckListAppend(history).explanation, CheckListAppend(history).explanation);
}

}  // namespace
}  // namespace ekv::checkers
