// A few threads for work that may block (retries with backoff, forwarding RPCs), handed
// off by code that must not block: the node loop's reply callbacks on the fast paths.
// Bounded queue: when it is full, Run refuses and the caller answers the client itself.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ekv::runtime {

class FallbackPool {
 public:
  FallbackPool(size_t threads, size_t max_queued);
  ~FallbackPool();  // runs what is queued, then joins
  FallbackPool(const FallbackPool&) = delete;
  FallbackPool& operator=(const FallbackPool&) = delete;

  // False (and `task` not run) when the queue is full or the pool is stopping.
  bool Run(std::function<void()> task);

 private:
  void Work();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ekv::runtime
