#include "runtime/server/loop_waker.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace ekv::runtime {
namespace {

absl::Status Errno(const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<LoopWaker>> LoopWaker::Create(std::chrono::milliseconds tick) {
  std::unique_ptr<LoopWaker> waker(new LoopWaker());
  waker->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (waker->epoll_fd_ < 0) return Errno("epoll_create1");
  waker->event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (waker->event_fd_ < 0) return Errno("eventfd");
  waker->timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (waker->timer_fd_ < 0) return Errno("timerfd_create");
  itimerspec period{};
  const int64_t tick_ns = std::chrono::nanoseconds(tick).count();
  period.it_interval.tv_sec = tick_ns / 1'000'000'000;
  period.it_interval.tv_nsec = tick_ns % 1'000'000'000;
  period.it_value = period.it_interval;
  if (timerfd_settime(waker->timer_fd_, 0, &period, nullptr) != 0) return Errno("timerfd_settime");
  for (int fd : {waker->event_fd_, waker->timer_fd_}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(waker->epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return Errno("epoll_ctl");
  }
  return waker;
}

LoopWaker::~LoopWaker() {
  for (int fd : {timer_fd_, event_fd_, epoll_fd_}) {
    if (fd >= 0) close(fd);
  }
}

void LoopWaker::Wake() {
  if (signalled_.exchange(true, std::memory_order_acq_rel)) return;  // already pending
  const uint64_t one = 1;
  // EAGAIN (counter saturated) still leaves the eventfd readable: nothing is lost.
  (void)!write(event_fd_, &one, sizeof(one));
}

LoopWaker::Woken LoopWaker::Wait(std::chrono::milliseconds max_wait) {
  Woken woken;
  epoll_event events[2];
  const int n = epoll_wait(epoll_fd_, events, 2, static_cast<int>(max_wait.count()));
  for (int i = 0; i < n; ++i) {
    uint64_t count = 0;
    if (events[i].data.fd == event_fd_) {
      // Drain first, then clear: a Wake between the two sees the flag still set and
      // skips its write, but its input was queued before it and is taken by the caller
      // after Wait returns. Clearing first would let such a write be drained here while
      // the flag stays set, and every later Wake would skip its write: a lost wakeup.
      (void)!read(event_fd_, &count, sizeof(count));
      signalled_.store(false, std::memory_order_release);
      woken.work = true;
    } else if (events[i].data.fd == timer_fd_) {
      (void)!read(timer_fd_, &count, sizeof(count));
      woken.ticks = count;
    }
  }
  return woken;
}

}  // namespace ekv::runtime
