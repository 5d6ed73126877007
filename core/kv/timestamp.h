// Hybrid-logical timestamps (REFERENCE.md section 3).
//
// One uint64: the high 48 bits are physical milliseconds since the Unix epoch, the low 16
// bits a logical counter. Integer order is timestamp order, and adding 1 to a timestamp
// whose logical part is 0xffff carries into the next millisecond, which is exactly the
// overflow rule the HLC wants. 48 bits of milliseconds last until the year 10889.
#pragma once

#include <cstdint>
#include <string>

namespace ekv::kv {

using Timestamp = uint64_t;

inline constexpr int kLogicalBits = 16;
inline constexpr uint64_t kMaxLogical = (uint64_t{1} << kLogicalBits) - 1;
inline constexpr uint64_t kMaxPhysicalMs = (uint64_t{1} << (64 - kLogicalBits)) - 1;
inline constexpr Timestamp kMinTimestamp = 0;
inline constexpr Timestamp kMaxTimestamp = UINT64_MAX;

inline constexpr uint64_t PhysicalMs(Timestamp ts) { return ts >> kLogicalBits; }
inline constexpr uint64_t Logical(Timestamp ts) { return ts & kMaxLogical; }
// Requires physical_ms <= kMaxPhysicalMs and logical <= kMaxLogical.
inline constexpr Timestamp MakeTimestamp(uint64_t physical_ms, uint64_t logical) {
  return (physical_ms << kLogicalBits) | logical;
}

// "physical.logical", e.g. "1700000000000.3", for messages and traces.
std::string FormatTimestamp(Timestamp ts);

}  // namespace ekv::kv
