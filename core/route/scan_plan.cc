#include "core/route/scan_plan.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::route {
namespace {

// min(a, b) for exclusive ends where empty = +inf.
absl::string_view MinEnd(absl::string_view a, absl::string_view b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a < b ? a : b;
}

absl::string_view MaxStart(absl::string_view a, absl::string_view b) { return a < b ? b : a; }

SubScan SubScanFor(const RouteDescriptor& route, CatalogVersion version, absl::string_view start,
                   absl::string_view end, bool reverse, uint64_t limit) {
  SubScan sub;
  sub.route_id = route.route_id;
  sub.raft_group_id = route.raft_group_id;
  sub.catalog_version = version;
  sub.start = std::string(MaxStart(route.start, start));
  sub.end = std::string(MinEnd(route.end, end));
  sub.reverse = reverse;
  sub.limit = limit;
  return sub;
}

}  // namespace

std::string KeySuccessor(absl::string_view key) {
  std::string next(key);
  next.push_back('\0');
  return next;
}

std::vector<SubScan> PlanScan(const RouteTable& table, const ScanSpec& scan, size_t max_sub_scans) {
  std::vector<SubScan> plan;
  std::vector<const RouteDescriptor*> routes = table.RoutesOverlapping(scan.start, scan.end);
  if (scan.reverse) {
    for (auto it = routes.rbegin(); it != routes.rend() && plan.size() < max_sub_scans; ++it) {
      plan.push_back(SubScanFor(**it, table.version(), scan.start, scan.end, true, scan.limit));
    }
  } else {
    for (const RouteDescriptor* route : routes) {
      if (plan.size() >= max_sub_scans) break;
      plan.push_back(SubScanFor(*route, table.version(), scan.start, scan.end, false, scan.limit));
    }
  }
  return plan;
}

ScanCursor::ScanCursor(ScanSpec scan) : scan_(std::move(scan)) {
  resume_ = scan_.reverse ? scan_.end : scan_.start;
  done_ = RangeIsEmpty(scan_.start, scan_.end);
}

std::optional<SubScan> ScanCursor::Next(const RouteTable& table) const {
  if (done_) return std::nullopt;
  const uint64_t limit = scan_.limit == 0 ? 0 : scan_.limit - returned_;
  if (scan_.reverse) {
    const RouteDescriptor* route = table.LookupBefore(resume_);
    if (route == nullptr) return std::nullopt;
    return SubScanFor(*route, table.version(), scan_.start, resume_, true, limit);
  }
  const RouteDescriptor* route = table.Lookup(resume_);
  if (route == nullptr) return std::nullopt;
  return SubScanFor(*route, table.version(), resume_, scan_.end, false, limit);
}

absl::Status ScanCursor::Advance(const SubScan& sub, absl::Span<const std::string> keys,
                                 bool reached_sub_scan_end) {
  EKV_ASSERT(!done_, "ScanCursor::Advance after the scan is done");
  if (sub.reverse != scan_.reverse || (scan_.reverse ? sub.end != resume_ : sub.start != resume_)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sub-scan ", FormatRange(sub.start, sub.end), " does not continue the scan at ",
        scan_.reverse ? "end " : "start ", scan_.reverse ? FormatEnd(resume_) : FormatKey(resume_),
        "; expected the sub-scan from the cursor's latest Next"));
  }
  if (sub.limit != 0 && keys.size() > sub.limit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sub-scan returned ", keys.size(), " keys; expected at most its limit ", sub.limit));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i];
    if (!(absl::string_view(sub.start) <= key && KeyBeforeEnd(key, sub.end))) {
      return absl::InvalidArgumentError(absl::StrCat("sub-scan returned key ", FormatKey(key),
                                                     " outside its range ",
                                                     FormatRange(sub.start, sub.end)));
    }
    if (i > 0 && (scan_.reverse ? !(key < keys[i - 1]) : !(keys[i - 1] < key))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sub-scan returned ", FormatKey(key), " after ", FormatKey(keys[i - 1]),
          "; expected strictly ", scan_.reverse ? "descending" : "ascending", " keys"));
    }
  }

  returned_ += keys.size();
  if (scan_.limit != 0 && returned_ >= scan_.limit) {
    done_ = true;
    return absl::OkStatus();
  }
  if (scan_.reverse) {
    // Remaining: [scan.start, resume_). An empty finite resume point leaves nothing.
    if (!keys.empty()) resume_ = keys.back();
    if (reached_sub_scan_end) resume_ = sub.start;
    done_ = (!keys.empty() || reached_sub_scan_end) && resume_ <= scan_.start;
  } else {
    // Remaining: [resume_, scan.end).
    if (!keys.empty()) resume_ = KeySuccessor(keys.back());
    if (reached_sub_scan_end) {
      if (sub.end.empty()) {
        done_ = true;
        return absl::OkStatus();
      }
      resume_ = sub.end;
    }
    done_ = RangeIsEmpty(resume_, scan_.end);
  }
  return absl::OkStatus();
}

}  // namespace ekv::route
