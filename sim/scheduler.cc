#include "sim/scheduler.h"

#include <algorithm>

#include "core/util/assert.h"

namespace ekv::sim {

void Scheduler::At(SimTime time, Callback callback) {
  EKV_ASSERT(time >= now_, "scheduling into the past: ", time, " < now ", now_);
  heap_.push_back(Event{time, next_sequence_++, std::move(callback)});
  std::push_heap(heap_.begin(), heap_.end(), Later);
}

bool Scheduler::RunNext() {
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), Later);
  Event event = std::move(heap_.back());
  heap_.pop_back();
  now_ = event.time;
  ++events_run_;
  event.callback();
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
