#include "runtime/server/gc_scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/kv/timestamp.h"

namespace ekv::runtime {

GcScheduler::GcScheduler(GcSchedulerOptions options, RunPass run_pass, LeadsGroup leads_group,
                         WallClockMs wall_clock_ms, Log log)
    : options_(std::move(options)),
      run_pass_(std::move(run_pass)),
      leads_group_(std::move(leads_group)),
      wall_clock_ms_(std::move(wall_clock_ms)),
      log_(std::move(log)) {}

GcScheduler::~GcScheduler() { Stop(); }

void GcScheduler::Start() {
  if (thread_.joinable()) return;
  stop_.store(false);
  thread_ = std::thread([this] { Run(); });
}

void GcScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void GcScheduler::Run() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (wake_.wait_for(lock, options_.interval, [this] { return stopping(); })) return;
    }
    RunRound();
  }
}

void GcScheduler::RunRound() {
  rounds_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t now_ms = wall_clock_ms_();
  // Nothing is old enough for MVCC GC yet; the Redis cleanup needs no safe point.
  const bool collect = now_ms > options_.retention_ms;
  const uint64_t safe_ms =
      collect ? std::min(now_ms - options_.retention_ms, kv::kMaxPhysicalMs) : 0;
  const uint64_t safe_point = kv::MakeTimestamp(safe_ms, 0);
  const std::vector<raft::GroupId> groups =
      options_.current_groups ? options_.current_groups() : options_.groups;
  for (raft::GroupId group : groups) {
    if (stopping()) return;
    if (!leads_group_(group)) continue;
    std::string start_key;
    for (uint64_t pass = 0; collect && pass < options_.max_passes_per_round; ++pass) {
      if (stopping()) return;
      absl::StatusOr<GcPassOutcome> outcome =
          run_pass_(group, safe_point, start_key, options_.max_keys_per_pass);
      passes_.fetch_add(1, std::memory_order_relaxed);
      if (!outcome.ok()) {
        failed_passes_.fetch_add(1, std::memory_order_relaxed);
        if (log_) {
          log_(absl::StrCat("gc: group ", group, " pass from key '", absl::CEscape(start_key),
                            "' failed; the next round starts over: ", outcome.status().ToString()));
        }
        break;
      }
      if (!outcome->resume_key.has_value()) {
        groups_completed_.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      if (*outcome->resume_key <= start_key) {
        // Passes must make progress; a resume key that does not would loop forever.
        failed_passes_.fetch_add(1, std::memory_order_relaxed);
        if (log_) log_(absl::StrCat("gc: group ", group, " pass made no progress"));
        break;
      }
      start_key = *std::move(outcome->resume_key);
    }
    if (run_cleanup_) RunCleanup(group);
  }
}

void GcScheduler::RunCleanup(raft::GroupId group) {
  std::string start_key;
  for (uint64_t pass = 0; pass < options_.max_passes_per_round; ++pass) {
    if (stopping()) return;
    absl::StatusOr<std::optional<std::string>> resume =
        run_cleanup_(group, start_key, options_.cleanup_records_per_pass);
    if (!resume.ok()) {
      if (log_) {
        log_(absl::StrCat("redis cleanup: group ", group, " pass from key '",
                          absl::CEscape(start_key),
                          "' failed; the next round starts over: ", resume.status().ToString()));
      }
      return;
    }
    cleanup_passes_.fetch_add(1, std::memory_order_relaxed);
    if (!resume->has_value()) {
      cleanup_completed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (**resume <= start_key) {
      if (log_) log_(absl::StrCat("redis cleanup: group ", group, " pass made no progress"));
      return;
    }
    start_key = **std::move(resume);
  }
}

GcSchedulerStats GcScheduler::stats() const {
  GcSchedulerStats stats;
  stats.rounds = rounds_.load(std::memory_order_relaxed);
  stats.passes = passes_.load(std::memory_order_relaxed);
  stats.failed_passes = failed_passes_.load(std::memory_order_relaxed);
  stats.groups_completed = groups_completed_.load(std::memory_order_relaxed);
  stats.cleanup_passes = cleanup_passes_.load(std::memory_order_relaxed);
  stats.cleanup_completed = cleanup_completed_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace ekv::runtime
