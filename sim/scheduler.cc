#include "sim/scheduler.h"

#include <algorithm>

#include "core/util/assert.h"

namespace ekv::sim {

void Scheduler::At(SimTime time, Callback callback) {
  EKV_ASSERT(time >= now_, "scheduling into the past: ", time, " < now ", now_);
  uint32_t slot;
  if (free_slots_.empty()) {
    EKV_ASSERT(callbacks_.size() < UINT32_MAX, "too many pending events");
    slot = static_cast<uint32_t>(callbacks_.size());
    callbacks_.push_back(std::move(callback));
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    callbacks_[slot] = std::move(callback);
  }
  heap_.push_back(Event{time, next_sequence_++, slot});
  std::push_heap(heap_.begin(), heap_.end(), Later);
}

bool Scheduler::RunNext() {
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), Later);
  const Event event = heap_.back();
  heap_.pop_back();
  // Moved out before it runs: the callback may schedule events, which may reuse its slot
  // or grow callbacks_.
  Callback callback = std::move(callbacks_[event.slot]);
  callbacks_[event.slot] = nullptr;
  free_slots_.push_back(event.slot);
  now_ = event.time;
  ++events_run_;
  callback();
  return true;
}

void Scheduler::RunUntil(SimTime deadline) {
  while (!heap_.empty() && heap_.front().time <= deadline) RunNext();
  if (deadline > now_) now_ = deadline;
}

bool Scheduler::RunUntil(SimTime deadline, const std::function<bool()>& done) {
  while (!done()) {
    if (heap_.empty() || heap_.front().time > deadline) {
      if (deadline > now_) now_ = deadline;
      return done();
    }
    RunNext();
  }
  return true;
}

}  // namespace ekv::sim
