#include "adapters/dynamo/coordinator_backend.h"

#include <chrono>
#include <future>
#include <memory>

#include "absl/strings/str_cat.h"
#include "runtime/server/coordinator.h"

namespace ekv::dynamo {
namespace {

// Longer than a move's own deadlines (coord::CoordinatorOptions: 30 s to the cut-over, 60 s
// more to finish): the move answers first unless the node stopped.
constexpr std::chrono::seconds kMoveWait{100};

}  // namespace

void CoordinatorBackend::Launch(Start start, Patience patience, Done done) {
  done(Wait(std::move(start), patience));
}

coord::OpResult CoordinatorBackend::Wait(Start start, Patience patience) {
  if (patience == Patience::kRequest) return coordinator_->RunBlocking(std::move(start));
  // A move outlives RunBlocking's request-timeout wait (it has its own deadlines, up to the
  // cut-over and then to finish), so it is awaited here for as long as those allow.
  auto promise = std::make_shared<std::promise<coord::OpResult>>();
  std::future<coord::OpResult> future = promise->get_future();
  coordinator_->RunAsync(std::move(start), [promise](coord::OpResult result) {
    promise->set_value(std::move(result));
  });
  if (future.wait_for(kMoveWait) != std::future_status::ready) {
    coord::OpResult timed_out;
    timed_out.status = absl::DeadlineExceededError(absl::StrCat(
        "moving the route holding a new table's keys did not finish in ", kMoveWait.count(), " s"));
    return timed_out;
  }
  return future.get();
}

}  // namespace ekv::dynamo
