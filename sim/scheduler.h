// Discrete-event scheduler on virtual time.
//
// Events run in (time, insertion sequence) order, so two events at the same instant run
// in the order they were scheduled: no hash or pointer order can decide anything.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/trace.h"

namespace ekv::sim {

class Scheduler {
 public:
  using Callback = std::function<void()>;

  SimTime now() const { return now_; }
  uint64_t events_run() const { return events_run_; }
  size_t pending() const { return heap_.size(); }

  // Schedules `callback` at absolute `time` (>= now()).
  void At(SimTime time, Callback callback);
  void After(SimTime delay, Callback callback) { At(now_ + delay, std::move(callback)); }

  // Runs the earliest event; false if there is none.
  bool RunNext();
  // Runs every event with time <= `deadline`, then sets now() to `deadline`.
  void RunUntil(SimTime deadline);
  // Runs events until `done()` holds (checked after each event) or `deadline` passes.
  // Returns whether `done()` held.
  bool RunUntil(SimTime deadline, const std::function<bool()>& done);

 private:
  // The heap holds small entries that name a callback slot, so that keeping it ordered moves
  // 24 bytes at a time rather than std::function objects (the heap was ~4% of a kv seed).
  struct Event {
    SimTime time;
    uint64_t sequence;
    uint32_t slot;  // index into callbacks_
  };
  // Min-heap on (time, sequence).
  static bool Later(const Event& a, const Event& b) {
    return a.time != b.time ? a.time > b.time : a.sequence > b.sequence;
  }

  std::vector<Event> heap_;
  std::vector<Callback> callbacks_;  // slots; a run event's slot is reused
  std::vector<uint32_t> free_slots_;
  SimTime now_ = 0;
  uint64_t next_sequence_ = 0;
  uint64_t events_run_ = 0;
};

}  // namespace ekv::sim
