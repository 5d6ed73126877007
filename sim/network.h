// The simulated network between nodes: per-link latency, loss, duplication, reordering,
// partitions and clogging.
//
// Network only decides; the Simulation schedules. `Plan` says when (and how many times)
// a message sent now arrives; `Connected` is asked again at delivery, so a partition that
// starts while a message is in flight drops it, as a real cut would.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/util/rng.h"
#include "sim/trace.h"

namespace ekv::sim {

using NodeIndex = uint64_t;  // Raft node id, 1..N

struct LinkProfile {
  SimTime min_latency_us = 100;
  SimTime max_latency_us = 2000;
  double drop_probability = 0;
  double duplicate_probability = 0;
  // A reordered message takes up to `reorder_extra_latency_us` more, overtaken by later ones.
  double reorder_probability = 0;
  SimTime reorder_extra_latency_us = 20000;
};

class Network {
 public:
  Network(std::vector<NodeIndex> nodes, Rng rng) : nodes_(std::move(nodes)), rng_(rng) {}

  void SetDefaultProfile(const LinkProfile& profile) { default_profile_ = profile; }
  void SetLinkProfile(NodeIndex from, NodeIndex to, const LinkProfile& profile) {
    link_profiles_[{from, to}] = profile;
  }
  const LinkProfile& Profile(NodeIndex from, NodeIndex to) const;

  // Delivery times of a message sent now from `from` to `to`: empty if dropped, two
  // entries if duplicated.
  std::vector<SimTime> Plan(NodeIndex from, NodeIndex to, SimTime now);
  // Whether a message from `from` may reach `to` right now (no partition cut).
  bool Connected(NodeIndex from, NodeIndex to) const;

  // Partitions. Each replaces the current cut set.
  void Heal();
  // Nodes in `side` cannot exchange messages with nodes outside it, both directions.
  void Split(const std::set<NodeIndex>& side);
  // Only messages from `from` to `to` are lost.
  void CutOneWay(NodeIndex from, NodeIndex to);
  // `bridge` talks to everyone; the two sides (the rest, split) do not talk to each other.
  void Bridge(const std::set<NodeIndex>& left, NodeIndex bridge);
  bool partitioned() const { return !cuts_.empty(); }
  std::string DescribeCuts() const;

  // Clogging: messages from or to `node` are held until `until` (then delivered).
  void Clog(NodeIndex node, SimTime until) { clogged_until_[node] = until; }
  void Unclog() { clogged_until_.clear(); }

 private:
  void CutBoth(NodeIndex a, NodeIndex b);

  std::vector<NodeIndex> nodes_;
  Rng rng_;
  LinkProfile default_profile_;
  std::map<std::pair<NodeIndex, NodeIndex>, LinkProfile> link_profiles_;
  std::set<std::pair<NodeIndex, NodeIndex>> cuts_;  // (from, to) pairs that drop
  std::map<NodeIndex, SimTime> clogged_until_;
};

}  // namespace ekv::sim
