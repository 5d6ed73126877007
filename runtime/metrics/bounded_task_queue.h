// BoundedTaskQueue: the worker pool behind the metrics HTTP server (a cpp-httplib
// TaskQueue). httplib's own ThreadPool queues accepted connections without limit; here at
// most `max_queued` wait for one of `threads` workers, and beyond that enqueue blocks the
// accepting thread, so further clients wait in the kernel's listen backlog instead of in
// our memory. Every job is a connection httplib must close, so none may be dropped.
//
// With overflow threads (the DynamoDB port), a connection that finds the queue full is
// handed to one of them instead, up to `max_overflow_queued` waiting: they serve it with
// InOverflowConnection() true, so the server's handlers answer at once with a refusal
// (DynamoDB's ThrottlingException) instead of leaving the client unanswered in the listen
// backlog. Only when the overflow queue is full too does enqueue block.
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
  BoundedTaskQueue(size_t threads, size_t max_queued, size_t overflow_threads = 0,
                   size_t max_overflow_queued = 0);
  ~BoundedTaskQueue() override;

  // Blocks while `max_queued` jobs wait and, with overflow threads, `max_overflow_queued`
  // overflow jobs too (bounded: workers finish each connection within the server's
  // read/write and keep-alive timeouts).
  void enqueue(std::function<void()> fn) override;
  // Runs the jobs already queued, then joins the workers.
  void shutdown() override;

 private:
  void Work(bool overflow);
  bool HasRoom() const;  // mu_ held

  const size_t max_queued_;
  const size_t max_overflow_queued_;
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable overflow_not_empty_;
  std::condition_variable not_full_;
  std::deque<std::function<void()>> jobs_;           // guarded by mu_
  std::deque<std::function<void()>> overflow_jobs_;  // guarded by mu_
  bool shutting_down_ = false;                       // guarded by mu_
  std::vector<std::thread> workers_;
};

// True on an overflow thread of a BoundedTaskQueue: the connection being served arrived
// when every worker was busy and the queue full, and should be refused.
bool InOverflowConnection();

}  // namespace ekv::runtime::metrics
