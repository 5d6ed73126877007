// What the node loop sleeps on: an epoll set of an eventfd (other threads' "there is
// work") and a timerfd (the Raft tick on the monotonic clock).
//
// Wake() is cheap to call often: it writes the eventfd only when the loop has not been
// woken since it last drained it, so a burst of inputs costs one syscall. Ticks are
// counted, never dropped: Wait reports every timer period that passed, also while the
// loop was busy or the process was stopped (SIGSTOP, a VM pause). Raft's leases are
// measured in ticks, so a leader that was stopped must see that time before it serves
// anything (NodeLoop ticks before it handles inputs).
#pragma once

#include <atomic>
#include <chrono>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ekv::runtime {

class LoopWaker {
 public:
  static absl::StatusOr<std::unique_ptr<LoopWaker>> Create(std::chrono::milliseconds tick);
  ~LoopWaker();
  LoopWaker(const LoopWaker&) = delete;
  LoopWaker& operator=(const LoopWaker&) = delete;

  // Any thread.
  void Wake();

  struct Woken {
    bool work = false;   // Wake() was called
    uint64_t ticks = 0;  // tick periods elapsed since the last Wait
  };
  // Loop thread: blocks until woken or a tick is due (or `max_wait` passes).
  Woken Wait(std::chrono::milliseconds max_wait);

 private:
  LoopWaker() = default;
  int epoll_fd_ = -1;
  int event_fd_ = -1;
  int timer_fd_ = -1;
  std::atomic<bool> signalled_{false};
};

}  // namespace ekv::runtime
