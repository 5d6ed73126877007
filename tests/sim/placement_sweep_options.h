// The simulator options both placement-balancing sweeps run: bank with splits and range
// moves, the placement drivers on (the replica and leader checks after the heal).
#ifndef EKV_TESTS_SIM_PLACEMENT_SWEEP_OPTIONS_H_
#define EKV_TESTS_SIM_PLACEMENT_SWEEP_OPTIONS_H_

#include <cstdint>

#include "sim/options.h"

namespace ekv::sim {

inline SimOptions PlacementSweepOptions(uint64_t seed, bool create_groups) {
  SimOptions options;
  options.seed = seed;
  options.workload = WorkloadKind::kBank;
  options.splits = true;
  options.moves = true;
  options.placement = true;
  options.create_groups = create_groups;
  return options;
}

}  // namespace ekv::sim

#endif  // EKV_TESTS_SIM_PLACEMENT_SWEEP_OPTIONS_H_
