// The public gRPC services (package `proto`, REFERENCE §2): thin translations between
// protobuf messages and the coordinator. No business rules live here.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "proto/ekv.grpc.pb.h"
#include "runtime/server/coordinator.h"

namespace ekv::adapters {

// RawPut and RawGet, the hot calls, use gRPC's callback API: no thread waits while Raft
// works; the node loop's answer finishes the call (Coordinator::RawPutAsync/RawGetAsync).
class RawKvService final : public proto::RawKV::WithCallbackMethod_RawPut<
                               proto::RawKV::WithCallbackMethod_RawGet<proto::RawKV::Service>> {
 public:
  // `max_inflight` (--grpc_max_inflight): RawPut/RawGet calls in progress at once; one more
  // is answered RESOURCE_EXHAUSTED at once. 0: no bound.
  explicit RawKvService(runtime::Coordinator* coordinator, int64_t max_inflight = 0)
      : coordinator_(coordinator), max_inflight_(max_inflight) {}
  grpc::ServerUnaryReactor* RawPut(grpc::CallbackServerContext*, const proto::RawPutRequest*,
                                   proto::RawPutResponse*) override;
  grpc::ServerUnaryReactor* RawGet(grpc::CallbackServerContext*, const proto::RawGetRequest*,
                                   proto::RawGetResponse*) override;
  grpc::Status RawDelete(grpc::ServerContext*, const proto::RawDeleteRequest*,
                         proto::RawDeleteResponse*) override;
  grpc::Status RawLatestCommitTS(grpc::ServerContext*, const proto::RawLatestCommitTSRequest*,
                                 proto::RawLatestCommitTSResponse*) override;
  grpc::Status RawScanAt(grpc::ServerContext*, const proto::RawScanAtRequest*,
                         proto::RawScanAtResponse*) override;

 private:
  // Takes one in-flight slot, or false when all are taken (the caller answers
  // RESOURCE_EXHAUSTED); every true is matched by one Release.
  bool TryAcquire();
  void Release() { inflight_.fetch_sub(1, std::memory_order_relaxed); }

  runtime::Coordinator* coordinator_;
  const int64_t max_inflight_;
  std::atomic<int64_t> inflight_{0};
};

class TransactionalKvService final : public proto::TransactionalKV::Service {
 public:
  explicit TransactionalKvService(runtime::Coordinator* coordinator) : coordinator_(coordinator) {}
  grpc::Status Put(grpc::ServerContext*, const proto::PutRequest*, proto::PutResponse*) override;
  grpc::Status Get(grpc::ServerContext*, const proto::GetRequest*, proto::GetResponse*) override;
  grpc::Status Delete(grpc::ServerContext*, const proto::DeleteRequest*,
                      proto::DeleteResponse*) override;
  grpc::Status Scan(grpc::ServerContext*, const proto::ScanRequest*, proto::ScanResponse*) override;
  grpc::Status PreWrite(grpc::ServerContext*, const proto::PreWriteRequest*,
                        proto::PreCommitResponse*) override;
  grpc::Status Commit(grpc::ServerContext*, const proto::CommitRequest*,
                      proto::CommitResponse*) override;
  grpc::Status Rollback(grpc::ServerContext*, const proto::RollbackRequest*,
                        proto::RollbackResponse*) override;

 private:
  runtime::Coordinator* coordinator_;
};

class DistributionService final : public proto::Distribution::Service {
 public:
  explicit DistributionService(runtime::Coordinator* coordinator) : coordinator_(coordinator) {}
  grpc::Status GetRoute(grpc::ServerContext*, const proto::GetRouteRequest*,
                        proto::GetRouteResponse*) override;
  grpc::Status GetTimestamp(grpc::ServerContext*, const proto::GetTimestampRequest*,
                            proto::GetTimestampResponse*) override;
  grpc::Status ListRoutes(grpc::ServerContext*, const proto::ListRoutesRequest*,
                          proto::ListRoutesResponse*) override;
  grpc::Status SplitRange(grpc::ServerContext*, const proto::SplitRangeRequest*,
                          proto::SplitRangeResponse*) override;
  // Runs the core's StartMoveRange and waits for it (a move outlives the usual request
  // deadline: it answers within its timeout plus the finish timeout). A caller that gives
  // up leaves the move running; MoveRange again (with source_raft_group_id after the
  // cut-over) resumes it.
  grpc::Status MoveRange(grpc::ServerContext*, const proto::MoveRangeRequest*,
                         proto::MoveRangeResponse*) override;
  // Runs the core's StartMergeRange and waits for it (with move_if_needed it may run a
  // move first, with the move's deadlines).
  grpc::Status MergeRange(grpc::ServerContext*, const proto::MergeRangeRequest*,
                          proto::MergeRangeResponse*) override;
  grpc::Status CreateGroup(grpc::ServerContext*, const proto::CreateGroupRequest*,
                           proto::CreateGroupResponse*) override;
  grpc::Status RetireGroup(grpc::ServerContext*, const proto::RetireGroupRequest*,
                           proto::RetireGroupResponse*) override;
  grpc::Status ListGroups(grpc::ServerContext*, const proto::ListGroupsRequest*,
                          proto::ListGroupsResponse*) override;
  // Run the core's StartMoveReplica / StartDrainNode and wait for them (their own
  // deadlines, or the caller's cancellation).
  grpc::Status MoveReplica(grpc::ServerContext*, const proto::MoveReplicaRequest*,
                           proto::MoveReplicaResponse*) override;
  grpc::Status DrainNode(grpc::ServerContext*, const proto::DrainNodeRequest*,
                         proto::DrainNodeResponse*) override;

 private:
  // ListGroups with_load: sums the route counters the group's leader answered to a
  // kRouteLoads query, or says why there are none.
  static void AddGroupLoad(proto::RaftGroupInfo* group, const coord::OpResult& result);

  runtime::Coordinator* coordinator_;
};

}  // namespace ekv::adapters
