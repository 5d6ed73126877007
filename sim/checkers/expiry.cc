#include "sim/checkers/expiry.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ekv::checkers {
namespace {

using Outcome = ExpiryWrite::Outcome;

std::string Describe(const ExpiryWrite& w) {
  const char* outcome = w.outcome == Outcome::kOk       ? "ok"
                        : w.outcome == Outcome::kFailed ? "failed"
                                                        : "unknown";
  const std::string done = w.complete_time == ExpiryWrite::kNotCompleted
                               ? std::string("never")
                               : absl::StrCat(w.complete_time);
  std::string what = w.kind == ExpiryWrite::Kind::kSet
                         ? absl::StrCat("SET ", w.key, " ", w.value,
                                        w.ttl_ms != 0 ? absl::StrCat(" PX ", w.ttl_ms) : "")
                         : absl::StrCat("PEXPIRE ", w.key, " ", w.ttl_ms);
  absl::StrAppend(&what, " [", w.invoke_time, ",", done, "] ", outcome,
                  " clock=", w.request_now_ms);
  if (w.outcome == Outcome::kOk) {
    absl::StrAppend(&what, " commit_ms=", w.commit_physical_ms);
    if (w.kind == ExpiryWrite::Kind::kExpire) absl::StrAppend(&what, " -> ", w.expire_applied);
    const uint64_t deadline = w.deadline_ms();
    absl::StrAppend(&what, " deadline=",
                    deadline == ExpiryWrite::kNever ? std::string("none") : absl::StrCat(deadline));
  }
  return what;
}

std::string Describe(const ExpiryRead& r) {
  std::string what = absl::StrCat("read ", r.key, " [", r.invoke_time, ",", r.complete_time,
                                  "] time>=", r.time_floor_ms,
                                  " GET=", r.value.has_value() ? *r.value : std::string("nil"));
  if (r.exists.has_value()) absl::StrAppend(&what, " EXISTS=", *r.exists);
  if (r.pttl.has_value()) absl::StrAppend(&what, " PTTL=", *r.pttl);
  if (r.ttl.has_value()) absl::StrAppend(&what, " TTL=", *r.ttl);
  if (r.pexpiretime.has_value()) absl::StrAppend(&what, " PEXPIRETIME=", *r.pexpiretime);
  return what;
}

bool Completed(const ExpiryWrite& w) { return w.complete_time != ExpiryWrite::kNotCompleted; }

// a completed strictly before b began.
bool Before(const ExpiryWrite& a, uint64_t b_invoke) {
  return Completed(a) && a.complete_time < b_invoke;
}

struct KeyWrites {
  std::map<std::string, const ExpiryWrite*> sets_by_value;
  std::vector<const ExpiryWrite*> acked_sets;
  std::vector<const ExpiryWrite*> expires;  // not failed
};

std::string CheckRead(const ExpiryRead& r, const KeyWrites& key, ExpiryReport* report) {
  if (!r.value.has_value()) {
    if ((r.exists.has_value() && *r.exists != 0) || (r.pttl.has_value() && *r.pttl != -2) ||
        (r.ttl.has_value() && *r.ttl != -2) ||
        (r.pexpiretime.has_value() && *r.pexpiretime != -2)) {
      return absl::StrCat("GET answered nil but the same transaction saw the key: ", Describe(r));
    }
    return "";
  }
  ++report->reads_of_values;
  auto found = key.sets_by_value.find(*r.value);
  if (found == key.sets_by_value.end()) {
    return absl::StrCat("read a value no SET wrote: ", Describe(r));
  }
  const ExpiryWrite& set = *found->second;
  if (set.outcome == Outcome::kFailed) {
    return absl::StrCat("read the value of a SET that certainly failed: ", Describe(r), "; ",
                        Describe(set));
  }
  if ((r.exists.has_value() && *r.exists != 1) || (r.pttl.has_value() && *r.pttl == -2) ||
      (r.ttl.has_value() && *r.ttl == -2) || (r.pexpiretime.has_value() && *r.pexpiretime == -2)) {
    return absl::StrCat("GET answered a value but the same transaction saw no key: ", Describe(r));
  }
  if (r.pexpiretime.has_value() && *r.pexpiretime >= 0 &&
      static_cast<uint64_t>(*r.pexpiretime) < r.time_floor_ms) {
    return absl::StrCat("read a key alive past its own PEXPIRETIME: ", Describe(r));
  }
  if ((r.pttl.has_value() && *r.pttl < -1) || (r.ttl.has_value() && *r.ttl < -1)) {
    return absl::StrCat("negative remaining time: ", Describe(r));
  }
  // Stale: an acknowledged SET after v's SET completed before the read began.
  for (const ExpiryWrite* later : key.acked_sets) {
    if (later != &set && Before(set, later->invoke_time) && Before(*later, r.invoke_time)) {
      return absl::StrCat(
          "stale read: ", Describe(r), " saw ", Describe(set),
          " though a later SET completed before the read began: ", Describe(*later));
    }
  }
  // The deadlines v may have at the read.
  std::vector<std::pair<uint64_t, const ExpiryWrite*>> possible;
  bool judged = set.outcome == Outcome::kOk;
  if (judged) possible.emplace_back(set.deadline_ms(), &set);
  for (const ExpiryWrite* expire : key.expires) {
    if (expire->invoke_time >= r.complete_time) continue;  // began after the read
    if (Before(*expire, set.invoke_time)) continue;        // applied before v existed
    if (expire->outcome == Outcome::kOk && !expire->expire_applied) continue;
    bool overwritten = false;  // an acknowledged SET between v's SET and the EXPIRE
    for (const ExpiryWrite* between : key.acked_sets) {
      if (between != &set && Before(set, between->invoke_time) &&
          Before(*between, expire->invoke_time)) {
        overwritten = true;
        break;
      }
    }
    if (overwritten) continue;
    if (expire->outcome != Outcome::kOk) {
      judged = false;
      continue;
    }
    possible.emplace_back(expire->deadline_ms(), expire);
  }
  if (!judged) return "";
  ++report->reads_judged;
  const bool may_live_forever = std::any_of(possible.begin(), possible.end(), [](const auto& p) {
    return p.first == ExpiryWrite::kNever;
  });
  std::string deadlines;
  for (const auto& [deadline, write] : possible)
    absl::StrAppend(&deadlines, "\n    ", Describe(*write));
  // Alive at some time >= floor: some deadline >= floor.
  const bool alive_possible = std::any_of(
      possible.begin(), possible.end(), [&](const auto& p) { return p.first >= r.time_floor_ms; });
  if (!alive_possible) {
    return absl::StrCat(
        "read of an expired key: ", Describe(r),
        " though every deadline the value may have is before the read's time:", deadlines);
  }
  auto no_expiry_answer = [&](int64_t answer) { return answer == -1 && !may_live_forever; };
  if ((r.pttl.has_value() && no_expiry_answer(*r.pttl)) ||
      (r.ttl.has_value() && no_expiry_answer(*r.ttl)) ||
      (r.pexpiretime.has_value() && no_expiry_answer(*r.pexpiretime))) {
    return absl::StrCat("answered no expiry for a value that has one: ", Describe(r), deadlines);
  }
  if (r.pexpiretime.has_value() && *r.pexpiretime >= 0 &&
      std::none_of(possible.begin(), possible.end(), [&](const auto& p) {
        return p.first == static_cast<uint64_t>(*r.pexpiretime);
      })) {
    return absl::StrCat("PEXPIRETIME is none of the deadlines the value may have: ", Describe(r),
                        deadlines);
  }
  // A remaining time: deadline - now, with now >= floor, so at most deadline - floor.
  auto remaining_fits = [&](int64_t at_least_ms) {
    return std::any_of(possible.begin(), possible.end(), [&](const auto& p) {
      return p.first != ExpiryWrite::kNever &&
             static_cast<int64_t>(p.first) - static_cast<int64_t>(r.time_floor_ms) >= at_least_ms;
    });
  };
  if (r.pttl.has_value() && *r.pttl >= 0 && !remaining_fits(*r.pttl)) {
    return absl::StrCat("PTTL longer than any deadline allows at the read's time: ", Describe(r),
                        deadlines);
  }
  // TTL = (ms + 500) / 1000, so ms >= 1000 * TTL - 500.
  if (r.ttl.has_value() && *r.ttl >= 0 && !remaining_fits(1000 * *r.ttl - 500)) {
    return absl::StrCat("TTL longer than any deadline allows at the read's time: ", Describe(r),
                        deadlines);
  }
  return "";
}

}  // namespace

uint64_t ExpiryWrite::deadline_ms() const {
  if (kind == Kind::kSet && ttl_ms == 0) return kNever;
  return std::max(request_now_ms, commit_physical_ms) + ttl_ms;
}

ExpiryReport CheckExpiry(const std::vector<ExpiryWrite>& writes,
                         const std::vector<ExpiryRead>& reads) {
  ExpiryReport report;
  std::map<std::string, KeyWrites> keys;
  for (const ExpiryWrite& w : writes) {
    KeyWrites& key = keys[w.key];
    if (w.kind == ExpiryWrite::Kind::kSet) {
      if (!key.sets_by_value.emplace(w.value, &w).second) {
        report.ok = false;
        report.violation = absl::StrCat("workload bug: value written twice: ", Describe(w));
        return report;
      }
      if (w.outcome == Outcome::kOk) key.acked_sets.push_back(&w);
    } else if (w.outcome != Outcome::kFailed) {
      key.expires.push_back(&w);
    }
  }
  static const KeyWrites kNoWrites;
  for (const ExpiryRead& r : reads) {
    ++report.reads;
    auto it = keys.find(r.key);
    std::string violation = CheckRead(r, it == keys.end() ? kNoWrites : it->second, &report);
    if (!violation.empty()) {
      report.ok = false;
      report.violation = std::move(violation);
      return report;
    }
  }
  return report;
}

}  // namespace ekv::checkers
