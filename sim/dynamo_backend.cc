#include "sim/dynamo_backend.h"

#include <exception>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "core/util/assert.h"

namespace ekv::sim {

void SimDynamoBackend::Launch(Start start, Patience patience, Done done) {
  client_->Launch(std::move(start), patience, std::move(done));
}

SimDynamoClient::SimDynamoClient(SimCoordinators& coordinators,
                                 dynamo::TableStoreOptions store_options)
    : coordinators_(coordinators), store_(&backend_, std::move(store_options)) {}

SimDynamoClient::~SimDynamoClient() { *alive_ = false; }

void SimDynamoClient::Run(NodeIndex node, Request request, std::function<void()> done) {
  EKV_ASSERT(!busy_, "a simulated dynamo client runs one request at a time");
  busy_ = true;
  node_ = node;
  done_ = std::move(done);
  running_.emplace(request(store_));
  running_->StartInline();
  FinishIfEnded();
}

void SimDynamoClient::Launch(dynamo::CoordinatorOpsBackend::Start start,
                             dynamo::CoordinatorOpsBackend::Patience patience,
                             dynamo::CoordinatorOpsBackend::Done done) {
  ++calls_;
  if (node_ == 0) {
    coord::OpResult none;
    none.status = absl::UnavailableError("no node is up to serve the request");
    done(std::move(none));  // answered at once: the request goes on without suspending
    return;
  }
  const SimTime patience_us = patience == dynamo::CoordinatorOpsBackend::Patience::kMove
                                  ? coordinators_.move_budget_us()
                                  : 0;
  coordinators_.Run(
      node_, std::move(start),
      [this, alive = alive_, done = std::move(done)](std::optional<coord::OpResult> result) {
        if (!*alive) return;
        if (result.has_value()) {
          done(std::move(*result));
        } else {
          coord::OpResult unheard;
          unheard.status = absl::UnavailableError(
              "no answer from the node in the client's patience: outcome unknown");
          done(std::move(unheard));
        }
        // `done` resumed the request if it was suspended on this call; it ran until its
        // next call or its end. (Answered inline, inside the request, it is not done.)
        FinishIfEnded();
      },
      patience_us);
}

void SimDynamoClient::FinishIfEnded() {
  if (!busy_ || !running_.has_value() || !running_->done()) return;
  std::string error;
  try {
    (void)running_->TakeResult();
  } catch (const std::exception& e) {
    // An invariant that fired in the adapter (the simulator's assert hook throws), or
    // any other exception: it ends the run like any assert.
    error = e.what();
  }
  running_.reset();
  EKV_ASSERT(error.empty(), "dynamo front door: ", error);
  busy_ = false;
  std::function<void()> done = std::move(done_);
  done_ = nullptr;
  done();
}

}  // namespace ekv::sim
