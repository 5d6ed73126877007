// GcScheduler: the server's background MVCC garbage collector.
//
// Every `interval` it picks safe_point = HLC(wall clock - retention_ms) and, for each
// group this node leads, proposes GcCommand passes (core/kv/kv_command.h) of at most
// `max_keys_per_pass` keys through the coordinator's leader path, resuming from each
// pass's resume key until a pass reports the end of the key space. Every replica applies
// the same passes at the same log positions, so GC is deterministic; the group's safe
// point only moves up.
//
// After a group's GC passes, the same round runs that group's Redis cleanup passes
// (core/redis/cleanup.h: elements of deleted/overwritten collections and expired
// collections), when a cleanup callback is set, the same way: from the start of the Redis
// namespace, resuming from each pass's resume key until one reports the end; a failed
// pass ends that group's cleanup for the round. They need no safe point: they remove only
// what no read can see, decided by the group's replicated time.
//
// Consequence for clients: reads and transactions with a timestamp older than the
// retention window fail with FailedPrecondition ("... below the GC safe point ...").
// The retention must therefore exceed the longest transaction and the oldest snapshot
// read clients need.
//
// Only groups this node believes it leads are collected, so a cluster does one round per
// group, not one per node; a stale belief at worst repeats a pass, which is harmless.
// A pass whose outcome is unknown (leader change, deadline) ends that group's round; the
// next round starts over from the first key. Stop() wakes the thread at once (condition
// variable) and waits at most for the pass in flight.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "core/raft/types.h"

namespace ekv::runtime {

struct GcSchedulerOptions {
  std::vector<raft::GroupId> groups;
  // When set, asked at each round instead of `groups` (groups are created at run time).
  std::function<std::vector<raft::GroupId>()> current_groups;
  std::chrono::milliseconds interval{60'000};
  // Versions a read at (now - retention_ms) or later can see are kept.
  uint64_t retention_ms = 600'000;
  // Keys per GcCommand, bounding one Raft entry's apply work (kv::kMaxGcKeysPerPass).
  uint64_t max_keys_per_pass = 1000;
  // Bound on passes per group per round: with passes of max_keys_per_pass keys this is
  // 1e9 keys, so it only stops a pass that never reports done from looping forever.
  uint64_t max_passes_per_round = 1'000'000;
  // Records per Redis cleanup pass (<= redis_core::kMaxCleanupRecordsPerPass).
  uint64_t cleanup_records_per_pass = 1000;
};

// What one pass reported.
struct GcPassOutcome {
  uint64_t safe_point = 0;                // the safe point the pass ran at
  std::optional<std::string> resume_key;  // nullopt: the pass reached the end
};

// Counters, monotonic since construction.
struct GcSchedulerStats {
  uint64_t rounds = 0;
  uint64_t passes = 0;
  uint64_t failed_passes = 0;
  uint64_t groups_completed = 0;   // group rounds that reached the end of the key space
  uint64_t cleanup_passes = 0;     // Redis cleanup passes that succeeded
  uint64_t cleanup_completed = 0;  // group cleanups that reached the end of the records
};

class GcScheduler {
 public:
  // Proposes one pass on `group` through its leader and waits for the outcome.
  using RunPass = std::function<absl::StatusOr<GcPassOutcome>(
      raft::GroupId group, uint64_t safe_point, const std::string& start_key, uint64_t max_keys)>;
  using LeadsGroup = std::function<bool(raft::GroupId group)>;
  using WallClockMs = std::function<uint64_t()>;
  using Log = std::function<void(const std::string& line)>;
  // Proposes one Redis cleanup pass on `group`; answers where the next one starts
  // (nullopt: the end of the group's Redis records).
  using RunCleanupPass = std::function<absl::StatusOr<std::optional<std::string>>(
      raft::GroupId group, const std::string& start_key, uint64_t max_records)>;

  GcScheduler(GcSchedulerOptions options, RunPass run_pass, LeadsGroup leads_group,
              WallClockMs wall_clock_ms, Log log);
  ~GcScheduler();  // stops the thread

  GcScheduler(const GcScheduler&) = delete;
  GcScheduler& operator=(const GcScheduler&) = delete;

  // Before Start(): also run Redis cleanup passes each round.
  void SetCleanupPass(RunCleanupPass run_cleanup) { run_cleanup_ = std::move(run_cleanup); }
  // Starts the background thread; its first round runs one interval from now.
  void Start();
  // Wakes and joins the thread; idempotent.
  void Stop();
  // One round over every led group, on the calling thread (tests and the thread).
  void RunRound();

  GcSchedulerStats stats() const;

 private:
  void Run();
  void RunCleanup(raft::GroupId group);
  bool stopping() const { return stop_.load(std::memory_order_relaxed); }

  const GcSchedulerOptions options_;
  const RunPass run_pass_;
  const LeadsGroup leads_group_;
  const WallClockMs wall_clock_ms_;
  const Log log_;
  RunCleanupPass run_cleanup_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> stop_{false};
  std::thread thread_;

  std::atomic<uint64_t> rounds_{0};
  std::atomic<uint64_t> passes_{0};
  std::atomic<uint64_t> failed_passes_{0};
  std::atomic<uint64_t> groups_completed_{0};
  std::atomic<uint64_t> cleanup_passes_{0};
  std::atomic<uint64_t> cleanup_completed_{0};
};

}  // namespace ekv::runtime
