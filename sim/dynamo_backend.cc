#include "sim/dynamo_backend.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::sim {

coord::OpResult SimDynamoBackend::Run(Start start, Patience patience) {
  return client_->Call(std::move(start), patience);
}

SimDynamoClient::SimDynamoClient(SimCoordinators& coordinators,
                                 dynamo::TableStoreOptions store_options)
    : coordinators_(coordinators),
      store_(&backend_, std::move(store_options)),
      thread_([this] { ThreadBody(); }) {}

SimDynamoClient::~SimDynamoClient() {
  std::unique_lock<std::mutex> lock(mu_);
  stopping_ = true;
  // A request still running is blocked in a backend call (Drive sent it): it hears
  // Cancelled, every later call of it returns Cancelled at once, and it runs to its end.
  while (busy_ && !finished_) {
    coord::OpResult cancelled;
    cancelled.status = absl::CancelledError("the simulation ended");
    answer_ = std::move(cancelled);
    turn_ = Turn::kClient;
    cv_.notify_all();
    cv_.wait(lock, [this] { return turn_ == Turn::kSim; });
  }
  // The thread, back at the top of its loop, sees stopping_ with no request and exits.
  turn_ = Turn::kClient;
  cv_.notify_all();
  lock.unlock();
  thread_.join();
}

void SimDynamoClient::ThreadBody() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return turn_ == Turn::kClient; });
    if (!request_) {
      if (stopping_) return;
      // A baton with nothing to run (the destructor's round): hand it straight back.
      turn_ = Turn::kSim;
      cv_.notify_all();
      continue;
    }
    Request request = std::move(request_);
    request_ = nullptr;
    lock.unlock();
    std::string error;
    try {
      request(store_);
    } catch (const std::exception& e) {
      // An invariant that fired in the adapter (the simulator's assert hook throws), or
      // any other exception: the sim thread turns it into the run's verdict.
      error = e.what();
    }
    lock.lock();
    error_ = std::move(error);
    finished_ = true;
    turn_ = Turn::kSim;
    cv_.notify_all();
  }
}

coord::OpResult SimDynamoClient::Call(dynamo::CoordinatorOpsBackend::Start start,
                                      dynamo::CoordinatorOpsBackend::Patience patience) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) {
    coord::OpResult cancelled;
    cancelled.status = absl::CancelledError("the simulation ended");
    return cancelled;
  }
  pending_ = PendingCall{std::move(start), patience};
  turn_ = Turn::kSim;
  cv_.notify_all();
  cv_.wait(lock, [this] { return turn_ == Turn::kClient; });
  EKV_ASSERT(answer_.has_value(), "a dynamo client resumed without its call's answer");
  coord::OpResult answer = std::move(*answer_);
  answer_.reset();
  return answer;
}

void SimDynamoClient::HandOver() {
  std::unique_lock<std::mutex> lock(mu_);
  turn_ = Turn::kClient;
  cv_.notify_all();
  cv_.wait(lock, [this] { return turn_ == Turn::kSim; });
}

void SimDynamoClient::Run(NodeIndex node, Request request, std::function<void()> done) {
  EKV_ASSERT(!busy_, "a simulated dynamo client runs one request at a time");
  busy_ = true;
  node_ = node;
  done_ = std::move(done);
  {
    std::unique_lock<std::mutex> lock(mu_);
    request_ = std::move(request);
    finished_ = false;
  }
  Drive();
}

void SimDynamoClient::Drive() {
  for (;;) {
    HandOver();
    std::optional<PendingCall> call;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (finished_) {
        finished_ = false;
        EKV_ASSERT(error_.empty(), "dynamo front door: ", error_);
        break;
      }
      EKV_ASSERT(pending_.has_value(), "a dynamo client yielded without a call or an end");
      call = std::move(pending_);
      pending_.reset();
    }
    ++calls_;
    if (node_ == 0) {
      std::unique_lock<std::mutex> lock(mu_);
      coord::OpResult none;
      none.status = absl::UnavailableError("no node is up to serve the request");
      answer_ = std::move(none);
      continue;
    }
    const SimTime patience_us = call->patience == dynamo::CoordinatorOpsBackend::Patience::kMove
                                    ? coordinators_.move_budget_us()
                                    : 0;
    coordinators_.Run(
        node_, std::move(call->start),
        [this](std::optional<coord::OpResult> result) {
          {
            std::unique_lock<std::mutex> lock(mu_);
            if (result.has_value()) {
              answer_ = std::move(*result);
            } else {
              coord::OpResult unheard;
              unheard.status = absl::UnavailableError(
                  "no answer from the node in the client's patience: outcome unknown");
              answer_ = std::move(unheard);
            }
          }
          Drive();
        },
        patience_us);
    return;
  }
  busy_ = false;
  std::function<void()> done = std::move(done_);
  done_ = nullptr;
  done();
}

}  // namespace ekv::sim
