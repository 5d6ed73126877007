#include "sim/trace.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ekv::sim {

std::string FormatTraceEvent(const TraceEvent& event) {
  std::string line =
      absl::StrFormat("%d.%06d %s n%d %d %d %d", event.time / 1000000, event.time % 1000000,
                      event.kind, event.node, event.a, event.b, event.c);
  if (!event.detail.empty()) absl::StrAppend(&line, " ", event.detail);
  return line;
}

void Trace::Mix(uint64_t value) {
  for (int i = 0; i < 8; ++i) {
    hash_ ^= (value >> (8 * i)) & 0xff;
    hash_ *= 0x100000001b3ULL;
  }
}

void Trace::Mix(std::string_view text) {
  Mix(text.size());
  for (char c : text) {
    hash_ ^= static_cast<uint8_t>(c);
    hash_ *= 0x100000001b3ULL;
  }
}

void Trace::Record(TraceEvent event) {
  ++events_;
  Mix(event.time);
  Mix(std::string_view(event.kind));
  Mix(event.node);
  Mix(event.a);
  Mix(event.b);
  Mix(event.c);
  Mix(event.detail);
  if (sink_) sink_(FormatTraceEvent(event));
  if (tail_capacity_ == 0) return;
  if (tail_.size() < tail_capacity_) {
    tail_.push_back(std::move(event));
    return;
  }
  TraceEvent& slot = tail_[tail_next_];
  slot.time = event.time;
  slot.kind = event.kind;
  slot.node = event.node;
  slot.a = event.a;
  slot.b = event.b;
  slot.c = event.c;
  slot.detail.assign(event.detail);
  tail_next_ = (tail_next_ + 1) % tail_capacity_;
}

std::vector<std::string> Trace::Tail() const {
  std::vector<std::string> lines;
  lines.reserve(tail_.size());
  // Before the ring is full tail_next_ is 0 and the events are in order already.
  for (size_t i = 0; i < tail_.size(); ++i) {
    lines.push_back(FormatTraceEvent(tail_[(tail_next_ + i) % tail_.size()]));
  }
  return lines;
}

}  // namespace ekv::sim
