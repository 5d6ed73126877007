// LoadHistory: this node's per-route traffic over a bounded window, for the console's
// key-space heat map.
//
// The counters come from the core (core/node/route_load_counter.h): cumulative per route,
// writes counted by every replica that applies them, reads by the replica that served
// them, published with each group's status after every node-loop round. A sampler thread
// (LoadSampler) reads that published copy every `resolution` and records the differences
// since its previous sample as one frame; the last `max_frames` frames are kept (default
// 60 x 10 s = 10 minutes). Nothing here touches the node loop's own state.
//
// ToJson() is what this node serves at /api/node (on its metrics and console endpoints),
// and what other nodes' consoles merge (heat_map.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/node/node_host.h"
#include "core/raft/types.h"
#include "nlohmann/json.hpp"

namespace ekv::runtime::console {

// One route's traffic during one frame (counts, not rates).
struct RouteDelta {
  raft::GroupId group = 0;
  uint64_t route_id = 0;
  std::string start;
  std::string end;  // empty = +inf
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
};

struct LoadFrame {
  uint64_t end_ms = 0;             // wall clock (ms since the epoch) when the frame was sampled
  uint64_t duration_ms = 0;        // since the previous sample
  std::vector<RouteDelta> routes;  // by group, then key order
};

struct LoadHistoryOptions {
  std::chrono::milliseconds resolution{10000};
  size_t max_frames = 60;
};

class LoadHistory {
 public:
  explicit LoadHistory(LoadHistoryOptions options = {}) : options_(options) {}

  // Records the counters in `statuses` at wall-clock `now_ms`: the first call only sets
  // the baseline; later calls add a frame of the differences. A counter that went down
  // (the node restarted, a route was re-created) counts from zero. Thread-safe.
  void Record(uint64_t now_ms, const std::map<raft::GroupId, node::GroupStatus>& statuses);

  std::vector<LoadFrame> Frames() const;  // oldest first
  const LoadHistoryOptions& options() const { return options_; }

  // {"resolution_ms": N, "frames": [{"end_ms", "duration_ms", "routes": [{"group",
  // "route_id", "start", "end", "reads", "writes", "read_bytes", "write_bytes"}]}]}, keys
  // as base64-free display strings (DisplayKey).
  nlohmann::json ToJson() const;

 private:
  using RouteKey = std::tuple<raft::GroupId, uint64_t>;  // group, route id
  const LoadHistoryOptions options_;
  mutable std::mutex mu_;
  bool has_baseline_ = false;                 // guarded by mu_
  uint64_t last_ms_ = 0;                      // guarded by mu_
  std::map<RouteKey, node::RouteLoad> last_;  // guarded by mu_
  std::deque<LoadFrame> frames_;              // guarded by mu_; at most max_frames
};

// A key as the console shows it: printable ASCII as is, other bytes as \xNN, and a
// backslash as \\ (so the display is unambiguous).
std::string DisplayKey(const std::string& key);

// Runs LoadHistory::Record every `resolution` on a thread of its own ("ekv-load"), with
// the wall clock and `statuses()` (NodeLoop::GroupStatuses: the copy the loop publishes).
class LoadSampler {
 public:
  using Statuses = std::function<std::map<raft::GroupId, node::GroupStatus>()>;
  LoadSampler(LoadHistory* history, Statuses statuses);
  ~LoadSampler();  // Stop()
  void Start();
  void Stop();  // idempotent; returns at once (waits on a condition variable)

 private:
  void Run();
  LoadHistory* history_;
  Statuses statuses_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace ekv::runtime::console
