// Deterministic pseudo-random numbers for core/ and sim/.
//
// core/ never seeds itself: every Rng is constructed from a seed handed in by the driver
// (the simulator derives it from its root seed, the runtime from the OS once at startup).
#pragma once

#include <cstdint>

namespace ekv {

// SplitMix64-seeded xoshiro256** generator: small state, fast, and the same sequence on
// every platform, so a simulator seed reproduces byte for byte.
class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t Next();
  // Uniform in [0, bound); bound must be > 0.
  uint64_t Uniform(uint64_t bound);
  // Uniform in [lo, hi]; requires lo <= hi.
  uint64_t Range(uint64_t lo, uint64_t hi);
  // True with probability `p` (0..1).
  bool Chance(double p);
  double NextDouble();  // [0, 1)
  // A child generator whose sequence is independent of further draws from this one.
  Rng Fork();

 private:
  uint64_t state_[4];
};

}  // namespace ekv
