#include "runtime/server/server_config.h"

#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ekv::runtime {

absl::StatusOr<raft::NodeId> ParseNodeId(const std::string& text) {
  absl::string_view view = absl::StripAsciiWhitespace(text);
  absl::ConsumePrefix(&view, "n");
  uint64_t id = 0;
  if (!absl::SimpleAtoi(view, &id) || id == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("node id '", text, "' must be a positive number like 1 or n1"));
  }
  return id;
}

absl::StatusOr<std::map<raft::NodeId, std::string>> ParsePeers(const std::string& text) {
  std::map<raft::NodeId, std::string> peers;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::vector<std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[1].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("peer '", part, "' must look like n1=127.0.0.1:50061"));
    }
    absl::StatusOr<raft::NodeId> id = ParseNodeId(kv[0]);
    if (!id.ok()) return id.status();
    if (kv[1].find(':') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("peer address '", kv[1], "' needs a port, e.g. 127.0.0.1:50061"));
    }
    if (!peers.emplace(*id, kv[1]).second) {
      return absl::InvalidArgumentError(absl::StrCat("node ", *id, " is listed twice in peers"));
    }
  }
  if (peers.empty()) return absl::InvalidArgumentError("peers must name at least one node");
  return peers;
}

absl::StatusOr<std::vector<InitialRange>> RangesFromSplitPoints(const std::string& split_points,
                                                                int groups) {
  std::vector<std::string> splits;
  for (absl::string_view part : absl::StrSplit(split_points, ',', absl::SkipEmpty())) {
    splits.emplace_back(part);
  }
  if (groups < 1) return absl::InvalidArgumentError("groups must be at least 1");
  if (static_cast<int>(splits.size()) != groups - 1) {
    return absl::InvalidArgumentError(absl::StrCat("split points '", split_points, "' give ",
                                                   splits.size() + 1, " ranges but groups is ",
                                                   groups, ": give groups-1 split points"));
  }
  for (size_t i = 1; i < splits.size(); ++i) {
    if (!(splits[i - 1] < splits[i])) {
      return absl::InvalidArgumentError("split points must be strictly increasing");
    }
  }
  std::vector<InitialRange> ranges;
  std::string start;
  for (int g = 1; g <= groups; ++g) {
    InitialRange range;
    range.start = start;
    range.end = g <= static_cast<int>(splits.size()) ? splits[g - 1] : "";
    range.group = static_cast<raft::GroupId>(g);
    start = range.end;
    ranges.push_back(range);
  }
  return ranges;
}

absl::StatusOr<std::map<std::string, std::string>> ReadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  std::map<std::string, std::string> values;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    absl::string_view view = absl::StripAsciiWhitespace(line);
    if (view.empty() || view[0] == '#') continue;
    const size_t eq = view.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": expected 'name = value', got '", view, "'"));
    }
    absl::string_view name = absl::StripAsciiWhitespace(view.substr(0, eq));
    absl::ConsumePrefix(&name, "--");
    values[std::string(name)] = std::string(absl::StripAsciiWhitespace(view.substr(eq + 1)));
  }
  return values;
}

namespace {

bool IsWildcardListenAddress(absl::string_view address) {
  return absl::StartsWith(address, "0.0.0.0:") || absl::StartsWith(address, "[::]:");
}

}  // namespace

std::string RaftListenAddress(const ServerConfig& config) {
  if (!config.raft_address.empty()) return config.raft_address;
  auto self = config.peers.find(config.node_id);
  return self == config.peers.end() ? std::string() : self->second;
}

std::string AdvertisedRaftAddress(const ServerConfig& config) {
  auto self = config.peers.find(config.node_id);
  return self == config.peers.end() ? std::string() : self->second;
}

std::string AdvertisedGrpcAddress(const ServerConfig& config) {
  return config.advertise_grpc_address.empty() ? config.grpc_address
                                               : config.advertise_grpc_address;
}

std::string AdvertisedFrontDoorAddress(const ServerConfig& config, const std::string& listen) {
  if (!IsWildcardListenAddress(listen)) return listen;
  // Listening on every interface: clients reach this port on the host they reach gRPC on.
  const std::string grpc = AdvertisedGrpcAddress(config);
  const size_t grpc_colon = grpc.rfind(':');
  const size_t listen_colon = listen.rfind(':');
  if (grpc_colon == std::string::npos) return listen;
  return grpc.substr(0, grpc_colon) + listen.substr(listen_colon);
}

void AddSelfToPeersForJoin(ServerConfig* config) {
  if (config->join.empty() || config->peers.count(config->node_id) != 0) return;
  if (config->raft_address.empty() || IsWildcardListenAddress(config->raft_address)) return;
  config->peers[config->node_id] = config->raft_address;
}

absl::Status ValidateServerConfig(const ServerConfig& config) {
  if (config.node_id == raft::kNoNode) return absl::InvalidArgumentError("--id is required");
  auto self = config.peers.find(config.node_id);
  if (self == config.peers.end()) {
    if (!config.join.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--join needs this node's advertised raft address: set --raft_address to it (not a "
          "wildcard), or list n",
          config.node_id, " in --peers"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("--peers does not list this node (n", config.node_id, ")"));
  }
  if (!config.raft_address.empty() && self->second != config.raft_address &&
      !IsWildcardListenAddress(config.raft_address)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--raft_address ", config.raft_address,
                     " differs from this node's --peers entry ", self->second,
                     " (the address peers dial); it may only differ by listening on every "
                     "interface, e.g. 0.0.0.0:PORT"));
  }
  std::set<std::string> addresses;
  for (const auto& [id, address] : config.peers) {
    if (!addresses.insert(address).second) {
      return absl::InvalidArgumentError(absl::StrCat("address ", address, " is used twice"));
    }
  }
  if (config.grpc_address.empty()) return absl::InvalidArgumentError("--grpc_address is required");
  if (config.grpc_address == RaftListenAddress(config)) {
    return absl::InvalidArgumentError("--grpc_address and --raft_address must differ");
  }
  if (IsWildcardListenAddress(AdvertisedGrpcAddress(config))) {
    return absl::InvalidArgumentError(
        "--grpc_address listens on every interface: set --advertise_grpc_address to the "
        "address clients dial");
  }
  if (!config.join.empty() && config.join == AdvertisedGrpcAddress(config)) {
    return absl::InvalidArgumentError("--join names this node itself: give a member's address");
  }
  if (config.join_timeout_ms < 1)
    return absl::InvalidArgumentError("--join_timeout_ms must be > 0");
  if (config.data_dir.empty()) return absl::InvalidArgumentError("--data_dir is required");
  if (config.tick_ms < 1 || config.tick_ms > 10000) {
    return absl::InvalidArgumentError("--tick_ms must be in [1, 10000]");
  }
  if (config.heartbeat_ticks < 1 || config.election_ticks <= config.heartbeat_ticks) {
    return absl::InvalidArgumentError("--election_ticks must exceed --heartbeat_ticks >= 1");
  }
  if (config.initial_ranges.empty()) return absl::InvalidArgumentError("no initial ranges");
  return absl::OkStatus();
}

}  // namespace ekv::runtime
