// What the node loop sleeps on: an epoll set of an eventfd (other threads' "there is
// work") and a timerfd (the Raft tick on the monotonic clock).
//
// Wake() is cheap to call often: it writes the eventfd only when the loop has not been
// woken since it last drained it, so a burst of inputs costs one syscall. Ticks never
// pile up: however many timer periods passed while the loop was busy (or the process was
// paused), Wait reports them once, as Raft's tick is "time has passed", not a count.
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
    bool work = false;  // Wake() was called
    bool tick = false;  // at least one tick period elapsed
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
