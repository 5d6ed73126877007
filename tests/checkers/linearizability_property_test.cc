// Property tests: histories generated from a real sequential register with random
// concurrent intervals must pass, and the same histories with one read made stale must
// fail (the planted bug every checker has to catch).
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"
#include "core/util/rng.h"
#include "gtest/gtest.h"
#include "sim/checkers/history.h"
#include "sim/checkers/linearizability.h"

namespace ekv::checkers {
namespace {

using Verdict = LinearizabilityResult::Verdict;

struct GeneratorOptions {
  uint64_t max_clients = 5;
  uint64_t max_keys = 3;
  uint64_t max_operations_per_client = 30;
};

// Each client runs operations one after another. Every operation is given a linearization
// point inside its interval (or, for an unknown outcome, anywhere after its invocation, or
// none), and the operations are applied to a real register in linearization-point order,
// which fixes read results and CAS outcomes. The history is linearizable by construction.
std::vector<Operation> GenerateLinearizableOperations(uint64_t seed,
                                                      const GeneratorOptions& options) {
  Rng rng(seed);
  const uint64_t clients = rng.Range(1, options.max_clients);
  const uint64_t keys = rng.Range(1, options.max_keys);

  struct Planned {
    Operation operation;
    std::optional<uint64_t> linearization_time;
  };
  std::vector<Planned> planned;
  for (uint64_t client = 0; client < clients; ++client) {
    uint64_t now = rng.Uniform(5);
    const uint64_t count = rng.Range(1, options.max_operations_per_client);
    for (uint64_t sequence = 0; sequence < count; ++sequence) {
      Operation operation;
      operation.id = planned.size();
      operation.client = client;
      operation.key = absl::StrCat("k", rng.Uniform(keys));
      const uint64_t kind_draw = rng.Uniform(10);
      operation.kind = kind_draw < 4   ? Operation::Kind::kRead
                       : kind_draw < 8 ? Operation::Kind::kWrite
                                       : Operation::Kind::kCas;
      if (operation.kind != Operation::Kind::kRead) {
        // Unique values let the planted-bug mutation pick a value that provably cannot be
        // read; an occasional delete keeps nil in play.
        if (operation.kind == Operation::Kind::kCas || !rng.Chance(0.1)) {
          operation.value = absl::StrCat("c", client, ".", sequence);
        }
      }
      operation.invoke_time = now + rng.Uniform(4);
      const uint64_t linearization_time = operation.invoke_time + rng.Uniform(10);
      operation.complete_time = linearization_time + rng.Uniform(10);
      operation.outcome = Operation::Outcome::kOk;

      Planned plan{.operation = operation, .linearization_time = linearization_time};
      if (rng.Chance(0.1)) {
        plan.operation.outcome = Operation::Outcome::kUnknown;
        // The effect of a timed-out operation may land after the client gave up, or never.
        plan.linearization_time =
            rng.Chance(0.5) ? std::optional<uint64_t>(operation.invoke_time + rng.Uniform(40))
                            : std::nullopt;
        if (rng.Chance(0.5)) plan.operation.complete_time = Operation::kNotCompleted;
      }
      now = operation.complete_time + 1;
      planned.push_back(std::move(plan));
    }
  }

  std::vector<size_t> apply_order;
  for (size_t index = 0; index < planned.size(); ++index) {
    if (planned[index].linearization_time.has_value()) apply_order.push_back(index);
  }
  std::sort(apply_order.begin(), apply_order.end(), [&](size_t a, size_t b) {
    return std::tuple(*planned[a].linearization_time, a) <
           std::tuple(*planned[b].linearization_time, b);
  });
  std::map<std::string, std::optional<std::string>> registers;
  std::vector<std::optional<std::string>> written_values = {std::nullopt};
  for (size_t index : apply_order) {
    Operation& operation = planned[index].operation;
    std::optional<std::string>& current = registers[operation.key];
    const bool known = operation.outcome == Operation::Outcome::kOk;
    switch (operation.kind) {
      case Operation::Kind::kRead:
        if (known) operation.value = current;
        break;
      case Operation::Kind::kWrite:
        current = operation.value;
        written_values.push_back(operation.value);
        break;
      case Operation::Kind::kCas:
        // Mostly a CAS that matches; sometimes one that compares against an older value.
        operation.expected =
            rng.Chance(0.6) ? current : written_values[rng.Uniform(written_values.size())];
        if (current == operation.expected) {
          current = operation.value;
          written_values.push_back(operation.value);
        } else if (known) {
          operation.outcome = Operation::Outcome::kFailed;
        }
        break;
    }
  }
  std::vector<Operation> operations;
  for (Planned& plan : planned) {
    // A CAS that never took effect still needs some expected value.
    if (plan.operation.kind == Operation::Kind::kCas && !plan.linearization_time.has_value()) {
      plan.operation.expected = "unapplied";
    }
    operations.push_back(std::move(plan.operation));
  }
  return operations;
}

History MustBuild(std::vector<Operation> operations) {
  absl::StatusOr<History> history = History::FromOperations(std::move(operations));
  EKV_ASSERT(history.ok(), "generated history is malformed: ", history.status().ToString());
  return *std::move(history);
}

bool IsAcknowledgedWrite(const Operation& operation) {
  return operation.kind != Operation::Kind::kRead && operation.outcome == Operation::Outcome::kOk &&
         operation.value.has_value();
}

// Finds an ok read R and ok writes W1, W2 to its key with W1 before W2 before R in real
// time, and makes R return W1's value. Written values are unique, so after W2 nothing can
// restore W1's value and the mutated read cannot be linearized. Returns the read's index.
std::optional<size_t> PlantStaleRead(std::vector<Operation>& operations) {
  for (size_t read = 0; read < operations.size(); ++read) {
    const Operation& reader = operations[read];
    if (reader.kind != Operation::Kind::kRead || reader.outcome != Operation::Outcome::kOk) {
      continue;
    }
    for (const Operation& second : operations) {
      if (!IsAcknowledgedWrite(second) || second.key != reader.key ||
          second.complete_time >= reader.invoke_time) {
        continue;
      }
      for (const Operation& first : operations) {
        if (IsAcknowledgedWrite(first) && first.key == reader.key &&
            first.complete_time < second.invoke_time) {
          operations[read].value = first.value;
          return read;
        }
      }
    }
  }
  return std::nullopt;
}

constexpr uint64_t kSeeds = 300;

TEST(LinearizabilityPropertyTest, GeneratedLinearizableHistoriesPass) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const History history = MustBuild(GenerateLinearizableOperations(seed, {}));
    const LinearizabilityResult result = CheckLinearizable(history);
    ASSERT_EQ(result.verdict, Verdict::kOk) << "seed=" << seed << "\n"
                                            << result.explanation << "\nhistory:\n"
                                            << history.ToString();
  }
}

TEST(LinearizabilityPropertyTest, PlantedStaleReadIsCaught) {
  uint64_t planted = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    std::vector<Operation> operations = GenerateLinearizableOperations(seed, {});
    const std::optional<size_t> stale_read = PlantStaleRead(operations);
    if (!stale_read.has_value()) continue;
    ++planted;
    const std::string key = operations[*stale_read].key;
    const History history = MustBuild(std::move(operations));
    const LinearizabilityResult result = CheckLinearizable(history);
    ASSERT_EQ(result.verdict, Verdict::kViolation)
        << "seed=" << seed << " stale read #" << *stale_read << "\nhistory:\n"
        << history.ToString();
    EXPECT_EQ(result.key, key) << "seed=" << seed;
  }
  // Most generated histories must be mutable, or this test proves little.
  EXPECT_GT(planted, kSeeds / 2);
}

TEST(LinearizabilityPropertyTest, PlantedNeverWrittenReadIsCaught) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    std::vector<Operation> operations = GenerateLinearizableOperations(seed, {});
    auto read = std::find_if(operations.begin(), operations.end(), [](const Operation& op) {
      return op.kind == Operation::Kind::kRead && op.outcome == Operation::Outcome::kOk;
    });
    if (read == operations.end()) continue;
    read->value = "never-written";
    const std::string key = read->key;
    const History history = MustBuild(std::move(operations));
    const LinearizabilityResult result = CheckLinearizable(history);
    ASSERT_EQ(result.verdict, Verdict::kViolation) << "seed=" << seed;
    EXPECT_EQ(result.key, key) << "seed=" << seed;
  }
}

TEST(LinearizabilityPropertyTest, LargeConcurrentHistoryPassesWithinDefaultBound) {
  const GeneratorOptions large{.max_clients = 8, .max_keys = 2, .max_operations_per_client = 150};
  for (uint64_t seed = 1000; seed < 1005; ++seed) {
    const History history = MustBuild(GenerateLinearizableOperations(seed, large));
    const LinearizabilityResult result = CheckLinearizable(history);
    ASSERT_EQ(result.verdict, Verdict::kOk) << "seed=" << seed << "\n" << result.explanation;
  }
}

}  // namespace
}  // namespace ekv::checkers
