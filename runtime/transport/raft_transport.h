// Node-to-node transport over gRPC: batched Raft messages and forwarded client requests.
//
// Threading: one sender thread per peer drains a bounded queue into a long-lived client
// stream, batching messages of all groups bound for that peer into one RaftBatch (up to
// max_batch_messages / max_batch_bytes). When the queue is full new messages are dropped
// and counted: Raft retransmits, so dropping is backpressure, never unbounded memory. A
// broken stream is reconnected with exponential backoff; while down, the node loop is
// told the peer is unreachable so leaders fall back to probing. Messages are taken off the
// queue only for a connected stream, so a forwarded proposal is either written or reported
// undelivered (UndeliveredHandler), never dropped silently for want of a connection.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/raft/types.h"
#include "grpcpp/security/credentials.h"
#include "proto/raft_transport.grpc.pb.h"

namespace ekv::runtime {

// Out-of-band snapshot streaming (snapshots by reference, core/node/snapshot_reference.h).
// The transport knows nothing of storage: the server plugs these in.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual absl::Status Add(absl::string_view key, absl::string_view value) = 0;
  // Seals the staged copy; returns the ref the follower's snapshot will name.
  virtual absl::StatusOr<std::string> Finish() = 0;
};

struct SnapshotStreaming {
  // Sender: every record of `group`'s state, in key order, from one consistent view;
  // `emit` returns false to stop.
  std::function<absl::Status(
      raft::GroupId group,
      const std::function<bool(absl::string_view key, absl::string_view value)>& emit)>
      for_each_record;
  // Receiver: where one incoming snapshot of `group` is staged.
  std::function<absl::StatusOr<std::unique_ptr<SnapshotSink>>(raft::GroupId group)> begin_staging;
  // One line per snapshot sent, staged or failed (operators want to see these rare events).
  std::function<void(const std::string& line)> log;
};

struct TransportOptions {
  size_t max_queued_messages_per_peer = 16384;
  size_t max_batch_messages = 512;
  size_t max_batch_bytes = 4 << 20;
  int reconnect_backoff_initial_ms = 20;
  int reconnect_backoff_max_ms = 1000;
  int forward_timeout_ms = 5000;
  // Records per streamed snapshot chunk are added until the chunk reaches this size.
  size_t snapshot_chunk_bytes = 1 << 20;
  // How peers are dialled (runtime/transport/peer_tls.h); null: plaintext.
  std::shared_ptr<grpc::ChannelCredentials> peer_credentials;
};

struct TransportCounters {
  uint64_t messages_sent = 0;
  uint64_t batches_sent = 0;
  uint64_t message_bytes_sent = 0;  // encoded Raft messages, snapshot streams excluded
  uint64_t messages_dropped_queue_full = 0;
  uint64_t messages_dropped_disconnected = 0;
  uint64_t reconnects = 0;
  uint64_t snapshots_streamed = 0;  // sent completely
  uint64_t snapshot_chunks_sent = 0;
  uint64_t snapshots_failed = 0;
  uint64_t snapshots_received = 0;  // staged completely
};

class RaftTransport {
 public:
  // Called on a gRPC thread with the messages of one inbound batch.
  using InboundHandler = std::function<void(raft::NodeId from, std::vector<raft::Message>)>;
  // Called on a sender thread when a peer's stream fails.
  using UnreachableHandler = std::function<void(raft::NodeId peer)>;
  // Serves a request forwarded by another node (blocking).
  using ForwardHandler =
      std::function<internal::ForwardResponse(const internal::ForwardRequest& request)>;

  RaftTransport(raft::NodeId self, std::map<raft::NodeId, std::string> peer_addresses,
                TransportOptions options);
  ~RaftTransport();

  // Called on a sender thread once a snapshot message for `group` was written to `peer`'s
  // stream (failed = false) or lost with a broken stream (failed = true). Raft needs both:
  // a leader waits in its snapshot state until told.
  using SnapshotStatusHandler =
      std::function<void(raft::NodeId peer, raft::GroupId group, bool failed)>;

  void SetHandlers(InboundHandler inbound, UnreachableHandler unreachable, ForwardHandler forward);
  void SetSnapshotStatusHandler(SnapshotStatusHandler handler) {
    snapshot_status_ = std::move(handler);
  }
  // Called with the proposals (MsgProp) for `peer` dropped before any attempt to send them
  // (queue full, or queued while the peer was not connected: messages are written only to
  // a stream whose connection is up): certainly never delivered.
  using UndeliveredHandler =
      std::function<void(raft::NodeId peer, std::vector<raft::Message> proposals)>;
  void SetUndeliveredHandler(UndeliveredHandler handler) { undelivered_ = std::move(handler); }
  // Without it, snapshots by reference cannot be sent (they are reported failed).
  void SetSnapshotStreaming(SnapshotStreaming streaming) { streaming_ = std::move(streaming); }
  // Starts the sender threads. The gRPC service must be registered with a server.
  void Start();
  // Stops sender threads; pending messages are dropped.
  void Stop();

  // Queues messages for `to` without blocking. Returns how many were dropped.
  size_t Send(raft::NodeId to, std::vector<raft::Message> messages);
  // Forwards a client request to `to` and waits for the answer (bounded by a deadline).
  absl::StatusOr<internal::ForwardResponse> Forward(raft::NodeId to,
                                                    const internal::ForwardRequest& request);

  // Where `id` is reached from now on: adds a peer (its sender threads start at once if
  // the transport runs) or moves one (its streams reconnect to the new address). Ignores
  // this node and empty addresses. Thread-safe.
  void SetPeerAddress(raft::NodeId id, const std::string& address);
  std::map<raft::NodeId, std::string> PeerAddresses() const;

  grpc::Service* service();
  TransportCounters counters() const;

 private:
  class Service;
  struct Peer;
  // nullptr if unknown. Peers are never removed before the transport is destroyed.
  Peer* FindPeer(raft::NodeId id) const;
  static std::shared_ptr<internal::RaftTransport::Stub> PeerStub(Peer* peer);
  void StartPeer(Peer* peer);  // with peers_mu_ held exclusively
  void RunSender(Peer* peer);
  // Waits up to `wait_ms` for `channel` to connect; false if it did not or the peer stops.
  static bool WaitConnected(Peer* peer, grpc::Channel* channel, int wait_ms);
  // One thread per peer streams that peer's snapshots by reference, one at a time.
  void RunSnapshotSender(Peer* peer);
  absl::Status StreamSnapshot(Peer* peer, const raft::Message& message);

  raft::NodeId self_;
  TransportOptions options_;
  mutable std::shared_mutex peers_mu_;
  std::map<raft::NodeId, std::unique_ptr<Peer>> peers_;  // guarded by peers_mu_
  std::unique_ptr<Service> service_;
  InboundHandler inbound_;
  UnreachableHandler unreachable_;
  ForwardHandler forward_;
  SnapshotStatusHandler snapshot_status_;
  UndeliveredHandler undelivered_;
  SnapshotStreaming streaming_;
  mutable std::mutex counters_mu_;
  TransportCounters counters_;
  bool started_ = false;  // guarded by peers_mu_
  bool stopped_ = false;  // guarded by peers_mu_
};

}  // namespace ekv::runtime
