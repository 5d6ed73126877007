// One seeded simulation run: build the cluster, run the chaos phase with the seed's
// faults and workload, heal, require convergence, then judge the history.
//
// Everything random derives from SimOptions::seed through Rng::Fork, and the only clock
// is the scheduler's virtual time, so a seed replays byte for byte (same trace hash).
#pragma once

#include "sim/options.h"

namespace ekv::sim {

SimResult RunSimulation(const SimOptions& options);

}  // namespace ekv::sim
