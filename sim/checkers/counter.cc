#include "sim/checkers/counter.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"

namespace ekv::checkers {
namespace {

// Bounds the subset-sum table: a key's increments never add up to more in the workloads
// (a few thousand increments of at most 9); larger targets are judged by bounds only.
constexpr int64_t kMaxSubsetSum = 1 << 20;

std::string Describe(const CounterOp& op) {
  const char* outcome = op.outcome == CounterOp::Outcome::kOk       ? "ok"
                        : op.outcome == CounterOp::Outcome::kFailed ? "failed"
                                                                    : "unknown";
  const std::string done = op.complete_time == CounterOp::kNotCompleted
                               ? std::string("never")
                               : absl::StrCat(op.complete_time);
  if (op.kind == CounterOp::Kind::kRead) {
    return absl::StrCat(
        "read ", op.key, " [", op.invoke_time, ",", done, "] ", outcome,
        op.outcome == CounterOp::Outcome::kOk ? absl::StrCat(" -> ", op.value) : "");
  }
  return absl::StrCat("incrby ", op.key, " ", op.delta, " [", op.invoke_time, ",", done, "] ",
                      outcome,
                      op.outcome == CounterOp::Outcome::kOk ? absl::StrCat(" -> ", op.value) : "");
}

bool Before(const CounterOp& a, const CounterOp& b) {
  return a.complete_time != CounterOp::kNotCompleted && a.complete_time < b.invoke_time;
}

// Whether `target` is a sum of some subset of `deltas` (all > 0).
bool SubsetSum(const std::vector<int64_t>& deltas, int64_t target) {
  if (target < 0) return false;
  if (target == 0) return true;
  int64_t total = 0;
  for (int64_t d : deltas) total += d;
  if (target > total) return false;
  if (target == total) return true;
  if (target > kMaxSubsetSum) return true;  // beyond the table: the bounds above held
  const size_t bits = static_cast<size_t>(target) + 1;
  std::vector<uint64_t> reachable((bits + 63) / 64, 0);
  reachable[0] = 1;
  for (int64_t d : deltas) {
    if (d > target) continue;
    // reachable |= reachable << d, from the top word down.
    const size_t word_shift = static_cast<size_t>(d) / 64;
    const size_t bit_shift = static_cast<size_t>(d) % 64;
    for (size_t i = reachable.size(); i-- > word_shift;) {
      uint64_t shifted = reachable[i - word_shift] << bit_shift;
      if (bit_shift != 0 && i - word_shift > 0) {
        shifted |= reachable[i - word_shift - 1] >> (64 - bit_shift);
      }
      reachable[i] |= shifted;
    }
    if ((reachable[static_cast<size_t>(target) / 64] >> (target % 64)) & 1) return true;
  }
  return (reachable[static_cast<size_t>(target) / 64] >> (target % 64)) & 1;
}

std::string CheckKey(const std::vector<const CounterOp*>& ops, uint64_t* observations) {
  std::vector<const CounterOp*> increments;
  std::vector<const CounterOp*> observed;
  for (const CounterOp* op : ops) {
    if (op->kind == CounterOp::Kind::kIncrement) {
      if (op->delta <= 0) return absl::StrCat("increment with delta <= 0: ", Describe(*op));
      if (op->outcome != CounterOp::Outcome::kFailed) increments.push_back(op);
    }
    if (op->outcome == CounterOp::Outcome::kOk) observed.push_back(op);
  }
  // Two acknowledged increments never answer the same value.
  std::map<int64_t, const CounterOp*> answered;
  for (const CounterOp* op : observed) {
    if (op->kind != CounterOp::Kind::kIncrement) continue;
    auto [it, inserted] = answered.emplace(op->value, op);
    if (!inserted) {
      return absl::StrCat("two increments answered the same value: ", Describe(*it->second),
                          " and ", Describe(*op));
    }
  }
  // Exact count.
  for (const CounterOp* o : observed) {
    ++*observations;
    const bool is_increment = o->kind == CounterOp::Kind::kIncrement;
    int64_t base = is_increment ? o->delta : 0;
    int64_t acked_before = 0;
    std::vector<int64_t> maybe;
    int64_t maybe_total = 0;
    for (const CounterOp* i : increments) {
      if (i == o) continue;
      if (i->outcome == CounterOp::Outcome::kOk && Before(*i, *o)) {
        base += i->delta;
        ++acked_before;
      } else if (i->invoke_time < o->complete_time) {
        maybe.push_back(i->delta);
        maybe_total += i->delta;
      }
    }
    if (!SubsetSum(maybe, o->value - base)) {
      return absl::StrCat(Describe(*o), ": the ", acked_before,
                          " acknowledged increments before it (with its own delta) add up to ",
                          base, " and the ", maybe.size(),
                          " that may precede it (concurrent or unknown) to at most ", maybe_total,
                          "; no subset of those makes ", o->value);
    }
  }
  // Real-time monotonicity: sweep observations by invocation, keeping the largest value
  // among those that completed before.
  std::vector<const CounterOp*> by_invoke = observed;
  std::vector<const CounterOp*> by_complete = observed;
  std::sort(by_invoke.begin(), by_invoke.end(),
            [](const CounterOp* a, const CounterOp* b) { return a->invoke_time < b->invoke_time; });
  std::sort(by_complete.begin(), by_complete.end(), [](const CounterOp* a, const CounterOp* b) {
    return a->complete_time < b->complete_time;
  });
  const CounterOp* highest = nullptr;
  size_t next_completed = 0;
  for (const CounterOp* o : by_invoke) {
    while (next_completed < by_complete.size() &&
           by_complete[next_completed]->complete_time < o->invoke_time) {
      const CounterOp* done = by_complete[next_completed++];
      if (highest == nullptr || done->value > highest->value) highest = done;
    }
    const int64_t before_itself =
        o->kind == CounterOp::Kind::kIncrement ? o->value - o->delta : o->value;
    if (highest != nullptr && before_itself < highest->value) {
      return absl::StrCat("went backwards in real time: ", Describe(*highest), " completed before ",
                          Describe(*o), " began");
    }
  }
  return "";
}

}  // namespace

CounterReport CheckCounters(const std::vector<CounterOp>& ops) {
  std::map<std::string, std::vector<const CounterOp*>> by_key;
  for (const CounterOp& op : ops) by_key[op.key].push_back(&op);
  CounterReport report;
  for (const auto& [key, key_ops] : by_key) {
    std::string violation = CheckKey(key_ops, &report.observations);
    if (!violation.empty()) {
      report.ok = false;
      report.violation = absl::StrCat("counter ", key, ": ", violation);
      return report;
    }
  }
  return report;
}

}  // namespace ekv::checkers
