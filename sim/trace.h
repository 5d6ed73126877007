// The simulator's trace: a running hash over every event plus the last lines in a ring.
//
// Events are recorded as small structs and hashed field by field (FNV-1a over a canonical
// encoding), so recording costs no string formatting; text is produced only for the ring
// tail on failure or when a full trace sink is installed (--trace FILE). Two runs of the
// same seed must produce the same hash: any divergence is nondeterminism.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ekv::sim {

using SimTime = uint64_t;  // virtual microseconds since the start of the run

struct TraceEvent {
  SimTime time = 0;
  const char* kind = "";  // a string literal naming the event
  uint64_t node = 0;
  uint64_t a = 0;
  uint64_t b = 0;
  uint64_t c = 0;
  std::string detail;  // optional free text, hashed too
};

std::string FormatTraceEvent(const TraceEvent& event);

class Trace {
 public:
  static constexpr size_t kDefaultTailLines = 200;

  explicit Trace(size_t tail_capacity = kDefaultTailLines) : tail_capacity_(tail_capacity) {}

  void Record(TraceEvent event);
  // Extra detail for a full trace (--trace FILE) only: neither hashed nor kept in the
  // tail, so a run's hash does not depend on whether it is being traced.
  bool annotating() const { return static_cast<bool>(sink_); }
  void Annotate(const std::string& line) {
    if (sink_) sink_(absl::StrCat("    ", line));
  }
  uint64_t hash() const { return hash_; }
  uint64_t events() const { return events_; }
  // The last recorded events as text, oldest first.
  std::vector<std::string> Tail() const;
  // Receives every event's text as it is recorded (e.g. to write --trace FILE).
  void SetSink(std::function<void(const std::string&)> sink) { sink_ = std::move(sink); }

 private:
  void Mix(uint64_t value);
  void Mix(std::string_view text);

  size_t tail_capacity_;
  // A ring: once full, the oldest slot is overwritten in place (its detail string's buffer
  // reused), so recording allocates nothing in the steady state.
  std::vector<TraceEvent> tail_;
  size_t tail_next_ = 0;  // the slot the next event goes to once the ring is full
  uint64_t hash_ = 0xcbf29ce484222325ULL;
  uint64_t events_ = 0;
  std::function<void(const std::string&)> sink_;
};

}  // namespace ekv::sim
