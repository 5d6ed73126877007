// Joining a running cluster, and keeping this node's entry in the member directory true.
//
// A new node started with --join asks a member (proto.Cluster/AddNode over gRPC) to record
// its addresses and add it to every group as a learner; the answer names the groups to
// host and where the members are. The node then starts with empty groups, receives their
// snapshots, and MembershipTasks promotes it to voter once every group has caught up
// (a voter that still lacks the data would weaken the quorum it joins).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "core/node/member_directory.h"
#include "grpcpp/security/credentials.h"
#include "runtime/server/coordinator.h"
#include "runtime/server/node_loop.h"

namespace ekv::runtime {

struct JoinPlan {
  std::vector<raft::GroupId> groups;  // increasing
  node::MemberDirectory members;
};

// Calls AddNode on `member_grpc_address`, retrying until it answers or `timeout` passes
// (the member may be starting too, or electing a leader).
absl::StatusOr<JoinPlan> RequestJoin(const std::string& member_grpc_address, raft::NodeId self,
                                     const node::MemberAddresses& addresses,
                                     std::chrono::milliseconds timeout,
                                     std::shared_ptr<grpc::ChannelCredentials> credentials,
                                     std::string authorization = "");

struct MembershipTaskOptions {
  node::MemberAddresses self;
  // This node just joined. A restarted node that finds itself a learner in some group
  // (it stopped before its promotion) is promoted too.
  bool promote_after_catch_up = false;
  // A learner has caught up when every group applied within this many entries of its
  // commit index (and has applied something: its snapshot).
  uint64_t catch_up_lag_entries = 1000;
  std::function<void(const std::string&)> log;
};

// A background thread: promotes a joined node once it caught up, and advertises this
// node's addresses in the member directory; each step is retried until it succeeds or
// Stop is called.
class MembershipTasks {
 public:
  MembershipTasks(MembershipTaskOptions options, Coordinator* coordinator, NodeLoop* loop);
  ~MembershipTasks();
  void Start();
  void Stop();
  bool done() const { return done_.load(); }

 private:
  void Run();
  // Empty when every hosted group has a leader and is applied within the allowed lag;
  // otherwise the first group that is not, and why.
  std::string CatchUpLag() const;
  bool LearnerSomewhere() const;
  // Sleeps up to `period`; false once stopping.
  bool Wait(std::chrono::milliseconds period);

  MembershipTaskOptions options_;
  Coordinator* coordinator_;
  NodeLoop* loop_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace ekv::runtime
