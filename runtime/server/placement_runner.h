// PlacementRunner: the server's driver of core's coord::PlacementDriver
// (core/coord/placement_driver.h), which makes every placement decision -- the same code
// the simulator runs (sim/kv_workload_placement.cc). This class only supplies time and
// threads: a background thread ticks the driver every `tick` with the steady clock and
// whether this node leads the catalog group; the driver's operations run through the
// coordinator (Coordinator::RunAsync) and their answers come back on the node loop
// thread. The driver is single-threaded: both threads reach it only under one mutex
// (recursive: a loop that refuses work answers on the caller's thread, inside Tick).
//
// Every decision and outcome goes to the structured log, one line each ("placement:
// split route 7 at ... : load 3120 qps >= 2500 for 10004 ms -> ok"). Pause/resume
// (Placement.SetPlacement, `ekv-client placement pause|resume`) acts on this node
// only and is not persisted: a restarted node starts as --placement says.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/coord/placement_driver.h"
#include "core/raft/types.h"
#include "runtime/server/coordinator.h"

namespace ekv::runtime {

struct PlacementRunnerOptions {
  coord::PlacementDriverOptions driver;
  std::vector<raft::GroupId> groups;  // every group that takes ranges
  // When set, asked at each round instead of `groups` (groups are created at run time).
  std::function<std::vector<raft::GroupId>()> current_groups;
  raft::GroupId catalog_group = 1;
  std::chrono::milliseconds tick{250};
};

class PlacementRunner {
 public:
  using Log = std::function<void(const std::string& line)>;
  // `coordinator` and `log`'s target must outlive the runner.
  PlacementRunner(PlacementRunnerOptions options, Coordinator* coordinator, Log log);
  ~PlacementRunner();  // stops the thread
  PlacementRunner(const PlacementRunner&) = delete;
  PlacementRunner& operator=(const PlacementRunner&) = delete;

  void Start();
  // Wakes the thread and waits for it; operations in flight are left to the coordinator
  // (their answers are dropped).
  void Stop();
  void SetPaused(bool paused);
  coord::PlacementDriverStatus status() const;
  const PlacementRunnerOptions& options() const { return options_; }

 private:
  void Run();
  void TickOnce();
  void FlushLog();  // under mu_

  PlacementRunnerOptions options_;
  Coordinator* coordinator_;
  Log log_;
  // Set on Stop: answers that come after it find the driver gone and are dropped.
  struct Life {
    std::recursive_mutex mu;
    bool stopped = false;
  };
  std::shared_ptr<Life> life_ = std::make_shared<Life>();
  std::unique_ptr<coord::PlacementDriver> driver_;  // under life_->mu
  std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();

  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // under wake_mu_
  std::thread thread_;
};

}  // namespace ekv::runtime
