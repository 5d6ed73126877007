// Lock resolution when the hybrid clock runs ahead of the wall clock (coordinator_txn.cc,
// "Lock age"): a reader that meets an orphaned lock whose start_ts is a minute ahead of
// every wall clock must see it expire after the lock's TTL of its own time, not a minute
// later. Driven by a fake group that answers a transactional Get with the lock until
// CheckTxnStatus, judging the TTL exactly as the group does (PhysicalMs(start_ts) + ttl
// <= current_ms), rolls the lock's transaction back.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/coord/coordinator.h"
#include "core/kv/kv_command.h"
#include "core/kv/timestamp.h"
#include "core/node/group_protocol.h"
#include "core/route/catalog.h"
#include "gtest/gtest.h"

namespace ekv::coord {
namespace {

constexpr raft::NodeId kSelf = 1;
constexpr raft::GroupId kGroup = 1;
constexpr uint64_t kWallStartMs = 1'000'000;
constexpr uint64_t kLockTtlMs = 500;
// The lock's start_ts, a minute ahead of the wall clock (a failover storm's clock).
constexpr uint64_t kLockStartMs = kWallStartMs + 60'000;

class LockedKeyDriver : public GroupView {
 public:
  LockedKeyDriver() {
    CoordinatorOptions options;
    options.node_id = kSelf;
    options.catalog_group = kGroup;
    options.request_timeout_us = 20'000'000;
    options.attempt_timeout_us = 1'000'000;
    options.seed = 7;
    coordinator_ = std::make_unique<Coordinator>(options, this);
    coordinator_->SetTime(now_us_, WallMs());
    absl::StatusOr<route::RouteCatalog> catalog =
        route::RouteCatalog::Bootstrap({route::InitialRange{"", "", kGroup}});
    EXPECT_TRUE(catalog.ok()) << catalog.status();
    coordinator_->OnCatalog(*catalog);
  }

  bool Hosts(raft::GroupId group) const override { return group == kGroup; }
  raft::NodeId LeaderOf(raft::GroupId group) const override {
    return group == kGroup ? kSelf : raft::kNoNode;
  }
  std::map<raft::GroupId, raft::ConfState> Configurations() const override { return {}; }

  // Every current_ms a CheckTxnStatus carried, in order.
  std::vector<uint64_t> checked_at_ms;
  bool rolled_back = false;

  OpResult Run(const std::function<OpId(Coordinator&)>& start) {
    const OpId op = start(*coordinator_);
    std::multimap<uint64_t, TimerId> timers;
    for (int guard = 0; guard < 100'000; ++guard) {
      Effects effects = coordinator_->TakeEffects();
      for (OpDone& done : effects.done) {
        if (done.op == op) return std::move(done.result);
      }
      for (const TimerRequest& timer : effects.timers) timers.emplace(timer.at_us, timer.timer);
      if (!effects.calls.empty()) {
        for (const GroupCall& call : effects.calls) {
          now_us_ += 1'000;
          coordinator_->SetTime(now_us_, WallMs());
          Reply(call);
        }
        continue;
      }
      if (timers.empty()) break;
      auto next = timers.begin();
      now_us_ = std::max(now_us_, next->first);
      const TimerId timer = next->second;
      timers.erase(next);
      coordinator_->SetTime(now_us_, WallMs());
      coordinator_->OnTimer(timer);
    }
    ADD_FAILURE() << "operation did not finish";
    return OpResult{};
  }

  uint64_t now_us() const { return now_us_; }

 private:
  uint64_t WallMs() const { return kWallStartMs + now_us_ / 1000; }

  void Reply(const GroupCall& call) {
    node::ClientReply reply;
    reply.group = call.request.group;
    reply.status = node::ReplyStatus::kOk;
    node::GroupResult result;
    if (call.request.kind == node::OpKind::kQuery) {
      // A transactional Get of the locked key: the lock, until it is rolled back.
      if (!rolled_back) {
        node::GroupKeyError locked;
        locked.key = "k";
        locked.message = "key is locked";
        locked.retryable = true;
        locked.lock_primary = "k";
        locked.lock_start_ts = kLockStartMs << kv::kLogicalBits;
        locked.lock_ttl_ms = kLockTtlMs;
        result.code = absl::StatusCode::kUnavailable;
        result.message = "KeyIsLocked";
        result.key_errors.push_back(locked);
      }
    } else {
      absl::StatusOr<node::GroupCommand> command = node::DecodeGroupCommand(call.request.value);
      EXPECT_TRUE(command.ok()) << command.status();
      absl::StatusOr<kv::KvCommand> kv = kv::DecodeKvCommand(command->payload);
      EXPECT_TRUE(kv.ok()) << kv.status();
      if (const auto* check = std::get_if<kv::CheckTxnStatusCommand>(&*kv)) {
        checked_at_ms.push_back(check->current_ms);
        const bool expired = kv::PhysicalMs(check->start_ts) + kLockTtlMs <= check->current_ms;
        if (expired) rolled_back = true;
        result.txn_status = static_cast<uint8_t>(expired ? kv::TxnStatusKind::kRolledBack
                                                         : kv::TxnStatusKind::kLocked);
      }
      // ResolveLock (and anything else): applied.
    }
    reply.value = node::EncodeGroupResult(result);
    coordinator_->OnCallReply(call.call, reply);
  }

  std::unique_ptr<Coordinator> coordinator_;
  uint64_t now_us_ = 1'000'000;
};

TEST(LockAgeTest, AnOrphanedLockAheadOfTheWallClockExpiresAfterItsTtlOfTheReadersTime) {
  LockedKeyDriver driver;
  const uint64_t started_us = driver.now_us();
  const OpResult result = driver.Run([](Coordinator& c) { return c.StartTxnGet("k", 5); });
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_TRUE(driver.rolled_back);
  ASSERT_FALSE(driver.checked_at_ms.empty());
  // The first check finds the lock alive: it is new to the reader.
  EXPECT_LT(driver.checked_at_ms.front(), kLockStartMs + kLockTtlMs);
  // Resolved within a few TTLs of the reader's time, not after the minute the wall clock
  // needs to reach the lock's start_ts.
  EXPECT_LT(driver.now_us() - started_us, 10 * kLockTtlMs * 1000)
      << "checks at " << testing::PrintToString(driver.checked_at_ms);
}

}  // namespace
}  // namespace ekv::coord
