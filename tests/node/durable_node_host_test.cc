// NodeHost over a durable state machine: a restart may find the state ahead of what the
// Raft log says is committed (entries are applied once a quorum has them, before this
// node's own commit index is durable). NodeHost must skip those entries -- applying an
// increment twice would show -- while still replaying their configuration changes into
// Raft, or the group would not even know its voters.
#include <memory>
#include <string>
#include <vector>

#include "core/kv/kv_command.h"
#include "core/node/group_protocol.h"
#include "core/node/group_state_machine.h"
#include "core/node/node_host.h"
#include "gtest/gtest.h"
#include "tests/node/disk_engine.h"

namespace ekv::node {
namespace {

constexpr raft::GroupId kGroup = 1;

// One node, one group, instant durable writes; the durable Raft state is mirrored into a
// MemoryStorage the test can restart from.
class SingleNode {
 public:
  SingleNode(Disk* disk, std::unique_ptr<raft::MemoryStorage> storage, uint64_t incarnation,
             raft::MemoryStorage* durable_mirror)
      : durable_mirror_(durable_mirror) {
    NodeHostOptions options;
    options.node_id = 1;
    options.incarnation = incarnation;
    options.snapshot_interval_entries = 0;
    options.raft.election_tick = 10;
    options.raft.heartbeat_tick = 1;
    host_ = std::make_unique<NodeHost>(options);
    absl::Status added =
        host_->AddGroup(kGroup, std::move(storage),
                        std::make_unique<GroupStateMachine>(kGroup, std::nullopt, std::nullopt,
                                                            std::make_unique<DiskEngine>(disk)));
    EXPECT_TRUE(added.ok()) << added;
  }

  NodeHost& host() { return *host_; }

  void Pump() {
    for (int round = 0; round < 100; ++round) {
      Effects effects = host_->TakeEffects();
      if (effects.empty()) return;
      for (const PersistRequest& persist : effects.persists) {
        EXPECT_TRUE(durable_mirror_->Persist(persist.batch).ok());
        host_->OnPersisted(persist.group, persist.batch.ready_id);
      }
      for (ClientReply& reply : effects.replies) replies_.push_back(std::move(reply));
    }
    FAIL() << "node did not quiesce";
  }

  bool BecomeLeader() {
    EXPECT_TRUE(host_->Campaign(kGroup).ok());
    for (int i = 0; i < 20 && host_->Status(kGroup).state != raft::StateType::kLeader; ++i) {
      host_->Tick();
      Pump();
    }
    Pump();
    return host_->Status(kGroup).state == raft::StateType::kLeader;
  }

  ReplyStatus Increment(const std::string& key) {
    kv::IncrementCommand increment;
    increment.key = key;
    increment.delta = 1;
    GroupCommand command;
    command.op = GroupCommandOp::kKv;
    command.physical_ms = 1000;
    command.payload = kv::EncodeKvCommand(increment);
    ClientRequest request;
    request.request_id = ++next_request_;
    request.group = kGroup;
    request.kind = OpKind::kApply;
    request.value = EncodeGroupCommand(command);
    host_->SubmitClientRequest(request);
    Pump();
    for (const ClientReply& reply : replies_) {
      if (reply.request_id == request.request_id) return reply.status;
    }
    ADD_FAILURE() << "no reply";
    return ReplyStatus::kFailed;
  }

  std::optional<std::string> Value(const std::string& key) {
    return host_->state_machine(kGroup).Read(key);
  }

 private:
  std::unique_ptr<NodeHost> host_;
  raft::MemoryStorage* durable_mirror_;
  std::vector<ClientReply> replies_;
  uint64_t next_request_ = 0;
};

std::unique_ptr<raft::MemoryStorage> CopyOf(const raft::MemoryStorage& from, raft::Index commit) {
  auto copy = std::make_unique<raft::MemoryStorage>();
  const absl::StatusOr<std::vector<raft::Entry>> entries =
      from.Entries(1, from.LastIndex() + 1, raft::kNoLimit);
  EXPECT_TRUE(entries.ok());
  EXPECT_TRUE(copy->Append(*entries).ok());
  raft::HardState hard_state = from.hard_state();
  hard_state.commit = commit;
  copy->SetHardState(hard_state);
  return copy;
}

TEST(DurableNodeHostTest, ARestartAheadOfTheCommittedLogSkipsWhatTheStateHolds) {
  Disk disk;
  raft::MemoryStorage durable_log;
  raft::Index applied_before = 0;
  {
    auto storage = std::make_unique<raft::MemoryStorage>();
    ASSERT_TRUE(raft::RawNode::Bootstrap(*storage, {1}).ok());
    ASSERT_TRUE(raft::RawNode::Bootstrap(durable_log, {1}).ok());
    SingleNode node(&disk, std::move(storage), /*incarnation=*/1, &durable_log);
    ASSERT_TRUE(node.BecomeLeader());
    for (int i = 0; i < 5; ++i) ASSERT_EQ(node.Increment("counter"), ReplyStatus::kOk);
    EXPECT_EQ(node.Value("counter"), "5");
    applied_before = node.host().Status(kGroup).applied;
  }
  // The durable commit index lags: only the bootstrap configuration is known committed.
  // The state machine on disk holds everything up to applied_before.
  SingleNode restarted(&disk, CopyOf(durable_log, /*commit=*/1), /*incarnation=*/2, &durable_log);
  EXPECT_EQ(restarted.host().Status(kGroup).applied, applied_before);
  EXPECT_EQ(restarted.Value("counter"), "5");
  // Campaigning needs the voter set from the replayed configuration entries.
  ASSERT_TRUE(restarted.BecomeLeader());
  EXPECT_EQ(restarted.Value("counter"), "5");  // nothing applied twice
  ASSERT_EQ(restarted.Increment("counter"), ReplyStatus::kOk);
  EXPECT_EQ(restarted.Value("counter"), "6");
}

}  // namespace
}  // namespace ekv::node
