#include "runtime/server/cluster_join.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "proto/cluster.grpc.pb.h"

namespace ekv::runtime {

absl::StatusOr<JoinPlan> RequestJoin(const std::string& member_grpc_address, raft::NodeId self,
                                     const node::MemberAddresses& addresses,
                                     std::chrono::milliseconds timeout,
                                     std::shared_ptr<grpc::ChannelCredentials> credentials,
                                     std::string authorization) {
  // With mutual TLS the member's public port asks for this node's certificate: AddNode
  // refuses a caller without one the cluster CA signed.
  auto channel = grpc::CreateChannel(
      member_grpc_address, credentials ? credentials : grpc::InsecureChannelCredentials());
  auto stub = proto::Cluster::NewStub(channel);
  proto::AddNodeRequest request;
  request.set_node_id(self);
  request.set_raft_address(addresses.raft_address);
  request.set_grpc_address(addresses.grpc_address);
  request.set_redis_address(addresses.redis_address);
  request.set_dynamo_address(addresses.dynamo_address);
  request.set_metrics_address(addresses.metrics_address);
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  std::string last_error = "no answer";
  for (int attempt = 0; std::chrono::steady_clock::now() < give_up; ++attempt) {
    grpc::ClientContext context;
    // The member's --grpc_auth_token_file: "Bearer <token>" (never logged).
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    // This node's data dir is empty (--join acts on nothing else): a node removed from the
    // cluster that joins again has no old copy of any group, so the member readmits it to
    // the created groups it was removed from (core/route/catalog.h "Readmission").
    context.AddMetadata(std::string(kJoinEmptyDataDirMetadata), "1");
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    proto::AddNodeResponse response;
    grpc::Status status = stub->AddNode(&context, request, &response);
    if (status.ok()) {
      JoinPlan plan;
      plan.groups.assign(response.raft_group_ids().begin(), response.raft_group_ids().end());
      std::sort(plan.groups.begin(), plan.groups.end());
      if (plan.groups.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(member_grpc_address, " answered AddNode without any Raft group"));
      }
      for (const proto::ClusterNode& node : response.nodes()) {
        if (node.raft_address().empty()) continue;
        plan.members[node.node_id()] = {node.raft_address(), node.grpc_address(),
                                        node.redis_address(), node.dynamo_address(),
                                        node.metrics_address()};
      }
      return plan;
    }
    last_error = absl::StrCat(status.error_code(), ": ", status.error_message());
    // A refusal of the request itself will not change by asking again.
    if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
        status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100 * (attempt + 1), 1000)));
  }
  return absl::UnavailableError(
      absl::StrCat("joining through ", member_grpc_address, " failed: ", last_error));
}

MembershipTasks::MembershipTasks(MembershipTaskOptions options, Coordinator* coordinator,
                                 NodeLoop* loop)
    : options_(std::move(options)), coordinator_(coordinator), loop_(loop) {}

MembershipTasks::~MembershipTasks() { Stop(); }

void MembershipTasks::Start() {
  thread_ = std::thread([this] { Run(); });
}

void MembershipTasks::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool MembershipTasks::Wait(std::chrono::milliseconds period) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, period, [this] { return stopping_; });
  return !stopping_;
}

std::string MembershipTasks::CatchUpLag() const {
  const std::map<raft::GroupId, node::GroupStatus> statuses = loop_->GroupStatuses();
  if (statuses.empty()) return "no group hosted yet";
  for (const auto& [group, status] : statuses) {
    if (status.applied == 0 || status.leader == raft::kNoNode ||
        status.applied + options_.catch_up_lag_entries < status.commit) {
      return absl::StrCat("group ", group, ": leader ",
                          status.leader == raft::kNoNode ? std::string("not heard from")
                                                         : absl::StrCat("n", status.leader),
                          ", applied ", status.applied, " of commit ", status.commit);
    }
  }
  return "";
}

bool MembershipTasks::LearnerSomewhere() const {
  const raft::NodeId self = coordinator_->node_id();
  for (const auto& [group, status] : loop_->GroupStatuses()) {
    for (const auto* ids : {&status.conf_state.learners, &status.conf_state.learners_next}) {
      if (std::find(ids->begin(), ids->end(), self) != ids->end()) return true;
    }
  }
  return false;
}

void MembershipTasks::Run() {
  const auto log = [this](const std::string& line) {
    if (options_.log) options_.log(line);
  };
  // Every group first catches up (after a restart or a join: its snapshot, or the log
  // since the last start), so its configuration says what this node is.
  // A node that stays behind says which group and why, every 10 s (an operator's first
  // question when a join does not finish).
  for (int waits = 1;; ++waits) {
    const std::string lag = CatchUpLag();
    if (lag.empty()) break;
    if (waits % 100 == 0) log(absl::StrCat("still catching up: ", lag));
    if (!Wait(std::chrono::milliseconds(100))) return;
  }
  if (options_.promote_after_catch_up || LearnerSomewhere()) {
    log("caught up in every group as a learner; asking to become a voter");
    for (int attempt = 0;; ++attempt) {
      absl::Status promoted = coordinator_->PromoteNode(coordinator_->node_id());
      if (promoted.ok()) break;
      if (attempt % 10 == 0)
        log(absl::StrCat("promotion to voter failed, retrying: ", promoted.message()));
      if (!Wait(std::chrono::milliseconds(200))) return;
    }
    log("a voter of every group");
  }
  for (int attempt = 0;; ++attempt) {
    absl::Status advertised = coordinator_->AdvertiseSelf(options_.self);
    if (advertised.ok()) break;
    if (attempt % 10 == 9)
      log(absl::StrCat("advertising addresses failed, retrying: ", advertised.message()));
    if (!Wait(std::chrono::milliseconds(200))) return;
  }
  done_ = true;
}

}  // namespace ekv::runtime
