#include "sim/checkers/expiry.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ekv::checkers {
namespace {

using ::testing::HasSubstr;
using Outcome = ExpiryWrite::Outcome;

ExpiryWrite Set(std::string value, uint64_t ttl_ms, uint64_t invoke, uint64_t complete,
                uint64_t now_ms, uint64_t commit_ms, Outcome outcome = Outcome::kOk) {
  ExpiryWrite w;
  w.kind = ExpiryWrite::Kind::kSet;
  w.key = "k";
  w.value = std::move(value);
  w.ttl_ms = ttl_ms;
  w.invoke_time = invoke;
  w.complete_time = outcome == Outcome::kUnknown ? ExpiryWrite::kNotCompleted : complete;
  w.outcome = outcome;
  w.request_now_ms = now_ms;
  w.commit_physical_ms = commit_ms;
  return w;
}

ExpiryWrite Expire(uint64_t ttl_ms, uint64_t invoke, uint64_t complete, uint64_t now_ms,
                   uint64_t commit_ms, Outcome outcome = Outcome::kOk, bool applied = true) {
  ExpiryWrite w;
  w.kind = ExpiryWrite::Kind::kExpire;
  w.key = "k";
  w.ttl_ms = ttl_ms;
  w.invoke_time = invoke;
  w.complete_time = outcome == Outcome::kUnknown ? ExpiryWrite::kNotCompleted : complete;
  w.outcome = outcome;
  w.request_now_ms = now_ms;
  w.commit_physical_ms = commit_ms;
  w.expire_applied = applied;
  return w;
}

ExpiryRead Get(std::optional<std::string> value, uint64_t invoke, uint64_t complete,
               uint64_t floor_ms) {
  ExpiryRead r;
  r.key = "k";
  r.value = std::move(value);
  r.invoke_time = invoke;
  r.complete_time = complete;
  r.time_floor_ms = floor_ms;
  return r;
}

TEST(ExpiryTest, DeadlineIsMaxOfRequestClockAndCommitTimePlusTtl) {
  EXPECT_EQ(Set("v", 100, 0, 1, 1000, 900).deadline_ms(), 1100u);
  EXPECT_EQ(Set("v", 100, 0, 1, 900, 1000).deadline_ms(), 1100u);
  EXPECT_EQ(Set("v", 0, 0, 1, 900, 1000).deadline_ms(), ExpiryWrite::kNever);
}

TEST(ExpiryTest, ReadBeforeDeadlinePasses) {
  const ExpiryReport report =
      CheckExpiry({Set("v1", 100, 0, 1, 1000, 1000)}, {Get("v1", 2, 3, 1100), Get({}, 4, 5, 1200)});
  EXPECT_TRUE(report.ok) << report.violation;
  EXPECT_EQ(report.reads_judged, 1u);
}

TEST(ExpiryTest, ReadAfterDeadlineFails) {
  const ExpiryReport report =
      CheckExpiry({Set("v1", 100, 0, 1, 1000, 1000)}, {Get("v1", 2, 3, 1101)});
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.violation, HasSubstr("expired"));
}

TEST(ExpiryTest, AnExpireThatMayHaveAppliedExtendsTheDeadline) {
  const ExpiryReport report = CheckExpiry(
      {Set("v1", 100, 0, 1, 1000, 1000), Expire(500, 2, 3, 1050, 1050)}, {Get("v1", 4, 5, 1400)});
  EXPECT_TRUE(report.ok) << report.violation;
  // An EXPIRE that answered 0 changed nothing.
  const ExpiryReport zero =
      CheckExpiry({Set("v1", 100, 0, 1, 1000, 1000),
                   Expire(500, 2, 3, 1050, 1050, Outcome::kOk, /*applied=*/false)},
                  {Get("v1", 4, 5, 1400)});
  EXPECT_FALSE(zero.ok);
}

TEST(ExpiryTest, UnknownWritesLeaveTheReadUnjudged) {
  const ExpiryReport report =
      CheckExpiry({Set("v1", 100, 0, 1, 1000, 0, Outcome::kUnknown)}, {Get("v1", 2, 3, 5000)});
  EXPECT_TRUE(report.ok) << report.violation;
  EXPECT_EQ(report.reads_judged, 0u);
  const ExpiryReport expire =
      CheckExpiry({Set("v1", 100, 0, 1, 1000, 1000), Expire(500, 2, 0, 1050, 0, Outcome::kUnknown)},
                  {Get("v1", 4, 5, 5000)});
  EXPECT_TRUE(expire.ok) << expire.violation;
  EXPECT_EQ(expire.reads_judged, 0u);
}

TEST(ExpiryTest, StaleAndUnwrittenValuesFail) {
  EXPECT_FALSE(CheckExpiry({Set("v1", 0, 0, 1, 1000, 1000), Set("v2", 0, 2, 3, 1000, 1000)},
                           {Get("v1", 4, 5, 0)})
                   .ok);
  EXPECT_FALSE(
      CheckExpiry({Set("v1", 0, 0, 1, 1000, 1000, Outcome::kFailed)}, {Get("v1", 4, 5, 0)}).ok);
  EXPECT_FALSE(CheckExpiry({}, {Get("v9", 4, 5, 0)}).ok);
}

TEST(ExpiryTest, TransactionFieldsMustAgree) {
  ExpiryRead good = Get("v1", 2, 3, 1040);
  good.exists = 1;
  good.pttl = 60;
  good.pexpiretime = 1100;
  EXPECT_TRUE(CheckExpiry({Set("v1", 100, 0, 1, 1000, 1000)}, {good}).ok);
  ExpiryRead too_long = good;
  too_long.pttl = 61;  // at a time >= 1040, at most 60 ms remain
  EXPECT_FALSE(CheckExpiry({Set("v1", 100, 0, 1, 1000, 1000)}, {too_long}).ok);
  ExpiryRead persistent = good;
  persistent.pttl = -1;
  EXPECT_FALSE(CheckExpiry({Set("v1", 100, 0, 1, 1000, 1000)}, {persistent}).ok);
  ExpiryRead wrong_time = good;
  wrong_time.pexpiretime = 1099;
  EXPECT_FALSE(CheckExpiry({Set("v1", 100, 0, 1, 1000, 1000)}, {wrong_time}).ok);
  ExpiryRead nil = Get({}, 2, 3, 1040);
  nil.exists = 1;
  EXPECT_FALSE(CheckExpiry({Set("v1", 100, 0, 1, 1000, 1000)}, {nil}).ok);
  ExpiryRead ttl = Get("v1", 2, 3, 1000);
  ttl.ttl = 2;  // 100 ms left at most: TTL 0
  EXPECT_FALSE(CheckExpiry({Set("v1", 100, 0, 1, 1000, 1000)}, {ttl}).ok);
}

}  // namespace
}  // namespace ekv::checkers
