#include "runtime/transport/raft_transport.h"

#include <pthread.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "core/node/snapshot_reference.h"
#include "grpcpp/grpcpp.h"
#include "runtime/transport/message_codec.h"

namespace ekv::runtime {

struct RaftTransport::Peer {
  raft::NodeId id = raft::kNoNode;
  std::mutex mu;
  // Replaced when the member directory moves the peer; streams pick up the new stub when
  // they reconnect (guarded by mu; callers copy the pointer).
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::shared_ptr<internal::RaftTransport::Stub> stub;
  std::condition_variable cv;
  std::deque<raft::Message> queue;
  bool stopping = false;
  std::thread thread;
  // Snapshots by reference waiting for this peer's snapshot thread (same mutex).
  std::condition_variable snapshot_cv;
  std::deque<raft::Message> snapshots;
  std::thread snapshot_thread;
  grpc::ClientContext* snapshot_context = nullptr;  // the stream in flight, for Stop
};

namespace {

// Raft keeps at most one snapshot in flight per follower and group; more than this many
// queued means the peer is not draining them.
constexpr size_t kMaxQueuedSnapshots = 64;

bool IsStreamedSnapshot(const raft::Message& m) {
  return m.type == raft::MessageType::kSnap && node::IsSnapshotReference(m.snapshot.data);
}

std::shared_ptr<grpc::Channel> NewPeerChannel(
    const std::string& address, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const TransportOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  args.SetMaxSendMessageSize(256 << 20);
  // Each peer gets its own connection so one slow peer cannot head-of-line block another.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // gRPC's own reconnect backoff starts at 1 s: a node that dialled a peer a moment before
  // that peer listened (every cluster start) could not reach it for about a second. Ours
  // (the sender's) is the one that counts; the channel follows it.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, options.reconnect_backoff_initial_ms);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, options.reconnect_backoff_initial_ms);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, options.reconnect_backoff_max_ms);
  return grpc::CreateCustomChannel(
      address, credentials ? credentials : grpc::InsecureChannelCredentials(), args);
}

}  // namespace

class RaftTransport::Service final : public internal::RaftTransport::Service {
 public:
  explicit Service(RaftTransport* transport) : transport_(transport) {}

  grpc::Status Send(grpc::ServerContext* context, grpc::ServerReader<internal::RaftBatch>* reader,
                    internal::RaftBatchAck* ack) override {
    internal::RaftBatch batch;
    while (reader->Read(&batch)) {
      if (batch.to_node() != transport_->self_) {
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                            absl::StrCat("raft batch for node ", batch.to_node(), " reached node ",
                                         transport_->self_, ": check --peers addresses"));
      }
      std::vector<raft::Message> messages;
      messages.reserve(batch.messages_size());
      for (const internal::RaftMessage& wire : batch.messages()) {
        absl::StatusOr<raft::Message> message = FromProto(wire);
        if (!message.ok()) {
          return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              std::string(message.status().message()));
        }
        messages.push_back(std::move(*message));
      }
      if (transport_->inbound_) transport_->inbound_(batch.from_node(), std::move(messages));
    }
    return grpc::Status::OK;
  }

  grpc::Status SendSnapshot(grpc::ServerContext* context,
                            grpc::ServerReader<internal::SnapshotChunk>* reader,
                            internal::SnapshotAck* ack) override {
    internal::SnapshotChunk chunk;
    if (!reader->Read(&chunk) || !chunk.has_header()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "snapshot stream without a header");
    }
    const raft::NodeId from = chunk.from_node();
    absl::StatusOr<raft::Message> message = FromProto(chunk.header());
    if (!message.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          std::string(message.status().message()));
    }
    if (message->to != transport_->self_ || !IsStreamedSnapshot(*message)) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrCat("snapshot stream for node ", message->to, " reached node ",
                                       transport_->self_, " or is not a snapshot by reference"));
    }
    absl::StatusOr<node::SnapshotReference> reference =
        node::DecodeSnapshotReference(message->snapshot.data);
    if (!reference.ok() || !transport_->streaming_.begin_staging) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "cannot stage snapshots");
    }
    absl::StatusOr<std::unique_ptr<SnapshotSink>> sink =
        transport_->streaming_.begin_staging(message->group);
    if (!sink.ok()) {
      return grpc::Status(grpc::StatusCode::INTERNAL, std::string(sink.status().message()));
    }
    uint64_t records = 0;
    bool complete = false;
    do {
      for (const internal::SnapshotRecord& record : chunk.records()) {
        if (absl::Status s = (*sink)->Add(record.key(), record.value()); !s.ok()) {
          return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(s.message()));
        }
        ++records;
      }
      if (chunk.last()) {
        complete = true;
        break;
      }
    } while (reader->Read(&chunk));
    if (!complete) {
      // The sink's destructor removes the partial copy.
      return grpc::Status(grpc::StatusCode::ABORTED, "snapshot stream ended early");
    }
    absl::StatusOr<std::string> ref = (*sink)->Finish();
    if (!ref.ok()) {
      return grpc::Status(grpc::StatusCode::INTERNAL, std::string(ref.status().message()));
    }
    reference->staged_ref = *ref;
    message->snapshot.data = node::EncodeSnapshotReference(*reference);
    {
      std::lock_guard<std::mutex> lock(transport_->counters_mu_);
      transport_->counters_.snapshots_received += 1;
    }
    ack->set_records(records);
    if (transport_->streaming_.log) {
      transport_->streaming_.log(absl::StrCat("snapshot of group ", message->group, " at index ",
                                              message->snapshot.metadata.index, " from node ", from,
                                              " staged: ", records, " records"));
    }
    std::vector<raft::Message> delivered;
    delivered.push_back(std::move(*message));
    if (transport_->inbound_) transport_->inbound_(from, std::move(delivered));
    return grpc::Status::OK;
  }

  grpc::Status Forward(grpc::ServerContext* context, const internal::ForwardRequest* request,
                       internal::ForwardResponse* response) override {
    if (!transport_->forward_) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "node is starting");
    }
    *response = transport_->forward_(*request);
    return grpc::Status::OK;
  }

 private:
  RaftTransport* transport_;
};

RaftTransport::RaftTransport(raft::NodeId self, std::map<raft::NodeId, std::string> peers,
                             TransportOptions options)
    : self_(self), options_(options), service_(std::make_unique<Service>(this)) {
  for (auto& [id, address] : peers) SetPeerAddress(id, address);
}

void RaftTransport::SetPeerAddress(raft::NodeId id, const std::string& address) {
  if (id == self_ || id == raft::kNoNode || address.empty()) return;
  std::unique_lock<std::shared_mutex> lock(peers_mu_);
  auto it = peers_.find(id);
  if (it != peers_.end()) {
    Peer& peer = *it->second;
    std::lock_guard<std::mutex> peer_lock(peer.mu);
    if (peer.address == address) return;
    peer.address = address;
    peer.channel = NewPeerChannel(address, options_.peer_credentials, options_);
    peer.stub = internal::RaftTransport::NewStub(peer.channel);
    return;
  }
  auto peer = std::make_unique<Peer>();
  peer->id = id;
  peer->address = address;
  peer->channel = NewPeerChannel(address, options_.peer_credentials, options_);
  peer->stub = internal::RaftTransport::NewStub(peer->channel);
  Peer* raw = peer.get();
  peers_.emplace(id, std::move(peer));
  if (started_ && !stopped_) StartPeer(raw);
}

std::map<raft::NodeId, std::string> RaftTransport::PeerAddresses() const {
  std::shared_lock<std::shared_mutex> lock(peers_mu_);
  std::map<raft::NodeId, std::string> addresses;
  for (const auto& [id, peer] : peers_) {
    std::lock_guard<std::mutex> peer_lock(peer->mu);
    addresses.emplace(id, peer->address);
  }
  return addresses;
}

std::shared_ptr<internal::RaftTransport::Stub> RaftTransport::PeerStub(Peer* peer) {
  std::lock_guard<std::mutex> lock(peer->mu);
  return peer->stub;
}

RaftTransport::Peer* RaftTransport::FindPeer(raft::NodeId id) const {
  std::shared_lock<std::shared_mutex> lock(peers_mu_);
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second.get();
}

void RaftTransport::StartPeer(Peer* peer) {
  // Named for profilers and top -H (15 chars at most).
  peer->thread = std::thread([this, peer] {
    pthread_setname_np(pthread_self(), absl::StrCat("ekv-send-", peer->id).substr(0, 15).c_str());
    RunSender(peer);
  });
  peer->snapshot_thread = std::thread([this, peer] {
    pthread_setname_np(pthread_self(), absl::StrCat("ekv-snap-", peer->id).substr(0, 15).c_str());
    RunSnapshotSender(peer);
  });
}

RaftTransport::~RaftTransport() { Stop(); }

void RaftTransport::SetHandlers(InboundHandler inbound, UnreachableHandler unreachable,
                                ForwardHandler forward) {
  inbound_ = std::move(inbound);
  unreachable_ = std::move(unreachable);
  forward_ = std::move(forward);
}

void RaftTransport::Start() {
  std::unique_lock<std::shared_mutex> lock(peers_mu_);
  if (started_) return;
  started_ = true;
  for (auto& [id, peer] : peers_) StartPeer(peer.get());
}

void RaftTransport::Stop() {
  // No peer is added once stopped_ is set, so the threads joined below are all there are.
  std::unique_lock<std::shared_mutex> lock(peers_mu_);
  stopped_ = true;
  for (auto& [id, peer] : peers_) {
    {
      std::lock_guard<std::mutex> lock(peer->mu);
      peer->stopping = true;
      // A snapshot stream blocked on a slow peer must not hold up shutdown.
      if (peer->snapshot_context != nullptr) peer->snapshot_context->TryCancel();
    }
    peer->cv.notify_all();
    peer->snapshot_cv.notify_all();
  }
  for (auto& [id, peer] : peers_) {
    if (peer->thread.joinable()) peer->thread.join();
    if (peer->snapshot_thread.joinable()) peer->snapshot_thread.join();
  }
}

size_t RaftTransport::Send(raft::NodeId to, std::vector<raft::Message> messages) {
  Peer* found = FindPeer(to);
  if (found == nullptr) return messages.size();
  Peer& peer = *found;
  size_t dropped = 0;
  bool snapshot_queued = false;
  std::vector<raft::GroupId> snapshots_refused;
  std::vector<raft::Message> proposals_refused;
  {
    std::lock_guard<std::mutex> lock(peer.mu);
    for (raft::Message& m : messages) {
      if (IsStreamedSnapshot(m)) {
        if (peer.snapshots.size() >= kMaxQueuedSnapshots) {
          snapshots_refused.push_back(m.group);
          ++dropped;
          continue;
        }
        peer.snapshots.push_back(std::move(m));
        snapshot_queued = true;
        continue;
      }
      if (peer.queue.size() >= options_.max_queued_messages_per_peer) {
        ++dropped;
        if (m.type == raft::MessageType::kProp) proposals_refused.push_back(std::move(m));
        continue;
      }
      peer.queue.push_back(std::move(m));
    }
  }
  peer.cv.notify_one();
  if (snapshot_queued) peer.snapshot_cv.notify_one();
  if (snapshot_status_) {
    for (raft::GroupId group : snapshots_refused) snapshot_status_(to, group, /*failed=*/true);
  }
  if (undelivered_ && !proposals_refused.empty()) undelivered_(to, std::move(proposals_refused));
  if (dropped > 0) {
    std::lock_guard<std::mutex> lock(counters_mu_);
    counters_.messages_dropped_queue_full += dropped;
  }
  return dropped;
}

bool RaftTransport::WaitConnected(Peer* peer, grpc::Channel* channel, int wait_ms) {
  // In slices, so that Stop never waits for a peer that is down.
  const auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(wait_ms);
  while (true) {
    const auto now = std::chrono::system_clock::now();
    if (now >= deadline) return false;
    if (channel->WaitForConnected(std::min(deadline, now + std::chrono::milliseconds(50)))) {
      return true;
    }
    std::lock_guard<std::mutex> lock(peer->mu);
    if (peer->stopping) return false;
  }
}

void RaftTransport::RunSender(Peer* peer) {
  int backoff_ms = options_.reconnect_backoff_initial_ms;
  while (true) {
    grpc::ClientContext context;
    internal::RaftBatchAck ack;
    std::shared_ptr<grpc::Channel> channel;
    std::shared_ptr<internal::RaftTransport::Stub> stub;
    {
      std::lock_guard<std::mutex> lock(peer->mu);
      channel = peer->channel;
      stub = peer->stub;
    }
    // Opened once the channel is connected, with the first batch to send. A batch written
    // to a stream that then fails may or may not have been delivered, so its proposals are
    // left to their deadline ("outcome unknown"); a batch never written was certainly not,
    // so the messages are only taken off the queue for a stream whose connection is up:
    // otherwise they stay queued and the proposals among them are reported undelivered
    // below. (Seen: a write forwarded in the first second after a cluster started was
    // written into a stream whose peer was not connected yet; lost without a word, its
    // client was told "outcome unknown: timed out" 2 s later.)
    std::unique_ptr<grpc::ClientWriter<internal::RaftBatch>> writer;
    bool connect_failed = false;
    bool healthy = true;
    while (healthy) {
      {
        std::unique_lock<std::mutex> lock(peer->mu);
        peer->cv.wait(lock, [peer] { return peer->stopping || !peer->queue.empty(); });
        if (peer->stopping) {
          lock.unlock();
          if (writer != nullptr) {
            writer->WritesDone();
            (void)writer->Finish();
          }
          return;
        }
      }
      if (channel->GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_READY) {
        if (writer != nullptr) break;  // the stream's connection is gone: a new stream
        if (!WaitConnected(peer, channel.get(), backoff_ms)) {
          connect_failed = true;
          break;
        }
      }
      if (writer == nullptr) writer = stub->Send(&context, &ack);
      internal::RaftBatch batch;
      std::vector<raft::GroupId> snapshot_groups;
      size_t bytes = 0;
      {
        std::lock_guard<std::mutex> lock(peer->mu);
        while (!peer->queue.empty() &&
               static_cast<size_t>(batch.messages_size()) < options_.max_batch_messages &&
               bytes < options_.max_batch_bytes) {
          internal::RaftMessage* wire = batch.add_messages();
          if (peer->queue.front().type == raft::MessageType::kSnap) {
            snapshot_groups.push_back(peer->queue.front().group);
          }
          ToProto(peer->queue.front(), wire);
          bytes += wire->ByteSizeLong();
          peer->queue.pop_front();
        }
      }
      batch.set_from_node(self_);
      batch.set_to_node(peer->id);
      const size_t count = static_cast<size_t>(batch.messages_size());
      const bool written = writer->Write(batch);
      if (written) {
        backoff_ms = options_.reconnect_backoff_initial_ms;
        std::lock_guard<std::mutex> lock(counters_mu_);
        counters_.messages_sent += count;
        counters_.batches_sent += 1;
        counters_.message_bytes_sent += bytes;
      } else {
        healthy = false;
        std::lock_guard<std::mutex> lock(counters_mu_);
        counters_.messages_dropped_disconnected += count;
      }
      if (snapshot_status_) {
        for (raft::GroupId group : snapshot_groups) snapshot_status_(peer->id, group, !written);
      }
    }
    if (writer != nullptr) (void)writer->Finish();
    if (unreachable_) unreachable_(peer->id);
    {
      // Back off before reconnecting (a failed connect waited already); wake early only to
      // stop.
      std::unique_lock<std::mutex> lock(peer->mu);
      if (!connect_failed) {
        peer->cv.wait_for(lock, std::chrono::milliseconds(backoff_ms),
                          [peer] { return peer->stopping; });
      }
      if (peer->stopping) return;
      // Messages queued while disconnected are stale by now; Raft will resend them, except
      // forwarded proposals, whose senders are told (never sent: certainly undelivered).
      std::vector<raft::Message> proposals;
      {
        std::lock_guard<std::mutex> counters_lock(counters_mu_);
        counters_.messages_dropped_disconnected += peer->queue.size();
        counters_.reconnects += 1;
      }
      for (raft::Message& m : peer->queue) {
        if (m.type == raft::MessageType::kSnap && snapshot_status_) {
          snapshot_status_(peer->id, m.group, /*failed=*/true);
        }
        if (m.type == raft::MessageType::kProp) proposals.push_back(std::move(m));
      }
      peer->queue.clear();
      lock.unlock();
      if (undelivered_ && !proposals.empty()) undelivered_(peer->id, std::move(proposals));
    }
    backoff_ms = std::min(backoff_ms * 2, options_.reconnect_backoff_max_ms);
  }
}

void RaftTransport::RunSnapshotSender(Peer* peer) {
  while (true) {
    raft::Message message;
    {
      std::unique_lock<std::mutex> lock(peer->mu);
      peer->snapshot_cv.wait(lock, [peer] { return peer->stopping || !peer->snapshots.empty(); });
      if (peer->stopping) return;
      message = std::move(peer->snapshots.front());
      peer->snapshots.pop_front();
    }
    const absl::Status status = StreamSnapshot(peer, message);
    {
      std::lock_guard<std::mutex> lock(counters_mu_);
      if (status.ok()) {
        counters_.snapshots_streamed += 1;
      } else {
        counters_.snapshots_failed += 1;
      }
    }
    // Raft's leader waits in its snapshot state for this report either way.
    if (snapshot_status_) snapshot_status_(peer->id, message.group, !status.ok());
  }
}

absl::Status RaftTransport::StreamSnapshot(Peer* peer, const raft::Message& message) {
  if (!streaming_.for_each_record) {
    return absl::FailedPreconditionError("this node cannot stream snapshots");
  }
  grpc::ClientContext context;
  {
    std::lock_guard<std::mutex> lock(peer->mu);
    if (peer->stopping) return absl::CancelledError("transport stopping");
    peer->snapshot_context = &context;
  }
  struct Unregister {
    Peer* peer;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(peer->mu);
      peer->snapshot_context = nullptr;
    }
  } unregister{peer};
  internal::SnapshotAck ack;
  std::unique_ptr<grpc::ClientWriter<internal::SnapshotChunk>> writer =
      PeerStub(peer)->SendSnapshot(&context, &ack);
  internal::SnapshotChunk chunk;
  chunk.set_from_node(self_);
  ToProto(message, chunk.mutable_header());
  size_t chunk_bytes = 0;
  bool broken = false;
  uint64_t chunks = 0;
  uint64_t records = 0;
  uint64_t bytes = 0;
  absl::Status read = streaming_.for_each_record(
      message.group, [&](absl::string_view key, absl::string_view value) {
        internal::SnapshotRecord* record = chunk.add_records();
        record->set_key(key.data(), key.size());
        record->set_value(value.data(), value.size());
        chunk_bytes += key.size() + value.size() + 8;
        bytes += key.size() + value.size();
        ++records;
        if (chunk_bytes < options_.snapshot_chunk_bytes) return true;
        if (!writer->Write(chunk)) {
          broken = true;
          return false;
        }
        ++chunks;
        chunk.Clear();
        chunk_bytes = 0;
        std::lock_guard<std::mutex> lock(peer->mu);
        return !peer->stopping;
      });
  if (read.ok()) {
    chunk.set_last(true);
    if (!writer->Write(chunk)) broken = true;
    ++chunks;
  }
  writer->WritesDone();
  grpc::Status finished = writer->Finish();
  {
    std::lock_guard<std::mutex> lock(counters_mu_);
    counters_.snapshot_chunks_sent += chunks;
  }
  absl::Status result = read;
  if (result.ok() && (broken || !finished.ok())) {
    result = absl::UnavailableError(absl::StrCat("streaming a snapshot of group ", message.group,
                                                 " to node ", peer->id,
                                                 " failed: ", finished.error_message()));
  }
  if (streaming_.log) {
    streaming_.log(result.ok() ? absl::StrCat("snapshot of group ", message.group, " at index ",
                                              message.snapshot.metadata.index, " streamed to node ",
                                              peer->id, ": ", records, " records, ", bytes,
                                              " bytes in ", chunks, " chunks")
                               : absl::StrCat("snapshot of group ", message.group, " to node ",
                                              peer->id, " failed: ", result.message()));
  }
  return result;
}

absl::StatusOr<internal::ForwardResponse> RaftTransport::Forward(
    raft::NodeId to, const internal::ForwardRequest& request) {
  Peer* peer = FindPeer(to);
  if (peer == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("no address known for node ", to));
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(options_.forward_timeout_ms));
  internal::ForwardResponse response;
  grpc::Status status = PeerStub(peer)->Forward(&context, request, &response);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("forwarding to node ", to, " failed: ", status.error_message()));
  }
  return response;
}

grpc::Service* RaftTransport::service() { return service_.get(); }

TransportCounters RaftTransport::counters() const {
  std::lock_guard<std::mutex> lock(counters_mu_);
  return counters_;
}

}  // namespace ekv::runtime
