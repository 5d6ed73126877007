// Swarm testing: every seed draws its own knobs and fault intensities.
//
// Each enabled fault class gets a probability drawn per seed (possibly near zero), so a
// sweep visits runs dominated by one fault as well as runs mixing all of them (Groce et
// al., "Swarm Testing", 2012; TigerBeetle's VOPR does the same). BUGGIFY-style knobs force
// rare paths on in some seeds: tiny messages, frequent snapshots, one-message windows.
#pragma once

#include <cstdint>
#include <string>

#include "core/util/rng.h"
#include "sim/network.h"
#include "sim/options.h"
#include "sim/trace.h"

namespace ekv::sim {

struct SwarmProfile {
  // Time.
  SimTime tick_us = 10000;
  double clock_skew_bound = 0;  // each node's tick period is within +-this fraction
  SimTime chaos_duration_us = 5'000'000;
  SimTime heal_timeout_us = 30'000'000;

  // Raft and node knobs.
  int election_tick = 10;
  int heartbeat_tick = 1;
  bool pre_vote = true;
  uint64_t max_size_per_msg = 1 << 20;
  int max_inflight_msgs = 256;
  uint64_t snapshot_interval_entries = 1000;
  uint64_t compaction_lag_entries = 100;

  // Network and disk.
  LinkProfile link;
  SimTime fsync_min_us = 100;
  SimTime fsync_max_us = 2000;
  double torn_write_probability = 0;   // per crash
  double write_error_probability = 0;  // per record append
  bool corrupt_one_disk = false;

  // Fault injection: one fault decision every `fault_interval_us` on average.
  SimTime fault_interval_us = 300000;
  // Storms and calms (as Jepsen's nemesis schedules): faults are injected for `storm_us`,
  // then for `calm_us` every fault is repaired and none is injected, so the load makes
  // progress and a seed's history gets deep enough to judge. 0: faults never pause.
  SimTime storm_us = 0;
  SimTime calm_us = 0;
  double p_partition = 0;
  double p_crash = 0;
  double p_pause = 0;
  double p_clock = 0;
  double p_clog = 0;
  double p_transfer_leader = 0;
  double p_membership = 0;  // a membership change step (FaultSet::membership)
  // Targeted crashes at the moments durability bugs hide in (per occurrence): right after
  // a vote became durable and was sent, and while an fsync is still in flight.
  double p_crash_after_vote = 0;
  double p_crash_mid_fsync = 0;
  // Targeted isolation (fault class `isolate`), per occurrence of the Raft moment.
  double p_isolate_new_leader = 0;
  double p_isolate_after_append = 0;
  double p_isolate_after_commit = 0;

  // Workload.
  int clients = 4;
  int keys_per_group = 3;
  SimTime client_timeout_us = 2'000'000;
  SimTime client_latency_max_us = 500;
  double read_fraction = 0.4;
  double cas_fraction = 0.2;

  std::string Describe() const;
  // kv workloads: state machines on a durable engine (sim_engine.h), like the server.
  bool durable_state_machines = false;
  // Linearizable reads under a leader lease (the server's default) instead of ReadIndex.
  bool lease_reads = false;
};

SwarmProfile DrawSwarmProfile(Rng& rng, const SimOptions& options);

}  // namespace ekv::sim
