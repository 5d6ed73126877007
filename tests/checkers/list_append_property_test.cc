// Property tests: histories generated from a real serial execution of random list-append
// transactions, each committing at a point inside its interval (so the execution order is
// consistent with real time), must pass; the same histories with one planted bug must
// fail. Includes the 5,000-transaction size the simulator produces.
#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"
#include "core/util/rng.h"
#include "gtest/gtest.h"
#include "sim/checkers/list_append.h"
#include "sim/checkers/txn_history.h"

namespace ekv::checkers {
namespace {

using Kind = ListAppendAnomaly::Kind;

struct GeneratorOptions {
  uint64_t max_clients = 6;
  uint64_t max_keys = 5;
  uint64_t max_transactions_per_client = 25;
  uint64_t max_ops_per_transaction = 4;
  // Fixed counts instead of random ones in [1, max], for the size tests.
  bool exact = false;
};

struct Generated {
  std::vector<Transaction> transactions;
  uint64_t unknown_applied = 0;
  uint64_t unknown_not_applied = 0;
};

Generated GenerateSerializable(uint64_t seed, const GeneratorOptions& options) {
  Rng rng(seed);
  const uint64_t clients = options.exact ? options.max_clients : rng.Range(1, options.max_clients);
  const uint64_t keys = options.exact ? options.max_keys : rng.Range(1, options.max_keys);
  std::map<std::string, int64_t> next_value;

  struct Planned {
    Transaction transaction;
    std::optional<uint64_t> commit_time;  // nullopt: never took effect
  };
  std::vector<Planned> planned;
  for (uint64_t client = 0; client < clients; ++client) {
    uint64_t now = rng.Uniform(5);
    const uint64_t count = options.exact ? options.max_transactions_per_client
                                         : rng.Range(1, options.max_transactions_per_client);
    for (uint64_t sequence = 0; sequence < count; ++sequence) {
      Transaction transaction;
      transaction.id = planned.size();
      transaction.client = client;
      const uint64_t ops = rng.Range(1, options.max_ops_per_transaction);
      for (uint64_t i = 0; i < ops; ++i) {
        const std::string key = absl::StrCat("k", rng.Uniform(keys));
        if (rng.Chance(0.5)) {
          transaction.ops.push_back(MicroOp::Append(key, ++next_value[key]));
        } else {
          transaction.ops.push_back(MicroOp::Read(key));
        }
      }
      transaction.invoke_time = now + rng.Uniform(4);
      const uint64_t commit_time = transaction.invoke_time + rng.Uniform(10);
      transaction.complete_time = commit_time + rng.Uniform(10);
      transaction.outcome = Transaction::Outcome::kCommitted;
      Planned plan{.transaction = transaction, .commit_time = commit_time};
      const uint64_t outcome_draw = rng.Uniform(10);
      if (outcome_draw == 0) {
        plan.transaction.outcome = Transaction::Outcome::kAborted;
        plan.commit_time = std::nullopt;
      } else if (outcome_draw == 1) {
        plan.transaction.outcome = Transaction::Outcome::kUnknown;
        // A timed-out transaction may commit after its client gave up, or never.
        plan.commit_time = rng.Chance(0.5)
                               ? std::optional<uint64_t>(transaction.invoke_time + rng.Uniform(40))
                               : std::nullopt;
        if (rng.Chance(0.5)) plan.transaction.complete_time = Transaction::kNotCompleted;
      }
      now = transaction.complete_time + 1;
      planned.push_back(std::move(plan));
    }
  }

  std::vector<size_t> commit_order;
  for (size_t i = 0; i < planned.size(); ++i) {
    if (planned[i].commit_time.has_value()) commit_order.push_back(i);
  }
  std::sort(commit_order.begin(), commit_order.end(), [&](size_t a, size_t b) {
    return std::tie(*planned[a].commit_time, a) < std::tie(*planned[b].commit_time, b);
  });
  std::map<std::string, std::vector<int64_t>> lists;
  for (size_t index : commit_order) {
    Transaction& transaction = planned[index].transaction;
    for (MicroOp& op : transaction.ops) {
      std::vector<int64_t>& list = lists[op.key];
      if (op.kind == MicroOp::Kind::kAppend) {
        list.push_back(op.value);
      } else if (transaction.outcome == Transaction::Outcome::kCommitted) {
        op.read_result = list;
      }
    }
  }
  Generated generated;
  for (Planned& plan : planned) {
    if (plan.transaction.outcome == Transaction::Outcome::kUnknown) {
      ++(plan.commit_time.has_value() ? generated.unknown_applied : generated.unknown_not_applied);
    }
    generated.transactions.push_back(std::move(plan.transaction));
  }
  return generated;
}

TxnHistory MustBuild(std::vector<Transaction> transactions) {
  absl::StatusOr<TxnHistory> history = TxnHistory::FromTransactions(std::move(transactions));
  EKV_ASSERT(history.ok(), "generated history is malformed: ", history.status().ToString());
  return *std::move(history);
}

bool IsCommitted(const Transaction& transaction) {
  return transaction.outcome == Transaction::Outcome::kCommitted;
}

// Where each (key, value) was appended, by transaction index.
std::map<std::pair<std::string, int64_t>, size_t> Appenders(
    const std::vector<Transaction>& transactions) {
  std::map<std::pair<std::string, int64_t>, size_t> appenders;
  for (size_t t = 0; t < transactions.size(); ++t) {
    for (const MicroOp& op : transactions[t].ops) {
      if (op.kind == MicroOp::Kind::kAppend) appenders[{op.key, op.value}] = t;
    }
  }
  return appenders;
}

// A read drops its last element, appended by another transaction that completed before
// the reader was invoked: a stale read, which strict serializability forbids.
bool PlantStaleRead(std::vector<Transaction>& transactions) {
  const auto appenders = Appenders(transactions);
  for (size_t r = 0; r < transactions.size(); ++r) {
    if (!IsCommitted(transactions[r])) continue;
    for (MicroOp& op : transactions[r].ops) {
      if (op.kind != MicroOp::Kind::kRead || op.read_result->empty()) continue;
      const Transaction& writer = transactions[appenders.at({op.key, op.read_result->back()})];
      if (&writer == &transactions[r] || !IsCommitted(writer) ||
          writer.complete_time >= transactions[r].invoke_time) {
        continue;
      }
      op.read_result->pop_back();
      return true;
    }
  }
  return false;
}

// A read loses an element from its middle, while another read shows that element at that
// position: the two can no longer both be prefixes of one order.
bool PlantMissingElement(std::vector<Transaction>& transactions) {
  for (size_t r = 0; r < transactions.size(); ++r) {
    if (!IsCommitted(transactions[r])) continue;
    for (MicroOp& op : transactions[r].ops) {
      if (op.kind != MicroOp::Kind::kRead || op.read_result->size() < 2) continue;
      const size_t position = op.read_result->size() - 2;
      for (const Transaction& other : transactions) {
        if (&other == &transactions[r] || !IsCommitted(other)) continue;
        for (const MicroOp& witness : other.ops) {
          if (witness.kind == MicroOp::Kind::kRead && witness.key == op.key &&
              witness.read_result->size() > position) {
            op.read_result->erase(op.read_result->begin() + position);
            return true;
          }
        }
      }
    }
  }
  return false;
}

// Two appends by transactions ordered in real time (A completed before B was invoked)
// are swapped in every read: the reads now claim B's append was applied before A's.
bool PlantSwappedAppends(std::vector<Transaction>& transactions, Rng& rng) {
  const auto appenders = Appenders(transactions);
  // Candidates from the first reads only: enough choice, and linear in big histories.
  constexpr size_t kMaxCandidates = 64;
  std::vector<std::tuple<std::string, int64_t, int64_t>> candidates;
  for (const Transaction& reader : transactions) {
    if (candidates.size() >= kMaxCandidates) break;
    if (!IsCommitted(reader)) continue;
    for (const MicroOp& op : reader.ops) {
      if (op.kind != MicroOp::Kind::kRead) continue;
      const std::vector<int64_t>& list = *op.read_result;
      for (size_t i = 0; i + 1 < list.size(); ++i) {
        for (size_t j = i + 1; j < list.size() && j < i + 4; ++j) {
          const Transaction& first = transactions[appenders.at({op.key, list[i]})];
          const Transaction& second = transactions[appenders.at({op.key, list[j]})];
          if (IsCommitted(first) && IsCommitted(second) &&
              first.complete_time < second.invoke_time) {
            candidates.emplace_back(op.key, list[i], list[j]);
          }
        }
      }
    }
  }
  if (candidates.empty()) return false;
  const auto& [key, a, b] = candidates[rng.Uniform(candidates.size())];
  for (Transaction& transaction : transactions) {
    for (MicroOp& op : transaction.ops) {
      if (op.kind != MicroOp::Kind::kRead || op.key != key || !op.read_result.has_value()) {
        continue;
      }
      for (int64_t& value : *op.read_result) {
        if (value == a) {
          value = b;
        } else if (value == b) {
          value = a;
        }
      }
    }
  }
  return true;
}

constexpr uint64_t kSeeds = 400;

TEST(ListAppendPropertyTest, SerialExecutionsPass) {
  uint64_t unknown_applied = 0;
  uint64_t unknown_not_applied = 0;
  uint64_t unknown_dropped = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Generated generated = GenerateSerializable(seed, {});
    unknown_applied += generated.unknown_applied;
    unknown_not_applied += generated.unknown_not_applied;
    const TxnHistory history = MustBuild(std::move(generated.transactions));
    const ListAppendResult result = CheckListAppend(history);
    ASSERT_TRUE(result.ok()) << "seed " << seed << "\n"
                             << result.explanation << "\n"
                             << history.ToString();
    unknown_dropped += result.unknown_dropped;
  }
  // The generator exercised both kinds of unknown outcome, and some were dropped.
  EXPECT_GT(unknown_applied, 50u);
  EXPECT_GT(unknown_not_applied, 50u);
  EXPECT_GE(unknown_dropped, unknown_not_applied);
}

TEST(ListAppendPropertyTest, PlantedStaleReadIsCaught) {
  uint64_t planted = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Generated generated = GenerateSerializable(seed, {});
    if (!PlantStaleRead(generated.transactions)) continue;
    ++planted;
    const TxnHistory history = MustBuild(std::move(generated.transactions));
    const ListAppendResult result = CheckListAppend(history);
    ASSERT_FALSE(result.ok()) << "seed " << seed << "\n" << history.ToString();
  }
  EXPECT_GT(planted, kSeeds / 2);
}

TEST(ListAppendPropertyTest, PlantedMissingElementIsCaught) {
  uint64_t planted = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Generated generated = GenerateSerializable(seed, {});
    if (!PlantMissingElement(generated.transactions)) continue;
    ++planted;
    const TxnHistory history = MustBuild(std::move(generated.transactions));
    const ListAppendResult result = CheckListAppend(history);
    ASSERT_FALSE(result.ok()) << "seed " << seed << "\n" << history.ToString();
    EXPECT_TRUE(result.Has(Kind::kIncompatibleOrder)) << "seed " << seed;
  }
  EXPECT_GT(planted, kSeeds / 2);
}

TEST(ListAppendPropertyTest, PlantedSwappedAppendsAreCaught) {
  uint64_t planted = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Generated generated = GenerateSerializable(seed, {});
    Rng rng(seed * 7919);
    if (!PlantSwappedAppends(generated.transactions, rng)) continue;
    ++planted;
    const TxnHistory history = MustBuild(std::move(generated.transactions));
    const ListAppendResult result = CheckListAppend(history);
    ASSERT_FALSE(result.ok()) << "seed " << seed << "\n" << history.ToString();
  }
  EXPECT_GT(planted, kSeeds / 2);
}

GeneratorOptions FiveThousand() {
  return GeneratorOptions{.max_clients = 10,
                          .max_keys = 10,
                          .max_transactions_per_client = 500,
                          .max_ops_per_transaction = 4,
                          .exact = true};
}

TEST(ListAppendPropertyTest, FiveThousandTransactionsPass) {
  Generated generated = GenerateSerializable(42, FiveThousand());
  ASSERT_EQ(generated.transactions.size(), 5000u);
  const TxnHistory history = MustBuild(std::move(generated.transactions));
  const ListAppendResult result = CheckListAppend(history);
  EXPECT_TRUE(result.ok()) << result.explanation;
  EXPECT_FALSE(result.search_budget_exhausted);
  std::cout << result.explanation << "\n";
}

TEST(ListAppendPropertyTest, FiveThousandTransactionsWithPlantedBugs) {
  {
    Generated generated = GenerateSerializable(43, FiveThousand());
    ASSERT_TRUE(PlantStaleRead(generated.transactions));
    const ListAppendResult result = CheckListAppend(MustBuild(std::move(generated.transactions)));
    EXPECT_FALSE(result.ok());
    std::cout << "stale read: steps " << result.search_steps << "\n"
              << result.explanation.substr(0, 1500) << "\n";
  }
  {
    Generated generated = GenerateSerializable(44, FiveThousand());
    Rng rng(44);
    ASSERT_TRUE(PlantSwappedAppends(generated.transactions, rng));
    const ListAppendResult result = CheckListAppend(MustBuild(std::move(generated.transactions)));
    EXPECT_FALSE(result.ok());
    std::cout << "swapped appends: steps " << result.search_steps << "\n"
              << result.explanation.substr(0, 300) << "\n";
  }
}

}  // namespace
}  // namespace ekv::checkers
