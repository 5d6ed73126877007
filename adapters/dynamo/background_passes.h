// BackgroundPasses: the DynamoDB server's one background thread. It runs a fixed list of
// bounded passes (TTL sweep, index backfill, table counts, token sweep) one after another
// every `interval`, and checks between two passes whether it should stop: a node stopping
// after its peers has no quorum, so each pass then waits out a request deadline, and Stop
// is kept waiting for at most the pass in progress. A pass's failure (no leader yet, a
// deadline) is its own business: the pass is simply run again next interval.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ekv::dynamo {

class BackgroundPasses {
 public:
  using Pass = std::function<void()>;

  BackgroundPasses(std::vector<Pass> passes, std::chrono::milliseconds interval);
  ~BackgroundPasses();  // Stop()

  // No pass starts after this; returns without waiting for the one in progress.
  void BeginStop();
  // BeginStop, then joins the thread. Idempotent.
  void Stop();

 private:
  void Loop();

  const std::vector<Pass> passes_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;     // last: started once the members above exist
};

}  // namespace ekv::dynamo
