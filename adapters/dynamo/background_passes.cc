#include "adapters/dynamo/background_passes.h"

#include <utility>

namespace ekv::dynamo {

BackgroundPasses::BackgroundPasses(std::vector<Pass> passes, std::chrono::milliseconds interval)
    : passes_(std::move(passes)), interval_(interval), thread_([this] { Loop(); }) {}

BackgroundPasses::~BackgroundPasses() { Stop(); }

void BackgroundPasses::BeginStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

void BackgroundPasses::Stop() {
  BeginStop();
  if (thread_.joinable()) thread_.join();
}

void BackgroundPasses::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
    for (const Pass& pass : passes_) {
      lock.unlock();
      pass();
      lock.lock();
      if (stopping_) return;
    }
  }
}

}  // namespace ekv::dynamo
