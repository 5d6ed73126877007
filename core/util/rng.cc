#include "core/util/rng.h"

#include "core/util/assert.h"

namespace ekv {
namespace {
uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(uint64_t seed) {
  for (auto& word : state_) word = SplitMix64(seed);
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = Rotl(state_[3], 45);
  return result;
}

uint64_t Rng::Uniform(uint64_t bound) {
  EKV_ASSERT(bound > 0, "Uniform bound must be positive");
  // Lemire's multiply-shift; the tiny bias is irrelevant for simulation choices.
  return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * bound) >> 64);
}

uint64_t Rng::Range(uint64_t lo, uint64_t hi) {
  EKV_ASSERT(lo <= hi, "Range requires lo <= hi");
  if (hi - lo == UINT64_MAX) return Next();
  return lo + Uniform(hi - lo + 1);
}

double Rng::NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

bool Rng::Chance(double p) { return p > 0 && NextDouble() < p; }

Rng Rng::Fork() { return Rng(Next() ^ 0x5851f42d4c957f2dULL); }

}  // namespace ekv
