// The text history format ekv-check reads (sim/tools/history_text.h): each model parses
// into the checker's own history types, and malformed lines are errors, never verdicts.
#include "sim/tools/history_text.h"

#include "gtest/gtest.h"

namespace ekv::checkers {
namespace {

TEST(PercentDecodeTest, DecodesEscapesAndRejectsBadOnes) {
  EXPECT_EQ(*PercentDecode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(*PercentDecode("plain"), "plain");
  EXPECT_FALSE(PercentDecode("bad%2").ok());
  EXPECT_FALSE(PercentDecode("bad%zz").ok());
}

TEST(RegisterHistoryTest, ParsesEveryKindAndOutcome) {
  absl::StatusOr<History> history = ParseRegisterHistory(
      "# comment\n"
      "0 1 0 10 ok write k%20x v\n"
      "\n"
      "1 2 3 12 ok read k%20x v\n"
      "2 1 11 - info write k%20x %nil\n"
      "3 2 13 14 fail cas k%20x v w\n"
      "4 2 15 16 info read k%20x %nil\n");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 5u);
  const Operation& write = history->operation(0);
  EXPECT_EQ(write.kind, Operation::Kind::kWrite);
  EXPECT_EQ(write.key, "k x");
  EXPECT_EQ(write.value, "v");
  EXPECT_EQ(write.outcome, Operation::Outcome::kOk);
  EXPECT_EQ(history->operation(1).value, "v");
  EXPECT_FALSE(history->operation(2).completed());
  EXPECT_FALSE(history->operation(2).value.has_value());  // a delete
  EXPECT_EQ(history->operation(3).kind, Operation::Kind::kCas);
  EXPECT_EQ(history->operation(3).expected, "v");
  EXPECT_EQ(history->operation(3).outcome, Operation::Outcome::kFailed);
  EXPECT_EQ(history->operation(4).outcome, Operation::Outcome::kUnknown);
}

TEST(RegisterHistoryTest, RejectsMalformedLinesWithTheirNumber) {
  for (const char* text : {
           "0 1 0 10 maybe write x 1\n",                      // unknown outcome word
           "0 1 10 5 ok write x 1\n",                         // completes before it starts
           "0 1 0 - ok write x 1\n",                          // ok without a completion
           "0 1 0 10 ok scan x 1\n",                          // unknown kind
           "0 1 0 10 ok write x\n",                           // missing value
           "0 x 0 10 ok write x 1\n",                         // client not a number
           "0 1 0 10 ok write x 1\n0 1 0 10 ok write x 2\n",  // duplicate id
       }) {
    absl::StatusOr<History> history = ParseRegisterHistory(text);
    EXPECT_FALSE(history.ok()) << text;
  }
  EXPECT_NE(ParseRegisterHistory("# c\n0 1 0 10 ok what x 1\n").status().message().find("line 2"),
            std::string::npos);
}

TEST(BankHistoryTest, ParsesAccountsAndReads) {
  absl::StatusOr<BankHistory> history =
      ParseBankHistory("accounts 30 a b c\nread 7 2 1 4 a=10 b=-5 c=25\n");
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->total, 30);
  EXPECT_EQ(history->accounts, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(history->reads.size(), 1u);
  EXPECT_EQ(history->reads[0].id, 7u);
  EXPECT_EQ(history->reads[0].balances.at("b"), -5);
}

TEST(BankHistoryTest, RejectsMalformedInput) {
  EXPECT_FALSE(ParseBankHistory("read 0 1 0 1 a=1\n").ok());                    // no accounts yet
  EXPECT_FALSE(ParseBankHistory("accounts 1 a\naccounts 1 a\n").ok());          // twice
  EXPECT_FALSE(ParseBankHistory("accounts 1 a\nread 0 1 0 1 a=x\n").ok());      // not a number
  EXPECT_FALSE(ParseBankHistory("accounts 1 a\nread 0 1 0 1 a=1 a=1\n").ok());  // repeated
  EXPECT_FALSE(ParseBankHistory("").ok());
}

TEST(AppendHistoryTest, ParsesMicroOpsAndDropsUnpromisedReads) {
  absl::StatusOr<TxnHistory> history = ParseAppendHistory(
      "0 1 0 10 ok a:x:1 r:x:1 r:y:\n"
      "1 2 2 - info a:y:5 r:x:?\n"
      "2 2 3 9 fail r:x:1\n");
  ASSERT_TRUE(history.ok()) << history.status();
  const Transaction& committed = history->transaction(0);
  EXPECT_EQ(committed.outcome, Transaction::Outcome::kCommitted);
  ASSERT_EQ(committed.ops.size(), 3u);
  EXPECT_EQ(committed.ops[0].kind, MicroOp::Kind::kAppend);
  EXPECT_EQ(committed.ops[0].value, 1);
  EXPECT_EQ(committed.ops[1].read_result, (std::vector<int64_t>{1}));
  EXPECT_EQ(committed.ops[2].read_result, std::vector<int64_t>{});
  EXPECT_EQ(history->transaction(1).outcome, Transaction::Outcome::kUnknown);
  EXPECT_FALSE(history->transaction(1).ops[1].read_result.has_value());
  EXPECT_EQ(history->transaction(2).outcome, Transaction::Outcome::kAborted);
  EXPECT_FALSE(history->transaction(2).ops[0].read_result.has_value());
}

TEST(AppendHistoryTest, RejectsMalformedInput) {
  EXPECT_FALSE(ParseAppendHistory("0 1 0 10 ok\n").ok());          // no micro-ops
  EXPECT_FALSE(ParseAppendHistory("0 1 0 10 ok w:x:1\n").ok());    // unknown micro-op
  EXPECT_FALSE(ParseAppendHistory("0 1 0 10 ok a:x:one\n").ok());  // not an integer
  EXPECT_FALSE(ParseAppendHistory("0 1 0 10 ok r:x:?\n").ok());    // ok but unknown read
  EXPECT_FALSE(ParseAppendHistory("0 1 0 10 ok a:x:1\n1 1 11 12 ok a:x:1\n").ok());  // repeat
}

}  // namespace
}  // namespace ekv::checkers
