// ekv-server's configuration: flags and an optional config file, validated up front so a
// bad setting is a clear message and a non-zero exit, never a half-started node.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/raft/types.h"

namespace ekv::runtime {

struct InitialRange {
  std::string start;  // inclusive
  std::string end;    // exclusive; empty = +inf
  raft::GroupId group = 0;
};

struct ServerConfig {
  raft::NodeId node_id = raft::kNoNode;
  std::string node_name;     // "n1"
  std::string grpc_address;  // public gRPC (RawKV, TransactionalKV, Distribution, Cluster)
  // Where clients reach this node's gRPC API, as recorded in the member directory; empty:
  // grpc_address.
  std::string advertise_grpc_address;
  // Where node-to-node traffic is accepted. Peers dial this node's --peers entry (its
  // advertised address); empty means listen on exactly that address. It may differ from
  // the advertised one only by listening on every interface (0.0.0.0, [::]) — behind NAT
  // or in a container — so a typo cannot leave a node unreachable by its own peers.
  std::string raft_address;
  std::string data_dir;
  std::map<raft::NodeId, std::string> peers;  // raft addresses of every member, self included
  std::vector<InitialRange> initial_ranges;   // initial route catalog (version 1)
  int groups = 2;
  bool bootstrap = true;
  // A member's gRPC address: a new data dir joins that cluster instead of bootstrapping
  // one (ignored once the data dir has state).
  std::string join;
  int join_timeout_ms = 60000;
  int tick_ms = 50;
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  int request_timeout_ms = 5000;
  uint64_t snapshot_interval_entries = 10000;
};

// The address to listen on for node-to-node traffic (after ValidateServerConfig).
std::string RaftListenAddress(const ServerConfig& config);
// What the member directory records for this node (after ValidateServerConfig).
std::string AdvertisedRaftAddress(const ServerConfig& config);
std::string AdvertisedGrpcAddress(const ServerConfig& config);
// Where clients dial a front door (Redis, DynamoDB, metrics) that listens on `listen`, as
// the member directory records it: `listen` itself, or, when it listens on every
// interface, the same port on the advertised gRPC address's host. Empty stays empty.
std::string AdvertisedFrontDoorAddress(const ServerConfig& config, const std::string& listen);
// A joining node need not list the cluster in --peers: it learns the members from the one
// it joins through. Its own entry then comes from --raft_address.
void AddSelfToPeersForJoin(ServerConfig* config);

// Parses "n1=127.0.0.1:50061,n2=..." (or "1=...") into node id -> address.
absl::StatusOr<std::map<raft::NodeId, std::string>> ParsePeers(const std::string& text);
// Parses "n3" or "3" into 3.
absl::StatusOr<raft::NodeId> ParseNodeId(const std::string& text);
// Split points "m,t" with `groups` groups: group i owns [split[i-1], split[i]).
absl::StatusOr<std::vector<InitialRange>> RangesFromSplitPoints(const std::string& split_points,
                                                                int groups);
// Reads "key = value" lines (# comments) into flag name -> value.
absl::StatusOr<std::map<std::string, std::string>> ReadConfigFile(const std::string& path);
// Checks cross-field consistency (self in peers, distinct addresses, ranges cover keys).
absl::Status ValidateServerConfig(const ServerConfig& config);

}  // namespace ekv::runtime
