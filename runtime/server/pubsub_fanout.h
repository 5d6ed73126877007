// PubSubFanout: carries a Redis PUBLISH from the node that received it to every other
// member of the cluster, and serves the other side: the internal gRPC service
// ekv.internal.RedisPubSub (proto/redis_pubsub.proto), registered on the Raft port.
//
// Flow: PUBLISH on n1 delivers to n1's subscribers (RedisServer's loop), then
// Publish() sends one Deliver RPC to each other member's Raft address, in parallel with a
// deadline; each member hands the message to its RedisServer, which delivers it to its
// subscribers and answers their number. PUBLISH answers the sum. A member that cannot be
// reached counts 0 (pub/sub is at-most-once in Redis too).
//
// The member list comes from the member directory (`read_members`, a linearizable read
// through Raft, so never on a caller's thread): a background thread refreshes a cached
// copy every `refresh_interval`, so a node that joined is reached within that time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "core/node/member_directory.h"
#include "grpcpp/security/credentials.h"

namespace grpc {
class Service;
}  // namespace grpc

namespace ekv::runtime {

class PubSubFanout {
 public:
  using Done = std::function<void(int64_t receivers)>;
  // Delivers to this node's subscribers; `done` runs exactly once, on any thread.
  using LocalDelivery = std::function<void(std::string channel, std::string message, Done done)>;

  struct Options {
    raft::NodeId self = raft::kNoNode;
    std::function<absl::StatusOr<node::MemberDirectory>()> read_members;
    std::chrono::milliseconds refresh_interval{1000};
    std::chrono::milliseconds deliver_timeout{2000};
    // How peers' Raft ports are dialled (runtime/transport/peer_tls.h); null: plaintext.
    std::shared_ptr<grpc::ChannelCredentials> peer_credentials;
  };

  explicit PubSubFanout(Options options);
  ~PubSubFanout();  // Stop()
  PubSubFanout(const PubSubFanout&) = delete;
  PubSubFanout& operator=(const PubSubFanout&) = delete;

  // Where Deliver RPCs from other nodes go; until set they answer 0 receivers.
  void SetLocalDelivery(LocalDelivery deliver);
  // The service to register on the Raft port's gRPC server; lives as long as this.
  grpc::Service* service();

  // Starts the member refresher thread (its first read is at once, in the background).
  void Start();
  void Stop();

  // Sends to every other member known now; `done` gets the sum of their receivers.
  void Publish(std::string channel, std::string message, Done done);

 private:
  struct Peer;
  class Service;
  void Refresh();

  Options options_;
  std::unique_ptr<Service> service_;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopped_ = false;                                 // guarded by mu_
  std::map<raft::NodeId, std::shared_ptr<Peer>> peers_;  // guarded by mu_
  LocalDelivery local_;                                  // guarded by mu_
  std::thread refresher_;
};

}  // namespace ekv::runtime
