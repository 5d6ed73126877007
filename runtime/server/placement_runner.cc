#include "runtime/server/placement_runner.h"

#include <utility>

namespace ekv::runtime {

PlacementRunner::PlacementRunner(PlacementRunnerOptions options, Coordinator* coordinator, Log log)
    : options_(std::move(options)), coordinator_(coordinator), log_(std::move(log)) {
  std::weak_ptr<Life> life = life_;
  driver_ = std::make_unique<coord::PlacementDriver>(
      options_.driver,
      [this, life](coord::PlacementDriver::StartFn start, coord::PlacementDriver::DoneFn done) {
        coordinator_->RunAsync(std::move(start),
                               [this, life, done = std::move(done)](coord::OpResult result) {
                                 std::shared_ptr<Life> alive = life.lock();
                                 if (alive == nullptr) return;
                                 std::lock_guard<std::recursive_mutex> lock(alive->mu);
                                 if (alive->stopped) return;
                                 done(std::move(result));
                                 FlushLog();
                               });
      });
}

PlacementRunner::~PlacementRunner() { Stop(); }

void PlacementRunner::Start() {
  thread_ = std::thread([this] { Run(); });
}

void PlacementRunner::Stop() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::recursive_mutex> lock(life_->mu);
  life_->stopped = true;
}

void PlacementRunner::Run() {
  std::unique_lock<std::mutex> lock(wake_mu_);
  while (!stopping_) {
    lock.unlock();
    TickOnce();
    lock.lock();
    wake_.wait_for(lock, options_.tick, [this] { return stopping_; });
  }
}

void PlacementRunner::TickOnce() {
  const uint64_t now_us =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - epoch_)
                                .count());
  const bool leads = coordinator_->LeadsGroup(options_.catalog_group);
  std::lock_guard<std::recursive_mutex> lock(life_->mu);
  if (life_->stopped) return;
  driver_->Tick(now_us, leads,
                options_.current_groups ? options_.current_groups() : options_.groups);
  FlushLog();
}

void PlacementRunner::FlushLog() {
  for (const std::string& line : driver_->TakeLog()) log_(line);
}

void PlacementRunner::SetPaused(bool paused) {
  std::lock_guard<std::recursive_mutex> lock(life_->mu);
  driver_->SetPaused(paused);
  FlushLog();
}

coord::PlacementDriverStatus PlacementRunner::status() const {
  std::lock_guard<std::recursive_mutex> lock(life_->mu);
  return driver_->status();
}

}  // namespace ekv::runtime
