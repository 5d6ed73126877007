// RouteLoadCounter: how much traffic each route of one group served on this replica, for
// the console's key-space heat map (runtime/console).
//
// Counted where the work happens: writes when a kv command is applied (so every replica
// counts every write the group applies: the same numbers on each), reads when a query is
// served (only on the replica that served it). Counters are cumulative since the replica
// started and are observations, not replicated state: they are in no snapshot or digest,
// and a restarted replica counts from zero again. The reader turns them into rates.
//
// Deterministic (no clocks, ordered containers): keyed by route, looked up by the group's
// own ownership view (route::GroupOwnership), refreshed when that view's version changes.
// A group that checks no ownership counts everything under route 0 = ["", +inf).
//
// Key samples (for the placement policy's load split): every key read or written is
// counted in its route's KeySampler, a "space saving" top-k of RouteKeySampler::kMaxKeySamples keys
// (a key not held replaces the one with the smallest count, inheriting that count + 1), whose
// counts are halved whenever their sum passes RouteKeySampler::kDecayAt, so recent traffic weighs
// more. Bounded, and the same accesses give the same samples in any run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/strings/string_view.h"
#include "core/kv/kv_command.h"
#include "core/node/group_protocol.h"
#include "core/node/route_load.h"
#include "core/route/ownership.h"

namespace ekv::node {

// One route's key samples (see above).
struct RouteKeySampler {
  static constexpr size_t kMaxKeySamples = 32;
  static constexpr uint64_t kDecayAt = 1 << 16;
  absl::btree_map<std::string, uint64_t> counts;  // ordered: deterministic eviction, output
  uint64_t total = 0;
  void Add(absl::string_view key);
};

class RouteLoadCounter {
 public:
  // The keys `command` writes (after its ownership check passed). Commits, rollbacks and
  // lock resolution write no new values (the prewrite counted them), and whole-group
  // maintenance (GC, HLC ceilings, read floors) has no keys: none of them count.
  void RecordCommand(const route::GroupOwnership* ownership, const kv::KvCommand& command);
  // A read served for `key`: each pair of `result` counts as one key read on its own route;
  // without pairs, one read of `key` with the value's size.
  void RecordRead(const route::GroupOwnership* ownership, absl::string_view key,
                  const GroupResult& result);

  // Every route the group owns, in key order, with its counters.
  std::vector<RouteLoad> Loads(const route::GroupOwnership* ownership);
  // The same with each route's key samples, in key order (GroupQueryOp::kRouteLoads).
  std::vector<RouteLoadReport> Reports(const route::GroupOwnership* ownership);

 private:
  struct Entry {
    RouteLoad load;
    RouteKeySampler samples;
  };
  // The route containing `key` (refreshed from `ownership` first); nullptr for a key the
  // group does not own (a scan's pair never is, but stay total).
  Entry* Find(const route::GroupOwnership* ownership, absl::string_view key);
  void Refresh(const route::GroupOwnership* ownership);
  void AddWrite(const route::GroupOwnership* ownership, absl::string_view key, size_t value_bytes);

  bool initialized_ = false;
  route::CatalogVersion version_ = 0;             // of the ownership view the map reflects
  absl::btree_map<std::string, Entry> by_start_;  // ordered: deterministic output
};

}  // namespace ekv::node
