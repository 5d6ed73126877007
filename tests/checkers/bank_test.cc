#include "sim/checkers/bank.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ekv::checkers {
namespace {

using ::testing::HasSubstr;
using Kind = BankViolation::Kind;

const std::vector<std::string> kAccounts = {"a", "b", "c"};

BankRead Read(uint64_t id, uint64_t invoke_time, std::map<std::string, int64_t> balances) {
  BankRead read;
  read.id = id;
  read.client = id % 3;
  read.invoke_time = invoke_time;
  read.complete_time = invoke_time + 1;
  read.balances = std::move(balances);
  return read;
}

BankReport MustCheck(const std::vector<BankRead>& reads, int64_t total = 30) {
  absl::StatusOr<BankReport> report = CheckBank(kAccounts, total, reads);
  EXPECT_TRUE(report.ok()) << report.status();
  return *std::move(report);
}

TEST(BankTest, ConservedTotalsPass) {
  const BankReport report = MustCheck({Read(1, 0, {{"a", 10}, {"b", 10}, {"c", 10}}),
                                       Read(2, 5, {{"a", 0}, {"b", 25}, {"c", 5}}),
                                       Read(3, 9, {{"a", 30}, {"b", 0}, {"c", 0}})});
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.reads_checked, 3u);
  EXPECT_EQ(report.ToString(), "bank ok: 3 reads");
}

TEST(BankTest, NoReadsPass) { EXPECT_TRUE(MustCheck({}).ok()); }

TEST(BankTest, TornTransferChangesTheTotal) {
  // A snapshot that saw the debit of a transfer from a to b but not its credit.
  const BankReport report = MustCheck({Read(1, 0, {{"a", 10}, {"b", 10}, {"c", 10}}),
                                       Read(2, 5, {{"a", 5}, {"b", 10}, {"c", 10}})});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.violating_reads, 1u);
  ASSERT_EQ(report.first_violation.size(), 1u);
  EXPECT_EQ(report.first_violation[0].kind, Kind::kWrongTotal);
  EXPECT_EQ(report.first_violation[0].read_id, 2u);
  EXPECT_THAT(report.ToString(), HasSubstr("wrong-total: read #2 c2 [5,6] {a=5, b=10, c=10}: "
                                           "balances sum to 25, expected 30"));
}

TEST(BankTest, NegativeBalanceEvenWithTheRightTotal) {
  const BankReport report = MustCheck({Read(4, 0, {{"a", -5}, {"b", 25}, {"c", 10}})});
  ASSERT_FALSE(report.ok());
  ASSERT_EQ(report.first_violation.size(), 1u);
  EXPECT_EQ(report.first_violation[0].kind, Kind::kNegativeBalance);
  EXPECT_EQ(report.first_violation[0].account, "a");
}

TEST(BankTest, MissingAndUnexpectedAccounts) {
  const BankReport report = MustCheck({Read(1, 0, {{"a", 10}, {"b", 10}, {"zz", 10}})});
  ASSERT_FALSE(report.ok());
  ASSERT_EQ(report.first_violation.size(), 2u);
  EXPECT_EQ(report.first_violation[0].kind, Kind::kUnexpectedAccount);
  EXPECT_EQ(report.first_violation[0].account, "zz");
  EXPECT_EQ(report.first_violation[1].kind, Kind::kMissingAccount);
  EXPECT_EQ(report.first_violation[1].account, "c");
}

TEST(BankTest, ReportsTheFirstViolatingReadByInvocationTime) {
  // Given out of order; the read invoked first is the one reported.
  const BankReport report = MustCheck({Read(7, 20, {{"a", 1}, {"b", 1}, {"c", 1}}),
                                       Read(8, 10, {{"a", 10}, {"b", 10}, {"c", 10}}),
                                       Read(9, 15, {{"a", 40}, {"b", -10}, {"c", 10}}),
                                       Read(3, 15, {{"a", 40}, {"b", 0}, {"c", 10}})});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.violating_reads, 3u);
  ASSERT_FALSE(report.first_violation.empty());
  EXPECT_EQ(report.first_violation[0].read_id, 3u);
  EXPECT_THAT(report.ToString(), HasSubstr("3 of 4 reads violate"));
}

TEST(BankTest, HugeBalancesDoNotOverflow) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  const BankReport report = MustCheck({Read(1, 0, {{"a", max}, {"b", max}, {"c", 2}})}, 0);
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.ToString(), HasSubstr("more than int64 holds"));
}

TEST(BankTest, RejectsMalformedInput) {
  EXPECT_EQ(CheckBank({}, 0, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckBank({"a", "a"}, 0, {}).status().code(), absl::StatusCode::kInvalidArgument);
  const absl::StatusOr<BankReport> repeated =
      CheckBank(kAccounts, 30, {Read(1, 0, {}), Read(1, 2, {})});
  EXPECT_EQ(repeated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(repeated.status().message(), HasSubstr("read id #1 appears twice"));
}

}  // namespace
}  // namespace ekv::checkers
