// Splitting a user scan into per-route sub-scans, and a cursor that survives splits.
//
// A scan [start, end) (end empty = +inf), forward or reverse, with an optional limit,
// touches the routes it overlaps in key order (reverse: descending). PlanScan answers
// the sub-scans for one table version. ScanCursor is what a coordinator actually runs:
// it issues one sub-scan at a time, always resolved with the newest table it is handed,
// and resumes strictly after the last key returned. So when a route splits or moves in
// the middle of a scan, the next sub-scan simply targets the new route(s) from the
// resume point: every key in range is returned exactly once, in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/route/route.h"
#include "core/route/route_table.h"

namespace ekv::route {

// A plan never lists more than this many sub-scans; a scan over more routes continues
// through a ScanCursor.
inline constexpr size_t kMaxSubScansPerPlan = 1024;

struct ScanSpec {
  std::string start;     // inclusive
  std::string end;       // exclusive; empty = +inf
  bool reverse = false;  // descending key order
  uint64_t limit = 0;    // 0 = unlimited
};

// One request to one group: the part of the scan inside one route.
struct SubScan {
  RouteId route_id = 0;
  GroupId raft_group_id = 0;
  CatalogVersion catalog_version = 0;  // the table version it was resolved with
  std::string start;                   // inclusive
  std::string end;                     // exclusive; empty = +inf
  bool reverse = false;
  uint64_t limit = 0;  // 0 = unlimited

  friend bool operator==(const SubScan&, const SubScan&) = default;
};

// The sub-scans of `scan` under `table`, in scan order, at most `max_sub_scans`.
// Each carries the scan's whole limit (how the keys spread over routes is unknown).
std::vector<SubScan> PlanScan(const RouteTable& table, const ScanSpec& scan,
                              size_t max_sub_scans = kMaxSubScansPerPlan);

// The smallest key greater than `key` (key + '\0').
std::string KeySuccessor(absl::string_view key);

class ScanCursor {
 public:
  explicit ScanCursor(ScanSpec scan);

  bool done() const { return done_; }
  uint64_t returned() const { return returned_; }
  const ScanSpec& scan() const { return scan_; }

  // The next sub-scan, resolved with `table` (pass the newest one: after a stale-route
  // refusal, refresh the table and call again; the cursor has not moved). nullopt when
  // done or the table is empty.
  std::optional<SubScan> Next(const RouteTable& table) const;

  // Records what `sub` (from Next) returned: its keys in scan order, and whether the
  // group reached the end of the sub-scan's range (true) or stopped early, e.g. at a page
  // size (false). InvalidArgument if the keys are out of order or outside the sub-scan,
  // FailedPrecondition if `sub` is not the cursor's current sub-scan; the cursor is then
  // unchanged.
  absl::Status Advance(const SubScan& sub, absl::Span<const std::string> keys,
                       bool reached_sub_scan_end);

 private:
  ScanSpec scan_;
  // Remaining range: forward [resume_, scan_.end), reverse [scan_.start, resume_); in
  // reverse, resume_ empty means +inf only before the first Advance (later an empty
  // resume point means done).
  std::string resume_;
  uint64_t returned_ = 0;
  bool done_ = false;
};

}  // namespace ekv::route
