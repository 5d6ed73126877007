// BoundedTaskQueue: the worker pool behind the metrics HTTP server (a cpp-httplib
// TaskQueue). httplib's own ThreadPool queues accepted connections without limit; here at
// most `max_queued` wait for one of `threads` workers, and beyond that enqueue blocks the
// accepting thread, so further clients wait in the kernel's listen backlog instead of in
// our memory. Every job is a connection httplib must close, so none may be dropped.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace ekv::runtime::metrics {

class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(size_t threads, size_t max_queued);
  ~BoundedTaskQueue() override;

  // Blocks while `max_queued` jobs wait (bounded: workers finish each connection within
  // the server's read/write and keep-alive timeouts).
  void enqueue(std::function<void()> fn) override;
  // Runs the jobs already queued, then joins the workers.
  void shutdown() override;

 private:
  void Work();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool shutting_down_ = false;              // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace ekv::runtime::metrics
