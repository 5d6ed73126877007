// RaftTransport over loopback gRPC: a forwarded proposal (MsgProp) that cannot reach its
// peer must be reported undelivered, never dropped without a word. Raft never resends a
// proposal, so a silently lost one leaves its client waiting out its deadline and told
// "outcome unknown" (seen in ClusterTest.QuickstartWritesAnywhereReadsEverywhere: a write
// forwarded in the first second after a cluster started went into a stream to a peer its
// node had not connected to yet).
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "runtime/transport/raft_transport.h"
#include "tests/integration/process_cluster.h"

namespace ekv::integration {
namespace {

using std::chrono::seconds;

// Proposals seen on either side: delivered to the peer, or reported undelivered.
class ProposalLedger {
 public:
  void Delivered(const std::vector<raft::Message>& messages) { Note(messages, &delivered_); }
  void Undelivered(const std::vector<raft::Message>& messages) { Note(messages, &undelivered_); }

  // Waits until `done` holds (checked under the lock), at most `timeout`.
  template <typename Done>
  bool WaitFor(seconds timeout, Done done) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done(delivered_, undelivered_); });
  }

  std::string Describe() {
    std::lock_guard<std::mutex> lock(mu_);
    return absl::StrCat(delivered_.size(), " delivered, ", undelivered_.size(),
                        " reported undelivered");
  }

 private:
  void Note(const std::vector<raft::Message>& messages, std::set<std::string>* into) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const raft::Message& m : messages) {
        if (m.type != raft::MessageType::kProp) continue;
        for (const raft::Entry& entry : m.entries) into->insert(entry.data);
      }
    }
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> delivered_;
  std::set<std::string> undelivered_;
};

std::vector<raft::Message> Proposal(const std::string& data) {
  raft::Message m;
  m.group = 1;
  m.type = raft::MessageType::kProp;
  m.from = 1;
  m.to = 2;
  raft::Entry entry;
  entry.data = data;
  m.entries.push_back(std::move(entry));
  std::vector<raft::Message> messages;
  messages.push_back(std::move(m));
  return messages;
}

TEST(RaftTransportTest, AProposalForAPeerNotListeningYetIsReportedUndeliveredNotLost) {
  const std::string address = absl::StrCat("127.0.0.1:", PickFreePorts(1).front());
  ProposalLedger ledger;
  runtime::RaftTransport sender(1, {{2, address}}, runtime::TransportOptions{});
  sender.SetUndeliveredHandler([&ledger](raft::NodeId, std::vector<raft::Message> proposals) {
    ledger.Undelivered(proposals);
  });
  sender.Start();

  // Nobody listens at the peer's address yet.
  ASSERT_EQ(sender.Send(2, Proposal("before")), 0u);
  ASSERT_TRUE(ledger.WaitFor(
      seconds(10),
      [](const auto&, const auto& undelivered) { return undelivered.count("before") != 0; }))
      << "a proposal for a peer nobody listens at was neither delivered nor reported: "
      << ledger.Describe();

  // The peer starts: proposals reach it; until they do, each is reported undelivered.
  runtime::RaftTransport receiver(2, {}, runtime::TransportOptions{});
  receiver.SetHandlers(
      [&ledger](raft::NodeId, std::vector<raft::Message> messages) { ledger.Delivered(messages); },
      nullptr, nullptr);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  builder.RegisterService(receiver.service());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr) << "cannot listen at " << address;
  int sent = 0;
  bool delivered = false;
  const auto give_up = std::chrono::steady_clock::now() + seconds(30);
  while (!delivered && std::chrono::steady_clock::now() < give_up) {
    const std::string data = absl::StrCat("after-", sent++);
    ASSERT_EQ(sender.Send(2, Proposal(data)), 0u);
    delivered = ledger.WaitFor(
        seconds(1), [&data](const auto& in, const auto&) { return in.count(data) != 0; });
  }
  EXPECT_TRUE(delivered) << "no proposal reached the peer 30 s after it listened: "
                         << ledger.Describe();
  // Every proposal sent is accounted for: delivered or reported, none lost on the way.
  EXPECT_TRUE(ledger.WaitFor(seconds(10),
                             [sent](const auto& in, const auto& undelivered) {
                               for (int i = 0; i < sent; ++i) {
                                 const std::string data = absl::StrCat("after-", i);
                                 if (in.count(data) == 0 && undelivered.count(data) == 0)
                                   return false;
                               }
                               return true;
                             }))
      << sent << " proposals sent after the peer listened: " << ledger.Describe();
  sender.Stop();
  receiver.Stop();
  server->Shutdown();
}

}  // namespace
}  // namespace ekv::integration
