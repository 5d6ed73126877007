#include "runtime/metrics/bounded_task_queue.h"

#include <algorithm>
#include <utility>

namespace ekv::runtime::metrics {

namespace {
thread_local bool in_overflow_connection = false;
}  // namespace

bool InOverflowConnection() { return in_overflow_connection; }

BoundedTaskQueue::BoundedTaskQueue(size_t threads, size_t max_queued, size_t overflow_threads,
                                   size_t max_overflow_queued)
    : max_queued_(std::max<size_t>(1, max_queued)),
      max_overflow_queued_(overflow_threads == 0 ? 0 : std::max<size_t>(1, max_overflow_queued)) {
  for (size_t i = 0; i < std::max<size_t>(1, threads); ++i)
    workers_.emplace_back([this] { Work(/*overflow=*/false); });
  for (size_t i = 0; i < overflow_threads; ++i)
    workers_.emplace_back([this] { Work(/*overflow=*/true); });
}

bool BoundedTaskQueue::HasRoom() const {
  return jobs_.size() < max_queued_ || overflow_jobs_.size() < max_overflow_queued_;
}

BoundedTaskQueue::~BoundedTaskQueue() { shutdown(); }

void BoundedTaskQueue::enqueue(std::function<void()> fn) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [this] { return HasRoom() || shutting_down_; });
    // After shutdown no worker may be left to run it: run it here so its socket is closed.
    if (!shutting_down_) {
      const bool overflow = jobs_.size() >= max_queued_;
      (overflow ? overflow_jobs_ : jobs_).push_back(std::move(fn));
      lock.unlock();
      (overflow ? overflow_not_empty_ : not_empty_).notify_one();
      return;
    }
  }
  fn();
}

void BoundedTaskQueue::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_ && workers_.empty()) return;
    shutting_down_ = true;
  }
  not_empty_.notify_all();
  overflow_not_empty_.notify_all();
  not_full_.notify_all();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

void BoundedTaskQueue::Work(bool overflow) {
  in_overflow_connection = overflow;
  std::deque<std::function<void()>>& jobs = overflow ? overflow_jobs_ : jobs_;
  std::condition_variable& not_empty = overflow ? overflow_not_empty_ : not_empty_;
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      not_empty.wait(lock, [&] { return !jobs.empty() || shutting_down_; });
      if (jobs.empty()) return;  // shutting down with nothing left
      job = std::move(jobs.front());
      jobs.pop_front();
    }
    not_full_.notify_one();
    // httplib's connection handler; exceptions from our handlers are caught inside it (the
    // server's exception handler), but nothing may escape a thread.
    try {
      job();
    } catch (...) {
    }
  }
}

}  // namespace ekv::runtime::metrics
