#include "sim/checkers/linearizability.h"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::checkers {
namespace {

using Verdict = LinearizabilityResult::Verdict;

// A register state is an interned value id, so the search copies, compares and hashes
// integers instead of strings.
using StateId = uint32_t;
constexpr StateId kAbsentState = 0;

class ValueInterner {
 public:
  StateId Intern(const std::optional<std::string>& value) {
    if (!value.has_value()) return kAbsentState;
    auto [it, inserted] = ids_.try_emplace(*value, static_cast<StateId>(values_.size() + 1));
    if (inserted) values_.push_back(*value);
    return it->second;
  }

  std::string Format(StateId state) const {
    if (state == kAbsentState) return "nil";
    EKV_ASSERT(state <= values_.size(), "state id ", state, " was never interned");
    return absl::StrCat("\"", absl::CEscape(values_[state - 1]), "\"");
  }

 private:
  // Only looked up, never iterated, so hash order cannot reach a result.
  absl::flat_hash_map<std::string, StateId> ids_;
  std::vector<std::string> values_;
};

struct SearchOperation {
  const Operation* operation;
  StateId value;     // Write/CAS: value written. Read: value returned.
  StateId expected;  // CAS only.
  // kOk operations must be linearized; kUnknown writes and CASes may be left out.
  bool required;
};

// The sequential specification of one register. Returns false if `operation` cannot be
// the next one applied to `state`.
bool ApplyToRegister(const SearchOperation& operation, StateId state, StateId* next_state) {
  switch (operation.operation->kind) {
    case Operation::Kind::kRead:
      *next_state = state;
      return state == operation.value;
    case Operation::Kind::kWrite:
      *next_state = operation.value;
      return true;
    case Operation::Kind::kCas:
      *next_state = operation.value;
      return state == operation.expected;
  }
  EKV_UNREACHABLE("unknown Operation::Kind");
}

// Which operations of a key are linearized: the first half of a cache entry.
class OperationBitset {
 public:
  explicit OperationBitset(size_t size) : words_((size + 63) / 64, 0) {}
  void Set(size_t index) { words_[index / 64] |= uint64_t{1} << (index % 64); }
  void Clear(size_t index) { words_[index / 64] &= ~(uint64_t{1} << (index % 64)); }
  const std::vector<uint64_t>& words() const { return words_; }

 private:
  std::vector<uint64_t> words_;
};

struct CacheEntry {
  std::vector<uint64_t> linearized;
  StateId state;

  bool operator==(const CacheEntry& other) const = default;
  template <typename H>
  friend H AbslHashValue(H hash, const CacheEntry& entry) {
    return H::combine(std::move(hash), entry.linearized, entry.state);
  }
};

constexpr int32_t kNoEvent = -1;

struct Event {
  bool is_call = false;
  uint32_t operation_index = 0;
  uint64_t time = 0;
  // For the call of a required operation: its return event. Optional operations have no
  // return event, because their effect may land arbitrarily late, or never.
  int32_t return_event = kNoEvent;
  int32_t prev = kNoEvent;
  int32_t next = kNoEvent;
};

// Call and return events in time order as a doubly linked list with head and tail
// sentinels. Linearizing an operation unlinks its events; backtracking relinks them in
// reverse order, which restores the list exactly (dancing links).
class EventList {
 public:
  explicit EventList(const std::vector<SearchOperation>& operations) {
    std::vector<Event> ordered;
    for (uint32_t index = 0; index < operations.size(); ++index) {
      const Operation& operation = *operations[index].operation;
      ordered.push_back(
          Event{.is_call = true, .operation_index = index, .time = operation.invoke_time});
      if (operations[index].required) {
        ordered.push_back(
            Event{.is_call = false, .operation_index = index, .time = operation.complete_time});
      }
    }
    // At equal times calls come first, so operations whose intervals merely touch count as
    // concurrent: the clock cannot prove which happened first.
    std::sort(ordered.begin(), ordered.end(), [&](const Event& a, const Event& b) {
      return std::tuple(a.time, !a.is_call, operations[a.operation_index].operation->id) <
             std::tuple(b.time, !b.is_call, operations[b.operation_index].operation->id);
    });

    // Events are addressed by int32 so the list stays compact and cache-friendly.
    EKV_ASSERT(ordered.size() + 2 <= static_cast<size_t>(std::numeric_limits<int32_t>::max()),
               "too many events for one key: ", ordered.size());
    events_.resize(ordered.size() + 2);
    std::vector<int32_t> call_event_of(operations.size(), kNoEvent);
    for (size_t position = 0; position < ordered.size(); ++position) {
      const int32_t event_index = static_cast<int32_t>(position + 1);
      events_[event_index] = ordered[position];
      if (ordered[position].is_call) {
        call_event_of[ordered[position].operation_index] = event_index;
      } else {
        const int32_t call = call_event_of[ordered[position].operation_index];
        EKV_ASSERT(call != kNoEvent, "return event sorted before its call");
        events_[call].return_event = event_index;
      }
    }
    for (size_t index = 0; index < events_.size(); ++index) {
      events_[index].prev = static_cast<int32_t>(index) - 1;
      events_[index].next = index + 1 < events_.size() ? static_cast<int32_t>(index + 1) : kNoEvent;
    }
  }

  int32_t first() const { return events_[kHead].next; }
  bool is_tail(int32_t index) const { return index == static_cast<int32_t>(events_.size()) - 1; }
  const Event& at(int32_t index) const { return events_[index]; }

  // Removes a call event and its return event, if any.
  void Lift(int32_t call) {
    Unlink(call);
    if (events_[call].return_event != kNoEvent) Unlink(events_[call].return_event);
  }
  // Undoes the most recent Lift still in effect.
  void Unlift(int32_t call) {
    if (events_[call].return_event != kNoEvent) Relink(events_[call].return_event);
    Relink(call);
  }

 private:
  static constexpr int32_t kHead = 0;

  void Unlink(int32_t index) {
    events_[events_[index].prev].next = events_[index].next;
    events_[events_[index].next].prev = events_[index].prev;
  }
  void Relink(int32_t index) {
    events_[events_[index].prev].next = index;
    events_[events_[index].next].prev = index;
  }

  std::vector<Event> events_;
};

struct SearchFrame {
  int32_t call_event;
  StateId state_before;
};

// The deepest point the search reached before a required operation's return could not be
// passed: the most useful single picture of why a history is not linearizable.
struct DeepestDeadEnd {
  std::vector<uint32_t> prefix;  // operation indexes, in linearization order
  std::vector<StateId> state_after_each;
  uint32_t unplaceable = 0;
  std::vector<uint32_t> candidates;  // invoked, not linearized, when the return was hit
  size_t required_linearized = 0;
  size_t optional_linearized = 0;
};

struct KeyVerdict {
  Verdict verdict = Verdict::kOk;
  uint64_t steps = 0;
  std::string explanation;
  std::vector<uint64_t> longest_linearizable_prefix;
  std::optional<uint64_t> unplaceable_operation_id;
};

std::string DescribeDeadEnd(absl::string_view key, const std::vector<SearchOperation>& operations,
                            size_t required_count, const ValueInterner& values,
                            const DeepestDeadEnd& dead_end, uint64_t steps) {
  std::string text =
      absl::StrCat("key \"", absl::CEscape(key), "\" is not linearizable (", operations.size(),
                   " operations considered, ", required_count, " ok, ", steps, " search steps).\n");
  absl::StrAppend(&text, "Longest linearizable prefix (", dead_end.prefix.size(),
                  " operations, starting from nil):\n");
  for (size_t position = 0; position < dead_end.prefix.size(); ++position) {
    absl::StrAppend(&text, "  ", position + 1, ". ",
                    FormatOperation(*operations[dead_end.prefix[position]].operation),
                    "  => state ", values.Format(dead_end.state_after_each[position]), "\n");
  }
  const StateId final_state =
      dead_end.state_after_each.empty() ? kAbsentState : dead_end.state_after_each.back();
  const Operation& unplaceable = *operations[dead_end.unplaceable].operation;
  absl::StrAppend(&text, "Cannot linearize ", FormatOperation(unplaceable),
                  " after it: it completed at t=", unplaceable.complete_time, ", and from state ",
                  values.Format(final_state),
                  " no order of the still-pending operations below makes it legal.\n");
  absl::StrAppend(&text, "Operations invoked but not linearized at that point:\n");
  for (uint32_t candidate : dead_end.candidates) {
    absl::StrAppend(&text, "  ", FormatOperation(*operations[candidate].operation), "\n");
  }
  return text;
}

KeyVerdict CheckKey(absl::string_view key, const std::vector<const Operation*>& key_operations,
                    const CheckOptions& options) {
  ValueInterner values;
  std::vector<SearchOperation> operations;
  operations.reserve(key_operations.size());
  size_t required_count = 0;
  for (const Operation* operation : key_operations) {
    SearchOperation search_operation{.operation = operation,
                                     .value = values.Intern(operation->value),
                                     .expected = values.Intern(operation->expected),
                                     .required = operation->outcome == Operation::Outcome::kOk};
    if (search_operation.required) ++required_count;
    operations.push_back(search_operation);
  }

  EventList events(operations);
  OperationBitset linearized(operations.size());
  absl::flat_hash_set<CacheEntry> explored;  // membership only, never iterated
  std::vector<SearchFrame> stack;
  std::optional<DeepestDeadEnd> deepest;
  StateId state = kAbsentState;
  size_t required_remaining = required_count;
  KeyVerdict verdict;

  int32_t entry = events.first();
  // Optional operations have no return event, so once every required operation is
  // linearized the rest can simply be left out: the history is linearizable.
  while (required_remaining > 0) {
    if (verdict.steps == options.max_steps_per_key) {
      verdict.verdict = Verdict::kUnknown;
      verdict.explanation = absl::StrCat(
          "key \"", absl::CEscape(key), "\": linearizability search gave up after ", verdict.steps,
          " steps (CheckOptions::max_steps_per_key) over ", operations.size(), " operations (",
          required_count,
          " ok); the verdict is unknown, not a pass. Raise the bound or shorten the history.");
      return verdict;
    }
    ++verdict.steps;
    // Every unlinearized required operation still has its return event ahead of the tail.
    EKV_ASSERT(!events.is_tail(entry), "walked past every return with ", required_remaining,
               " ok operations unlinearized");
    const Event& event = events.at(entry);
    if (event.is_call) {
      const SearchOperation& operation = operations[event.operation_index];
      StateId next_state;
      if (ApplyToRegister(operation, state, &next_state)) {
        linearized.Set(event.operation_index);
        if (explored.insert(CacheEntry{linearized.words(), next_state}).second) {
          stack.push_back(SearchFrame{.call_event = entry, .state_before = state});
          state = next_state;
          if (operation.required) --required_remaining;
          events.Lift(entry);
          entry = events.first();
          continue;
        }
        // Already explored this exact configuration from another order: it failed there.
        linearized.Clear(event.operation_index);
      }
      entry = event.next;
      continue;
    }

    // A required operation returned before it could be linearized: the prefix on the stack
    // is a dead end. Keep the one with the most ok operations (then the fewest optional
    // ones, which only clutter the report) as the picture of the violation.
    const size_t required_linearized = required_count - required_remaining;
    const size_t optional_linearized = stack.size() - required_linearized;
    if (!deepest.has_value() || std::pair(required_linearized, deepest->optional_linearized) >
                                    std::pair(deepest->required_linearized, optional_linearized)) {
      DeepestDeadEnd dead_end;
      dead_end.required_linearized = required_linearized;
      dead_end.optional_linearized = optional_linearized;
      for (size_t depth = 0; depth < stack.size(); ++depth) {
        dead_end.prefix.push_back(events.at(stack[depth].call_event).operation_index);
        dead_end.state_after_each.push_back(depth + 1 < stack.size() ? stack[depth + 1].state_before
                                                                     : state);
      }
      dead_end.unplaceable = event.operation_index;
      for (int32_t scan = events.first(); scan != entry; scan = events.at(scan).next) {
        if (events.at(scan).is_call) dead_end.candidates.push_back(events.at(scan).operation_index);
      }
      deepest = std::move(dead_end);
    }
    if (stack.empty()) {
      EKV_ASSERT(deepest.has_value(), "dead end recorded before giving up");
      verdict.verdict = Verdict::kViolation;
      verdict.explanation =
          DescribeDeadEnd(key, operations, required_count, values, *deepest, verdict.steps);
      for (uint32_t index : deepest->prefix) {
        verdict.longest_linearizable_prefix.push_back(operations[index].operation->id);
      }
      verdict.unplaceable_operation_id = operations[deepest->unplaceable].operation->id;
      return verdict;
    }
    const SearchFrame frame = stack.back();
    stack.pop_back();
    const uint32_t undone = events.at(frame.call_event).operation_index;
    linearized.Clear(undone);
    state = frame.state_before;
    if (operations[undone].required) ++required_remaining;
    events.Unlift(frame.call_event);
    entry = events.at(frame.call_event).next;
  }
  return verdict;
}

}  // namespace

absl::string_view VerdictName(LinearizabilityResult::Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kViolation:
      return "violation";
    case Verdict::kUnknown:
      return "unknown";
  }
  EKV_UNREACHABLE("unknown LinearizabilityResult::Verdict ", static_cast<int>(verdict));
}

LinearizabilityResult CheckLinearizable(const History& history, const CheckOptions& options) {
  EKV_ASSERT(options.max_steps_per_key > 0, "max_steps_per_key must be positive");
  // Ordered by key so the reported key, and the work done before it, are deterministic.
  std::map<std::string, std::vector<const Operation*>> operations_by_key;
  for (const Operation& operation : history.operations()) {
    if (operation.outcome == Operation::Outcome::kFailed) continue;
    // A read that never returned observed nothing the checker could hold against it.
    if (operation.kind == Operation::Kind::kRead &&
        operation.outcome == Operation::Outcome::kUnknown) {
      continue;
    }
    operations_by_key[operation.key].push_back(&operation);
  }

  LinearizabilityResult result;
  std::optional<LinearizabilityResult> first_inconclusive;
  for (const auto& [key, key_operations] : operations_by_key) {
    KeyVerdict key_verdict = CheckKey(key, key_operations, options);
    result.total_steps += key_verdict.steps;
    if (key_verdict.verdict == Verdict::kOk) continue;
    LinearizabilityResult key_result;
    key_result.verdict = key_verdict.verdict;
    key_result.key = key;
    key_result.explanation = std::move(key_verdict.explanation);
    key_result.longest_linearizable_prefix = std::move(key_verdict.longest_linearizable_prefix);
    key_result.unplaceable_operation_id = key_verdict.unplaceable_operation_id;
    if (key_verdict.verdict == Verdict::kViolation) {
      key_result.total_steps = result.total_steps;
      return key_result;
    }
    if (!first_inconclusive.has_value()) first_inconclusive = std::move(key_result);
  }
  if (first_inconclusive.has_value()) {
    first_inconclusive->total_steps = result.total_steps;
    return *std::move(first_inconclusive);
  }
  return result;
}

}  // namespace ekv::checkers
