#include "sim/checkers/durability.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/test_history.h"

namespace ekv::checkers {
namespace {

using testing::Cas;
using testing::CrashedWrite;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::kFailed;
using testing::kOk;
using testing::kUnknown;
using testing::Read;
using testing::Write;

TEST(DurabilityTest, LastAcknowledgedWriteSurvives) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  Write(history, 1, "x", "b", 2, 3);
  Read(history, 2, "x", "b", 4, 5);  // reads do not matter to this checker
  const DurabilityReport report = CheckDurability(history, {{"x", "b"}});
  EXPECT_TRUE(report.ok()) << report.ToString();
  EXPECT_EQ(report.ToString(), "durability ok");
}

TEST(DurabilityTest, EitherOfConcurrentLastWritesMaySurvive) {
  for (const char* survivor : {"a", "b"}) {
    History history;
    Write(history, 1, "x", "a", 0, 10);
    Write(history, 2, "x", "b", 5, 8);
    EXPECT_TRUE(CheckDurability(history, {{"x", survivor}}).ok()) << survivor;
  }
}

TEST(DurabilityTest, OverwrittenValueIsALostWrite) {
  History history;
  const uint64_t first = Write(history, 1, "x", "a", 0, 1);
  const uint64_t second = Write(history, 1, "x", "b", 2, 3);
  const DurabilityReport report = CheckDurability(history, {{"x", "a"}});
  ASSERT_EQ(report.violations.size(), 1u);
  const DurabilityViolation& violation = report.violations[0];
  EXPECT_EQ(violation.key, "x");
  EXPECT_EQ(violation.final_value, "a");
  EXPECT_FALSE(violation.final_read_missing);
  EXPECT_THAT(violation.latest_acknowledged_write_ids, ElementsAre(second));
  EXPECT_THAT(violation.explanation, HasSubstr("lost write"));
  EXPECT_THAT(violation.explanation, HasSubstr(FormatOperation(history.operation(first))));
  EXPECT_THAT(violation.explanation, HasSubstr(FormatOperation(history.operation(second))));
}

TEST(DurabilityTest, AbsentKeyAfterAcknowledgedWriteIsALostWrite) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  const DurabilityReport report = CheckDurability(history, {{"x", std::nullopt}});
  ASSERT_EQ(report.violations.size(), 1u);
  EXPECT_THAT(report.violations[0].explanation, HasSubstr("absent"));
}

TEST(DurabilityTest, DeleteIsAWriteOfNil) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  Write(history, 1, "x", std::nullopt, 2, 3);
  EXPECT_TRUE(CheckDurability(history, {{"x", std::nullopt}}).ok());
  EXPECT_FALSE(CheckDurability(history, {{"x", "a"}}).ok());
}

TEST(DurabilityTest, UnknownWriteMaySurviveEvenAfterLaterAcknowledgedWrite) {
  History history;
  Write(history, 1, "x", "a", 0, 1, kUnknown);  // its effect may land after "b"
  Write(history, 2, "x", "b", 5, 6);
  EXPECT_TRUE(CheckDurability(history, {{"x", "a"}}).ok());
  EXPECT_TRUE(CheckDurability(history, {{"x", "b"}}).ok());
}

TEST(DurabilityTest, KeyWithOnlyUnknownWritesMayBeAbsentOrUnread) {
  History history;
  CrashedWrite(history, 1, "x", "a", 0);
  EXPECT_TRUE(CheckDurability(history, {{"x", std::nullopt}}).ok());
  EXPECT_TRUE(CheckDurability(history, {{"x", "a"}}).ok());
  EXPECT_TRUE(CheckDurability(history, {}).ok());
}

TEST(DurabilityTest, FailedWriteMustNotSurvive) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  Write(history, 1, "x", "b", 2, 3, kFailed);
  EXPECT_TRUE(CheckDurability(history, {{"x", "a"}}).ok());
  const DurabilityReport report = CheckDurability(history, {{"x", "b"}});
  ASSERT_EQ(report.violations.size(), 1u);
  EXPECT_THAT(report.violations[0].explanation, HasSubstr("never written"));
}

TEST(DurabilityTest, SuccessfulCasCountsAsAWrite) {
  History history;
  Write(history, 1, "x", "a", 0, 1);
  Cas(history, 1, "x", "a", "b", 2, 3);
  EXPECT_TRUE(CheckDurability(history, {{"x", "b"}}).ok());
  EXPECT_FALSE(CheckDurability(history, {{"x", "a"}}).ok());
}

TEST(DurabilityTest, MissingFinalReadOfAcknowledgedKeyIsReported) {
  History history;
  const uint64_t write = Write(history, 1, "x", "a", 0, 1);
  const DurabilityReport report = CheckDurability(history, {});
  ASSERT_EQ(report.violations.size(), 1u);
  EXPECT_TRUE(report.violations[0].final_read_missing);
  EXPECT_THAT(report.violations[0].latest_acknowledged_write_ids, ElementsAre(write));
}

TEST(DurabilityTest, ValueOnNeverWrittenKeyIsReported) {
  const DurabilityReport report = CheckDurability(History(), {{"ghost", "boo"}, {"empty", {}}});
  ASSERT_EQ(report.violations.size(), 1u);
  EXPECT_EQ(report.violations[0].key, "ghost");
  EXPECT_THAT(report.violations[0].latest_acknowledged_write_ids, IsEmpty());
}

TEST(DurabilityTest, ViolationsAreSortedByKey) {
  History history;
  for (const char* key : {"q", "c", "m"}) {
    Write(history, 1, key, "a", 0, 1);
    Write(history, 1, key, "b", 2, 3);
  }
  const DurabilityReport report = CheckDurability(history, {{"q", "a"}, {"c", "a"}, {"m", "b"}});
  ASSERT_EQ(report.violations.size(), 2u);
  EXPECT_EQ(report.violations[0].key, "c");
  EXPECT_EQ(report.violations[1].key, "q");
  EXPECT_THAT(report.ToString(), HasSubstr("2 durability violation(s)"));
}

}  // namespace
}  // namespace ekv::checkers
