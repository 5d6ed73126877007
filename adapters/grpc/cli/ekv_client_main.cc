// ekv-client: a command-line client of ekv's public gRPC API. See --help.
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/grpcpp.h"
#include "proto/cluster.grpc.pb.h"
#include "proto/ekv.grpc.pb.h"
#include "proto/placement.grpc.pb.h"

ABSL_FLAG(std::string, addr, "127.0.0.1:50051", "gRPC address of any ekv node.");
ABSL_FLAG(int, timeout_ms, 10000, "Deadline of each RPC in milliseconds.");
ABSL_FLAG(uint64_t, ts, 0, "Read timestamp for get/scan (0: latest, linearizable).");
ABSL_FLAG(int64_t, limit, 100, "Maximum keys returned by scan.");
ABSL_FLAG(uint64_t, expected_version, 0,
          "move-range, merge: the catalog version the operation expects (0: any; otherwise a "
          "different version refuses it and changes nothing).");
ABSL_FLAG(uint64_t, move_timeout_ms, 0,
          "move-range, merge --merge_move: how long the move may take to reach its cut-over "
          "before the server "
          "rolls it back (0: the server's default, 30 s); move-replica: how long the replica "
          "move may take (0: the same default).");
ABSL_FLAG(int, move_deadline_ms, 180000,
          "move-range, merge, move-replica, drain: deadline of the RPC (a move outlives "
          "--timeout_ms). A move "
          "the client stops waiting for goes on; move-range again resumes or confirms it.");
ABSL_FLAG(bool, merge_move, false,
          "merge: when the two routes are on different Raft groups, move the right one into "
          "the left's group first (a move-range), then merge. Default: refuse such a merge.");
ABSL_FLAG(int, load_window_ms, 1000,
          "groups: each group's load is measured over this many milliseconds (two "
          "ListGroups calls) and printed as reads/s, writes/s and bytes/s; 0: one call, "
          "printing the leader's counters since it started instead.");
ABSL_FLAG(int, replicas, 3,
          "create-group without node ids: how many nodes placement picks to host the group.");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM file of the CA that signed the node's certificate: connect over TLS and "
          "verify the node (ekv-server --tls_cert_file). Default: empty, plaintext.");
ABSL_FLAG(std::string, auth_token_file, "",
          "File holding the cluster's bearer token (ekv-server --grpc_auth_token_file): "
          "every call carries 'authorization: Bearer <token>'. Needs --tls_ca_file, as the "
          "server only accepts a token over TLS. Default: empty, no token.");

namespace {

constexpr char kUsage[] =
    "ekv-client: talk to an ekv cluster through its public gRPC API.\n"
    "Usage: ekv-client [--addr HOST:PORT] COMMAND ARGS...\n"
    "Commands:\n"
    "  put KEY VALUE                  RawPut\n"
    "  get KEY                        RawGet (--ts for a snapshot read)\n"
    "  delete KEY                     RawDelete\n"
    "  scan START [END]               RawScanAt over [START, END) (--limit, --ts)\n"
    "  latest-ts KEY                  RawLatestCommitTS\n"
    "  txn KEY=VALUE [KEY=VALUE...]   one transaction: GetTimestamp, PreWrite, Commit\n"
    "  txn-get KEY                    TransactionalKV.Get\n"
    "  routes                         Distribution.ListRoutes\n"
    "  route KEY                      Distribution.GetRoute\n"
    "  split VERSION ROUTE_ID KEY     Distribution.SplitRange\n"
    "  move-range ROUTE_ID GROUP [SOURCE_GROUP]\n"
    "                                 Distribution.MoveRange: move the route to Raft group\n"
    "                                 GROUP (--expected_version, --move_timeout_ms,\n"
    "                                 --move_deadline_ms); SOURCE_GROUP finishes a move that\n"
    "                                 stopped after its cut-over\n"
    "  merge KEY                      Distribution.MergeRange: merge the route holding KEY\n"
    "                                 with the route after it (--expected_version;\n"
    "                                 --merge_move to move the right one into the left's\n"
    "                                 group first, with --move_timeout_ms, --move_deadline_ms)\n"
    "  merge-route ROUTE_ID [RIGHT_ROUTE_ID]\n"
    "                                 the same, naming the left route (and the right) by id\n"
    "  groups                         Distribution.ListGroups: Raft groups, their voters,\n"
    "                                 leaders, route counts and load (reads/s, writes/s,\n"
    "                                 bytes/s over --load_window_ms)\n"
    "  create-group [NODE_ID...]      Distribution.CreateGroup on those nodes (none:\n"
    "                                 --replicas nodes picked by placement)\n"
    "  retire-group GROUP             Distribution.RetireGroup (a created group no route\n"
    "                                 is on any more)\n"
    "  move-replica GROUP FROM [TO]   Distribution.MoveReplica: move a created group's\n"
    "                                 replica from node FROM to node TO (none: only remove\n"
    "                                 it, if 3 replicas stay); again resumes a stopped one\n"
    "                                 (--move_timeout_ms, --move_deadline_ms)\n"
    "  drain NODE_ID                  Distribution.DrainNode: every created group's replica\n"
    "                                 off the node, so remove-node leaves each group its\n"
    "                                 replica count (--move_deadline_ms)\n"
    "  timestamp                      Distribution.GetTimestamp\n"
    "  placement status|pause|resume  Placement.GetPlacement / SetPlacement on every node\n"
    "                                 Cluster.ListNodes names (automatic splits and moves;\n"
    "                                 the node that leads the catalog group decides)\n"
    "  nodes                          Cluster.ListNodes: members, addresses, roles per group\n"
    "  add-node ID RAFT_ADDR [GRPC]   Cluster.AddNode (as a learner; ekv-server --join does\n"
    "                                 this and the promotion by itself)\n"
    "  promote-node ID                Cluster.PromoteNode (learner -> voter)\n"
    "  remove-node ID                 Cluster.RemoveNode (out of every group)\n"
    "Exit status: 0 on success, 1 on an RPC error (printed with its gRPC code), 2 on bad "
    "usage.";

// "Bearer <token>" from --auth_token_file, or empty; set once in main.
std::string authorization;

std::unique_ptr<grpc::ClientContext> Context(int timeout_ms = 0) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!authorization.empty()) context->AddMetadata("authorization", authorization);
  context->set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(timeout_ms != 0 ? timeout_ms : absl::GetFlag(FLAGS_timeout_ms)));
  return context;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// e.g. "group 3 created voters 1,2,4 leader 2 routes 1".
// A group's load for `groups`: rates over the window between `earlier` and `group`, or
// (window 0) the counters themselves. Empty when the reply carries no load at all.
std::string LoadText(const proto::RaftGroupInfo& group, const proto::RaftGroupInfo* earlier,
                     int window_ms) {
  if (!group.load_error().empty()) return absl::StrCat(" load ? (", group.load_error(), ")");
  if (!group.has_load()) return "";
  const proto::GroupLoad& now = group.load();
  if (window_ms == 0) {
    return absl::StrCat(" counted reads ", now.reads(), " writes ", now.writes(), " bytes ",
                        now.read_bytes() + now.write_bytes());
  }
  if (earlier == nullptr || !earlier->has_load()) return " load ? (not measured at the start)";
  const proto::GroupLoad& then = earlier->load();
  // Counters are one replica's since it started: a new leader, or a restart, starts over.
  if (earlier->leader() != group.leader() || now.reads() < then.reads() ||
      now.writes() < then.writes()) {
    return " load ? (leader changed while measuring)";
  }
  const double seconds = window_ms / 1000.0;
  const auto rate = [seconds](uint64_t delta) {
    return static_cast<uint64_t>(static_cast<double>(delta) / seconds + 0.5);
  };
  return absl::StrCat(
      " load reads/s ", rate(now.reads() - then.reads()), " writes/s ",
      rate(now.writes() - then.writes()), " bytes/s ",
      rate(now.read_bytes() + now.write_bytes() - then.read_bytes() - then.write_bytes()));
}

void PrintGroup(const proto::RaftGroupInfo& group, const proto::RaftGroupInfo* earlier = nullptr,
                int window_ms = 0) {
  std::cout << "group " << group.raft_group_id()
            << (group.retired()   ? " retired"
                : group.created() ? " created"
                                  : " initial")
            << " voters " << absl::StrJoin(group.voters(), ",") << " replicas "
            << absl::StrJoin(group.replicas(), ",") << " leader "
            << (group.leader() == 0 ? std::string("?") : std::to_string(group.leader()))
            << " routes " << group.route_count() << LoadText(group, earlier, window_ms) << "\n";
}

// The created ids that ListGroups does not list (retired), as compact ranges: "3-5,8";
// empty when there are none.
std::string RetiredGroups(const proto::ListGroupsResponse& response) {
  const uint64_t first = response.first_created_group_id();
  const uint64_t last = response.last_created_group_id();
  if (first == 0 || first > last) return "";
  std::set<uint64_t> listed;
  for (const proto::RaftGroupInfo& group : response.groups()) listed.insert(group.raft_group_id());
  std::vector<std::string> ranges;
  for (uint64_t id = first; id <= last; ++id) {
    if (listed.count(id) != 0) continue;
    // Each run ends at the next listed id (or at `last`): one step per listed group, so
    // the loop is bounded by the groups listed, not by how many ids were retired.
    auto next = listed.upper_bound(id);
    const uint64_t end = next == listed.end() || *next > last ? last : *next - 1;
    ranges.push_back(end == id ? absl::StrCat(id) : absl::StrCat(id, "-", end));
    if (end == last) break;
    id = end;
  }
  return absl::StrJoin(ranges, ",");
}

int RpcError(const grpc::Status& status) {
  std::cerr << "error: " << status.error_code() << " " << status.error_message() << "\n";
  return 1;
}

std::string Show(const std::string& bytes) {
  return absl::StrCat("\"", absl::CEscape(bytes), "\"");
}

const char* RoleName(proto::MemberRole role) {
  switch (role) {
    case proto::MEMBER_ROLE_VOTER:
      return "voter";
    case proto::MEMBER_ROLE_LEARNER:
      return "learner";
    default:
      return "-";
  }
}

// One line per node: id, addresses, then group:role (* = leader) for every group.
void PrintNodes(const google::protobuf::RepeatedPtrField<proto::ClusterNode>& nodes) {
  for (const proto::ClusterNode& node : nodes) {
    std::cout << "n" << node.node_id()
              << " raft=" << (node.raft_address().empty() ? "?" : node.raft_address())
              << " grpc=" << (node.grpc_address().empty() ? "?" : node.grpc_address());
    if (!node.redis_address().empty()) std::cout << " redis=" << node.redis_address();
    if (!node.dynamo_address().empty()) std::cout << " dynamo=" << node.dynamo_address();
    if (!node.metrics_address().empty()) std::cout << " metrics=" << node.metrics_address();
    for (const proto::GroupMembership& group : node.groups()) {
      std::cout << " g" << group.raft_group_id() << ":" << RoleName(group.role())
                << (group.leader() ? "*" : "");
    }
    std::cout << "\n";
  }
}

bool ParseNode(const std::string& text, uint64_t* id) {
  return absl::SimpleAtoi(absl::StartsWith(text, "n") ? text.substr(1) : text, id) && *id != 0;
}

void PrintRoute(const proto::RouteDescriptor& r) {
  std::cout << "route " << r.route_id() << " [" << Show(r.start()) << ", "
            << (r.end().empty() ? std::string("+inf") : Show(r.end())) << ") group "
            << r.raft_group_id() << " " << proto::RouteState_Name(r.state());
  if (r.parent_route_id() != 0) std::cout << " parent " << r.parent_route_id();
  std::cout << "\n";
}

int Usage(const std::string& why) {
  std::cerr << "ekv-client: " << why << "\n\n" << kUsage << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  {
    // absl's --help lists only flags defined in a file named like the program; ours live
    // in *_main.cc / main.cc, so list every flag that is not Abseil's own.
    absl::FlagsUsageConfig usage;
    usage.contains_help_flags = [](absl::string_view path) {
      return !absl::StrContains(path, "absl/");
    };
    usage.contains_helpshort_flags = usage.contains_help_flags;
    absl::SetFlagsUsageConfig(usage);
  }
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) return Usage("missing command");
  const std::string command = args[1];
  std::vector<std::string> rest(args.begin() + 2, args.end());
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (const std::string ca_file = absl::GetFlag(FLAGS_tls_ca_file); !ca_file.empty()) {
    auto ca = ReadFile(ca_file);
    if (!ca.has_value()) return Usage(absl::StrCat("cannot read --tls_ca_file ", ca_file));
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = *ca;
    credentials = grpc::SslCredentials(ssl);
  }
  if (const std::string token_file = absl::GetFlag(FLAGS_auth_token_file); !token_file.empty()) {
    if (absl::GetFlag(FLAGS_tls_ca_file).empty()) {
      return Usage("--auth_token_file needs --tls_ca_file (a token is only sent over TLS)");
    }
    auto token = ReadFile(token_file);
    if (!token.has_value())
      return Usage(absl::StrCat("cannot read --auth_token_file ", token_file));
    const std::string word(absl::StripAsciiWhitespace(*token));
    if (word.empty()) return Usage(absl::StrCat(token_file, " holds no token"));
    authorization = absl::StrCat("Bearer ", word);
  }
  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_addr), credentials);
  auto raw = proto::RawKV::NewStub(channel);
  auto txn = proto::TransactionalKV::NewStub(channel);
  auto dist = proto::Distribution::NewStub(channel);

  if (command == "put" && rest.size() == 2) {
    proto::RawPutRequest request;
    request.set_key(rest[0]);
    request.set_value(rest[1]);
    proto::RawPutResponse response;
    grpc::Status status = raw->RawPut(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << "OK commit_index=" << response.commit_index() << "\n";
    return 0;
  }
  if (command == "get" && rest.size() == 1) {
    proto::RawGetRequest request;
    request.set_key(rest[0]);
    request.set_ts(absl::GetFlag(FLAGS_ts));
    proto::RawGetResponse response;
    grpc::Status status = raw->RawGet(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    if (!response.exists()) {
      std::cout << "(nil)\n";
    } else {
      std::cout << Show(response.value()) << "\n";
    }
    return 0;
  }
  if (command == "delete" && rest.size() == 1) {
    proto::RawDeleteRequest request;
    request.set_key(rest[0]);
    proto::RawDeleteResponse response;
    grpc::Status status = raw->RawDelete(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << "OK commit_index=" << response.commit_index() << "\n";
    return 0;
  }
  if (command == "scan" && (rest.size() == 1 || rest.size() == 2)) {
    proto::RawScanAtRequest request;
    request.set_start_key(rest[0]);
    if (rest.size() == 2) request.set_end_key(rest[1]);
    request.set_limit(absl::GetFlag(FLAGS_limit));
    request.set_ts(absl::GetFlag(FLAGS_ts));
    proto::RawScanAtResponse response;
    grpc::Status status = raw->RawScanAt(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    for (const auto& kv : response.kv())
      std::cout << Show(kv.key()) << " " << Show(kv.value()) << "\n";
    std::cout << "(" << response.kv_size() << " keys)\n";
    return 0;
  }
  if (command == "latest-ts" && rest.size() == 1) {
    proto::RawLatestCommitTSRequest request;
    request.set_key(rest[0]);
    proto::RawLatestCommitTSResponse response;
    grpc::Status status = raw->RawLatestCommitTS(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    if (response.exists()) {
      std::cout << response.ts() << "\n";
    } else {
      std::cout << "(nil)\n";
    }
    return 0;
  }
  if (command == "txn" && !rest.empty()) {
    proto::GetTimestampResponse ts;
    grpc::Status status = dist->GetTimestamp(Context().get(), {}, &ts);
    if (!status.ok()) return RpcError(status);
    proto::PreWriteRequest prewrite;
    prewrite.set_start_ts(ts.timestamp());
    prewrite.set_lock_ttl(3000);
    proto::CommitRequest commit;
    commit.set_start_ts(ts.timestamp());
    for (const std::string& pair : rest) {
      const size_t eq = pair.find('=');
      if (eq == std::string::npos) return Usage("txn arguments are KEY=VALUE");
      proto::Kv* kv = prewrite.add_mutations();
      kv->set_key(pair.substr(0, eq));
      kv->set_value(pair.substr(eq + 1));
      commit.add_keys(pair.substr(0, eq));
    }
    proto::PreCommitResponse prewritten;
    status = txn->PreWrite(Context().get(), prewrite, &prewritten);
    if (!status.ok()) return RpcError(status);
    if (prewritten.errors_size() > 0) {
      for (const auto& e : prewritten.errors()) {
        std::cerr << "prewrite: " << e.message() << (e.retryable() ? " (retryable)" : "") << "\n";
      }
      proto::RollbackRequest rollback;
      rollback.set_start_ts(ts.timestamp());
      proto::RollbackResponse rolled;
      (void)txn->Rollback(Context().get(), rollback, &rolled);
      return 1;
    }
    proto::CommitResponse committed;
    status = txn->Commit(Context().get(), commit, &committed);
    if (!status.ok()) return RpcError(status);
    if (!committed.success()) {
      for (const auto& e : committed.errors()) std::cerr << "commit: " << e.message() << "\n";
      return 1;
    }
    std::cout << "COMMITTED start_ts=" << ts.timestamp()
              << " commit_index=" << committed.commit_index() << "\n";
    return 0;
  }
  if (command == "txn-get" && rest.size() == 1) {
    proto::GetRequest request;
    request.set_key(rest[0]);
    proto::GetResponse response;
    grpc::Status status = txn->Get(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << Show(response.value()) << "\n";
    return 0;
  }
  if (command == "routes" && rest.empty()) {
    proto::ListRoutesResponse response;
    grpc::Status status = dist->ListRoutes(Context().get(), {}, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << "catalog version " << response.catalog_version() << "\n";
    for (const auto& r : response.routes()) PrintRoute(r);
    return 0;
  }
  if (command == "route" && rest.size() == 1) {
    proto::GetRouteRequest request;
    request.set_key(rest[0]);
    proto::GetRouteResponse response;
    grpc::Status status = dist->GetRoute(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << "[" << Show(response.start()) << ", "
              << (response.end().empty() ? std::string("+inf") : Show(response.end())) << ") group "
              << response.raft_group_id() << "\n";
    return 0;
  }
  if (command == "split" && rest.size() == 3) {
    proto::SplitRangeRequest request;
    uint64_t version = 0, route_id = 0;
    if (!absl::SimpleAtoi(rest[0], &version) || !absl::SimpleAtoi(rest[1], &route_id)) {
      return Usage("split VERSION ROUTE_ID KEY: version and route id are numbers");
    }
    request.set_expected_catalog_version(version);
    request.set_route_id(route_id);
    request.set_split_key(rest[2]);
    proto::SplitRangeResponse response;
    grpc::Status status = dist->SplitRange(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << "catalog version " << response.catalog_version() << "\n";
    PrintRoute(response.left());
    PrintRoute(response.right());
    return 0;
  }
  if (command == "move-range" && (rest.size() == 2 || rest.size() == 3)) {
    proto::MoveRangeRequest request;
    uint64_t route_id = 0, target = 0, source = 0;
    if (!absl::SimpleAtoi(rest[0], &route_id) || !absl::SimpleAtoi(rest[1], &target) ||
        (rest.size() == 3 && !absl::SimpleAtoi(rest[2], &source))) {
      return Usage("move-range ROUTE_ID GROUP [SOURCE_GROUP]: all are numbers");
    }
    request.set_route_id(route_id);
    request.set_target_raft_group_id(target);
    request.set_source_raft_group_id(source);
    request.set_expected_catalog_version(absl::GetFlag(FLAGS_expected_version));
    request.set_timeout_ms(absl::GetFlag(FLAGS_move_timeout_ms));
    proto::MoveRangeResponse response;
    grpc::Status status =
        dist->MoveRange(Context(absl::GetFlag(FLAGS_move_deadline_ms)).get(), request, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << "catalog version " << response.catalog_version() << "\n";
    PrintRoute(response.route());
    std::cout << "moved from group " << response.source_raft_group_id() << ": "
              << response.records_copied() << " records in " << response.copy_passes()
              << " copy passes, writes paused " << response.write_fence_us() << " us\n";
    return 0;
  }
  if ((command == "merge" && rest.size() == 1) ||
      (command == "merge-route" && (rest.size() == 1 || rest.size() == 2))) {
    proto::MergeRangeRequest request;
    if (command == "merge") {
      request.set_key(rest[0]);
    } else {
      uint64_t route_id = 0, right = 0;
      if (!absl::SimpleAtoi(rest[0], &route_id) ||
          (rest.size() == 2 && !absl::SimpleAtoi(rest[1], &right))) {
        return Usage("merge-route ROUTE_ID [RIGHT_ROUTE_ID]: route ids are numbers");
      }
      request.set_route_id(route_id);
      request.set_right_route_id(right);
    }
    request.set_expected_catalog_version(absl::GetFlag(FLAGS_expected_version));
    request.set_move_if_needed(absl::GetFlag(FLAGS_merge_move));
    request.set_move_timeout_ms(absl::GetFlag(FLAGS_move_timeout_ms));
    proto::MergeRangeResponse response;
    grpc::Status status =
        dist->MergeRange(Context(absl::GetFlag(FLAGS_move_deadline_ms)).get(), request, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << "catalog version " << response.catalog_version() << "\n";
    PrintRoute(response.merged());
    std::cout << "merged routes " << response.left_route_id() << " and "
              << response.right_route_id()
              << (response.moved() ? " (the right one moved into the left's group first)" : "")
              << "\n";
    return 0;
  }
  if (command == "groups" && rest.empty()) {
    const int window_ms = absl::GetFlag(FLAGS_load_window_ms);
    if (window_ms < 0 || window_ms > 60000) return Usage("--load_window_ms: 0..60000");
    proto::ListGroupsRequest request;
    request.set_with_load(true);
    proto::ListGroupsResponse before;
    proto::ListGroupsResponse response;
    if (window_ms > 0) {
      grpc::Status status = dist->ListGroups(Context().get(), request, &before);
      if (!status.ok()) return RpcError(status);
      std::this_thread::sleep_for(std::chrono::milliseconds(window_ms));
    }
    grpc::Status status = dist->ListGroups(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << "catalog version " << response.catalog_version() << "\n";
    for (const proto::RaftGroupInfo& group : response.groups()) {
      const proto::RaftGroupInfo* earlier = nullptr;
      for (const proto::RaftGroupInfo& candidate : before.groups()) {
        if (candidate.raft_group_id() == group.raft_group_id()) earlier = &candidate;
      }
      PrintGroup(group, window_ms > 0 ? earlier : nullptr, window_ms);
    }
    if (std::string retired = RetiredGroups(response); !retired.empty()) {
      std::cout << "retired groups " << retired << "\n";
    }
    return 0;
  }
  if (command == "create-group") {
    proto::CreateGroupRequest request;
    for (const std::string& arg : rest) {
      uint64_t node = 0;
      if (!absl::SimpleAtoi(arg, &node) || node == 0) {
        return Usage("create-group [NODE_ID...]: node ids are numbers >= 1");
      }
      request.add_voters(node);
    }
    const int replicas = absl::GetFlag(FLAGS_replicas);
    if (replicas < 1) return Usage("--replicas: expected at least 1");
    request.set_replicas(static_cast<uint32_t>(replicas));
    proto::CreateGroupResponse response;
    grpc::Status status = dist->CreateGroup(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << "catalog version " << response.catalog_version() << "\n";
    PrintGroup(response.group());
    return 0;
  }
  if (command == "retire-group" && rest.size() == 1) {
    proto::RetireGroupRequest request;
    uint64_t group = 0;
    if (!absl::SimpleAtoi(rest[0], &group)) return Usage("retire-group GROUP: a group id");
    request.set_raft_group_id(group);
    proto::RetireGroupResponse response;
    grpc::Status status = dist->RetireGroup(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << "catalog version " << response.catalog_version() << "\n";
    PrintGroup(response.group());
    return 0;
  }
  if (command == "move-replica" && (rest.size() == 2 || rest.size() == 3)) {
    proto::MoveReplicaRequest request;
    uint64_t group = 0, from = 0, to = 0;
    if (!absl::SimpleAtoi(rest[0], &group) || !absl::SimpleAtoi(rest[1], &from) ||
        (rest.size() == 3 && !absl::SimpleAtoi(rest[2], &to))) {
      return Usage("move-replica GROUP FROM [TO]: all are numbers");
    }
    request.set_raft_group_id(group);
    request.set_from_node_id(from);
    request.set_to_node_id(to);
    request.set_timeout_ms(absl::GetFlag(FLAGS_move_timeout_ms));
    proto::MoveReplicaResponse response;
    grpc::Status status =
        dist->MoveReplica(Context(absl::GetFlag(FLAGS_move_deadline_ms)).get(), request, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << "catalog version " << response.catalog_version() << "\n";
    PrintGroup(response.group());
    return 0;
  }
  if (command == "drain" && rest.size() == 1) {
    proto::DrainNodeRequest request;
    uint64_t node = 0;
    if (!absl::SimpleAtoi(rest[0], &node) || node == 0) {
      return Usage("drain NODE_ID: a node id >= 1");
    }
    request.set_node_id(node);
    proto::DrainNodeResponse response;
    grpc::Status status =
        dist->DrainNode(Context(absl::GetFlag(FLAGS_move_deadline_ms)).get(), request, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << "catalog version " << response.catalog_version() << "\n";
    std::cout << "node " << node << " drained: " << response.groups_size() << " replicas moved\n";
    for (const proto::RaftGroupInfo& moved : response.groups()) PrintGroup(moved);
    return 0;
  }
  if (command == "timestamp" && rest.empty()) {
    proto::GetTimestampResponse response;
    grpc::Status status = dist->GetTimestamp(Context().get(), {}, &response);
    if (!status.ok()) return RpcError(status);
    std::cout << response.timestamp() << "\n";
    return 0;
  }
  auto cluster = proto::Cluster::NewStub(channel);
  if (command == "nodes" && rest.empty()) {
    proto::ListNodesResponse response;
    grpc::Status status = cluster->ListNodes(Context().get(), {}, &response);
    if (!status.ok()) return RpcError(status);
    PrintNodes(response.nodes());
    return 0;
  }
  if (command == "placement" && rest.size() == 1 &&
      (rest[0] == "status" || rest[0] == "pause" || rest[0] == "resume")) {
    // Placement runs per node: the catalog group's leader decides, and that may change,
    // so pausing means pausing every node.
    proto::ListNodesResponse nodes;
    grpc::Status status = cluster->ListNodes(Context().get(), {}, &nodes);
    if (!status.ok()) return RpcError(status);
    int failures = 0;
    for (const proto::ClusterNode& node : nodes.nodes()) {
      if (node.grpc_address().empty()) {
        // A member whose gRPC address the cluster does not know yet (it has not served
        // since it started): skipping it would report a pause that does not hold there.
        std::cout << "n" << node.node_id()
                  << " error: its gRPC address is not known yet (node starting?); try again\n";
        ++failures;
        continue;
      }
      auto stub = proto::Placement::NewStub(grpc::CreateChannel(node.grpc_address(), credentials));
      proto::PlacementState state;
      if (rest[0] == "status") {
        status = stub->GetPlacement(Context().get(), {}, &state);
      } else {
        proto::SetPlacementRequest request;
        request.set_paused(rest[0] == "pause");
        status = stub->SetPlacement(Context().get(), request, &state);
      }
      if (!status.ok()) {
        std::cout << "n" << node.node_id() << " error: " << status.error_code() << " "
                  << status.error_message() << "\n";
        ++failures;
        continue;
      }
      std::cout << "n" << state.node_id() << (state.paused() ? " paused" : " running")
                << (state.leading() ? " leading" : "") << (state.busy() ? " busy" : "")
                << " rounds=" << state.rounds() << " splits=" << state.splits_done() << "/"
                << state.splits_started() << " moves=" << state.moves_done() << "/"
                << state.moves_started() << " aborted=" << state.moves_aborted()
                << " refused=" << state.intents_refused()
                << (state.move_unfinished() ? " move-unfinished" : "");
      if (!state.last_decision().empty()) std::cout << " last=" << Show(state.last_decision());
      if (!state.last_error().empty()) std::cout << " error=" << Show(state.last_error());
      std::cout << "\n";
    }
    return failures == 0 ? 0 : 1;
  }
  uint64_t node_id = 0;
  if (command == "add-node" && (rest.size() == 2 || rest.size() == 3)) {
    if (!ParseNode(rest[0], &node_id)) return Usage("add-node ID: n4 or 4");
    proto::AddNodeRequest request;
    request.set_node_id(node_id);
    request.set_raft_address(rest[1]);
    if (rest.size() == 3) request.set_grpc_address(rest[2]);
    proto::AddNodeResponse response;
    grpc::Status status = cluster->AddNode(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    PrintNodes(response.nodes());
    return 0;
  }
  if (command == "promote-node" && rest.size() == 1) {
    if (!ParseNode(rest[0], &node_id)) return Usage("promote-node ID: n4 or 4");
    proto::PromoteNodeRequest request;
    request.set_node_id(node_id);
    proto::PromoteNodeResponse response;
    grpc::Status status = cluster->PromoteNode(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    PrintNodes(response.nodes());
    return 0;
  }
  if (command == "remove-node" && rest.size() == 1) {
    if (!ParseNode(rest[0], &node_id)) return Usage("remove-node ID: n4 or 4");
    proto::RemoveNodeRequest request;
    request.set_node_id(node_id);
    proto::RemoveNodeResponse response;
    grpc::Status status = cluster->RemoveNode(Context().get(), request, &response);
    if (!status.ok()) return RpcError(status);
    PrintNodes(response.nodes());
    return 0;
  }
  return Usage(absl::StrCat("unknown command or wrong arguments: ", command));
}
