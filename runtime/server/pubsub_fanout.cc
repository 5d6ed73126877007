#include "runtime/server/pubsub_fanout.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <utility>
#include <vector>

#include "proto/redis_pubsub.grpc.pb.h"

namespace ekv::runtime {

struct PubSubFanout::Peer {
  std::string address;
  std::unique_ptr<internal::RedisPubSub::Stub> stub;
};

class PubSubFanout::Service final : public internal::RedisPubSub::CallbackService {
 public:
  explicit Service(PubSubFanout* fanout) : fanout_(fanout) {}

  grpc::ServerUnaryReactor* Deliver(grpc::CallbackServerContext* context,
                                    const internal::PubSubMessage* request,
                                    internal::PubSubDelivered* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    LocalDelivery local;
    {
      std::lock_guard<std::mutex> lock(fanout_->mu_);
      local = fanout_->local_;
    }
    if (!local) {
      response->set_receivers(0);
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    local(request->channel(), request->message(), [reactor, response](int64_t receivers) {
      response->set_receivers(receivers);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

 private:
  PubSubFanout* fanout_;
};

PubSubFanout::PubSubFanout(Options options)
    : options_(std::move(options)), service_(std::make_unique<Service>(this)) {}

PubSubFanout::~PubSubFanout() { Stop(); }

void PubSubFanout::SetLocalDelivery(LocalDelivery deliver) {
  std::lock_guard<std::mutex> lock(mu_);
  local_ = std::move(deliver);
}

grpc::Service* PubSubFanout::service() { return service_.get(); }

void PubSubFanout::Start() {
  refresher_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopped_) {
      // The read goes through Raft and may wait for a leader: never under mu_.
      lock.unlock();
      Refresh();
      lock.lock();
      stop_cv_.wait_for(lock, options_.refresh_interval, [this] { return stopped_; });
    }
  });
}

void PubSubFanout::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    local_ = nullptr;
  }
  stop_cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

void PubSubFanout::Refresh() {
  absl::StatusOr<node::MemberDirectory> members = options_.read_members();
  if (!members.ok()) return;  // keep the last good list; the next refresh tries again
  std::lock_guard<std::mutex> lock(mu_);
  std::map<raft::NodeId, std::shared_ptr<Peer>> next;
  for (const auto& [id, addresses] : *members) {
    // Only members that serve Redis can have subscribers.
    if (id == options_.self || addresses.redis_address.empty()) continue;
    auto it = peers_.find(id);
    if (it != peers_.end() && it->second->address == addresses.raft_address) {
      next.emplace(id, it->second);  // keep the channel and its connection
      continue;
    }
    auto peer = std::make_shared<Peer>();
    peer->address = addresses.raft_address;
    peer->stub = internal::RedisPubSub::NewStub(grpc::CreateChannel(
        addresses.raft_address, options_.peer_credentials ? options_.peer_credentials
                                                          : grpc::InsecureChannelCredentials()));
    next.emplace(id, std::move(peer));
  }
  peers_ = std::move(next);
}

namespace {

// One PUBLISH's fan-out: counts answers, calls `done` once with the sum after the last.
struct Gather {
  Gather(size_t calls, PubSubFanout::Done done) : pending(calls), done(std::move(done)) {}
  void Add(int64_t receivers) {
    total.fetch_add(receivers);
    if (pending.fetch_sub(1) == 1) done(total.load());
  }
  std::atomic<size_t> pending;
  std::atomic<int64_t> total{0};
  PubSubFanout::Done done;
};

struct Call {
  grpc::ClientContext context;
  internal::PubSubMessage request;
  internal::PubSubDelivered response;
  std::shared_ptr<void> peer;  // keeps the stub alive for the call
  std::shared_ptr<Gather> gather;
};

}  // namespace

void PubSubFanout::Publish(std::string channel, std::string message, Done done) {
  std::vector<std::shared_ptr<Peer>> peers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, peer] : peers_) peers.push_back(peer);
  }
  if (peers.empty()) return done(0);
  auto gather = std::make_shared<Gather>(peers.size(), std::move(done));
  for (const std::shared_ptr<Peer>& peer : peers) {
    auto call = std::make_shared<Call>();
    call->context.set_deadline(std::chrono::system_clock::now() + options_.deliver_timeout);
    call->request.set_channel(channel);
    call->request.set_message(message);
    call->peer = peer;
    call->gather = gather;
    peer->stub->async()->Deliver(&call->context, &call->request, &call->response,
                                 [call](grpc::Status status) {
                                   call->gather->Add(status.ok() ? call->response.receivers() : 0);
                                 });
  }
}

}  // namespace ekv::runtime
