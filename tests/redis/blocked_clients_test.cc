// BlockedClients, the per-node state machine of clients blocked in BLPOP and friends,
// driven by hand: runs are recorded and answered by the test, time is passed in.
#include "adapters/redis/blocked_clients.h"

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ekv::redis {
namespace {

using redis_core::Reply;

struct PendingRun {
  std::vector<std::string> args;
  BlockedClients::AttemptDone done;
};

class BlockedClientsTest : public ::testing::Test {
 protected:
  BlockedClientsTest()
      : blocked_(
            [this](const BlockedClients::Args& args, BlockedClients::AttemptDone done) {
              runs_.push_back({args, std::move(done)});
            },
            [this](uint64_t connection, absl::StatusOr<Reply> reply) {
              answers_[connection].push_back(reply.ok() ? DebugString(*reply) : "<failed>");
            },
            BlockedClients::Options{std::chrono::milliseconds(5000)}) {}

  // Answers the oldest run in flight.
  void Answer(Reply reply) {
    ASSERT_FALSE(runs_.empty());
    PendingRun run = std::move(runs_.front());
    runs_.pop_front();
    run.done(std::move(reply));
  }
  static Reply Popped(const std::string& key, const std::string& element) {
    return Reply::Array({Reply::Bulk(key), Reply::Bulk(element)});
  }

  std::deque<PendingRun> runs_;
  std::map<uint64_t, std::vector<std::string>> answers_;
  BlockedClients blocked_;
};

TEST_F(BlockedClientsTest, FirstRunServesAtOnceOrBlocks) {
  blocked_.Add(1, {"blpop", "k", "0"}, {"k"}, 0, 1000);
  ASSERT_EQ(runs_.size(), 1u);
  Answer(Popped("k", "v"));
  EXPECT_EQ(answers_[1], std::vector<std::string>{"[\"k\", \"v\"]"});
  EXPECT_EQ(blocked_.size(), 0u);
  blocked_.Add(2, {"blpop", "k", "0"}, {"k"}, 0, 1000);
  Answer(Reply::NilArray());
  EXPECT_TRUE(answers_[2].empty());
  EXPECT_EQ(blocked_.blocked(), 1u);
  EXPECT_TRUE(runs_.empty()) << "a blocked client does not poll";
  blocked_.Tick(2000);
  EXPECT_TRUE(runs_.empty());
}

TEST_F(BlockedClientsTest, WaitersAreServedInArrivalOrderOneRunAtATime) {
  blocked_.Add(1, {"blpop", "k", "0"}, {"k"}, 0, 1000);
  Answer(Reply::NilArray());
  for (uint64_t c = 2; c <= 3; ++c) blocked_.Add(c, {"blpop", "k", "0"}, {"k"}, 0, 1000);
  EXPECT_TRUE(runs_.empty()) << "later waiters wait for the first to hand over";
  EXPECT_EQ(blocked_.blocked(), 3u);
  blocked_.KeysReady({"k"});
  ASSERT_EQ(runs_.size(), 1u) << "only the first waiter runs";
  blocked_.KeysReady({"k"});
  ASSERT_EQ(runs_.size(), 1u) << "a notice during a run does not start a second one";
  Answer(Popped("k", "a"));
  EXPECT_EQ(answers_[1].size(), 1u);
  ASSERT_EQ(runs_.size(), 1u) << "the served waiter hands over to the next";
  Answer(Popped("k", "b"));
  EXPECT_EQ(answers_[2].size(), 1u);
  ASSERT_EQ(runs_.size(), 1u);
  Answer(Reply::NilArray());  // the list is empty again: waiter 3 stays blocked
  EXPECT_TRUE(runs_.empty());
  EXPECT_TRUE(answers_[3].empty());
  EXPECT_EQ(blocked_.blocked(), 1u);
}

TEST_F(BlockedClientsTest, NoticeDuringAMissedRunRunsAgain) {
  blocked_.Add(1, {"blpop", "k", "0"}, {"k"}, 0, 1000);
  blocked_.KeysReady({"k"});  // the push committed after the first run read
  Answer(Reply::NilArray());
  ASSERT_EQ(runs_.size(), 1u) << "the notice that came during the run is not lost";
  Answer(Popped("k", "v"));
  EXPECT_EQ(answers_[1].size(), 1u);
}

TEST_F(BlockedClientsTest, RunsAfterAMissTakeTheServeForm) {
  blocked_.Add(1, {"BLPOP", "k", "0"}, {"k"}, 0, 1000);
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_.front().args, (std::vector<std::string>{"BLPOP", "k", "0"}))
      << "the first run answers WRONGTYPE as Redis does";
  Answer(Reply::NilArray());
  blocked_.KeysReady({"k"});
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_.front().args, (std::vector<std::string>{"ekv-serve-blpop", "k", "0"}))
      << "a later run waits through a key of another type";
  Answer(Reply::NilArray());
  blocked_.KeysReady({"k"});
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_.front().args.front(), "ekv-serve-blpop");
  Answer(Popped("k", "v"));
  EXPECT_EQ(answers_[1].size(), 1u);
}

TEST_F(BlockedClientsTest, TimeoutAnswersTheMissAndWaitsForARunInFlight) {
  blocked_.Add(1, {"brpoplpush", "k", "d", "0.5"}, {"k"}, 500, 1000);
  Answer(Reply::Nil());
  EXPECT_EQ(blocked_.NextWakeMs(), 1500);
  blocked_.Tick(1499);
  EXPECT_TRUE(answers_[1].empty());
  blocked_.Tick(1500);
  EXPECT_EQ(answers_[1], std::vector<std::string>{"nil-array"}) << "Redis 7.0's timeout reply";
  // A run in flight at the deadline: its element is not dropped.
  blocked_.Add(2, {"blpop", "k", "1"}, {"k"}, 1000, 2000);
  blocked_.Tick(3000);
  EXPECT_TRUE(answers_[2].empty());
  Answer(Popped("k", "late"));
  EXPECT_EQ(answers_[2], std::vector<std::string>{"[\"k\", \"late\"]"});
}

TEST_F(BlockedClientsTest, CancelledWaiterIsSkippedAndErrorsAnswer) {
  blocked_.Add(1, {"blpop", "k", "0"}, {"k"}, 0, 1000);
  Answer(Reply::NilArray());
  blocked_.Add(2, {"blpop", "k", "0"}, {"k"}, 0, 1000);
  EXPECT_TRUE(runs_.empty());
  blocked_.Cancel(1);
  ASSERT_EQ(runs_.size(), 1u) << "the next waiter tries in the cancelled one's place";
  Answer(Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value"));
  EXPECT_EQ(answers_[2].size(), 1u);
  EXPECT_TRUE(answers_[1].empty());
  EXPECT_EQ(blocked_.size(), 0u);
  // Recheck: a lost notice is caught within the period.
  blocked_.Add(3, {"blpop", "k", "0"}, {"k"}, 0, 10000);
  Answer(Reply::NilArray());
  blocked_.Tick(14999);
  EXPECT_TRUE(runs_.empty());
  blocked_.Tick(15000);
  EXPECT_EQ(runs_.size(), 1u);
}

// Issue #21's hang (unit/type/list "BRPOPLPUSH with multiple blocked clients" on a loaded
// machine): two clients block on one list, the first with a destination of another type,
// and a push lands while both first runs are in flight. Runs are separate Raft writes and
// may commit in any order; when the second client's run committed after the push and
// before the first's, it took the element, the first found the list empty and waited
// forever instead of answering WRONGTYPE. The second now runs only once the first hands
// over, as Redis serves them.
TEST_F(BlockedClientsTest, FirstRunsDoNotRaceAnEarlierWaiterForItsKey) {
  blocked_.Add(1, {"brpoplpush", "blist", "target1", "0"}, {"blist"}, 0, 1000);
  blocked_.Add(2, {"brpoplpush", "blist", "target2", "0"}, {"blist"}, 0, 1000);
  ASSERT_EQ(runs_.size(), 1u) << "only the earliest waiter's first run may take the element";
  EXPECT_EQ(runs_.front().args[2], "target1");
  EXPECT_EQ(blocked_.blocked(), 1u) << "the second waits (INFO counts it blocked)";
  blocked_.KeysReady({"blist"});  // the push committed meanwhile
  // Client 1's run saw the push: WRONGTYPE (target1 is a string), the element stays.
  Answer(Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value"));
  ASSERT_EQ(answers_[1].size(), 1u);
  EXPECT_EQ(answers_[1][0].rfind("(error) WRONGTYPE", 0), 0u) << answers_[1][0];
  ASSERT_EQ(runs_.size(), 1u) << "client 1 hands over to client 2";
  EXPECT_EQ(runs_.front().args, (std::vector<std::string>{"brpoplpush", "blist", "target2", "0"}))
      << "the command as sent: its first run";
  Answer(Reply::Bulk("foo"));
  EXPECT_EQ(answers_[2].size(), 1u);
  EXPECT_EQ(blocked_.size(), 0u);

  // Client 1's first run missed (committed before the push): its notice run serves it, and
  // client 2, still waiting behind it, is handed the key after.
  blocked_.Add(3, {"blpop", "k", "0"}, {"k"}, 0, 1000);
  blocked_.Add(4, {"blpop", "k", "0"}, {"k"}, 0, 1000);
  ASSERT_EQ(runs_.size(), 1u);
  blocked_.KeysReady({"k"});
  Answer(Reply::NilArray());
  ASSERT_EQ(runs_.size(), 1u) << "the notice that came during the first run";
  EXPECT_EQ(runs_.front().args.front(), "ekv-serve-blpop");
  Answer(Popped("k", "a"));
  EXPECT_EQ(answers_[3].size(), 1u);
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_.front().args.front(), "blpop") << "client 4's first run";
  Answer(Reply::NilArray());
  EXPECT_TRUE(answers_[4].empty());
  EXPECT_EQ(blocked_.blocked(), 1u);
  // Its timeout and cancel still work while it waits behind nobody now.
  blocked_.Cancel(4);
  EXPECT_EQ(blocked_.size(), 0u);
}

// A waiter queued behind another runs when that one leaves with the key possibly
// non-empty: it disconnected during its run, or timed out during a run that a push's
// notice came in.
TEST_F(BlockedClientsTest, AWaiterBehindRunsWhenTheOneBeforeLeaves) {
  blocked_.Add(1, {"blpop", "k", "0"}, {"k"}, 0, 1000);
  blocked_.Add(2, {"blpop", "k", "0"}, {"k"}, 0, 1000);
  ASSERT_EQ(runs_.size(), 1u);
  blocked_.Cancel(1);  // its first run is in flight
  Answer(Reply::NilArray());
  ASSERT_EQ(runs_.size(), 1u) << "client 2 runs in the place of the one that left";
  EXPECT_EQ(runs_.front().args.front(), "blpop");
  Answer(Reply::NilArray());
  EXPECT_EQ(blocked_.blocked(), 1u);

  blocked_.Add(3, {"blpop", "q", "1"}, {"q"}, 1000, 1000);
  blocked_.Add(4, {"blpop", "q", "0"}, {"q"}, 0, 1000);
  ASSERT_EQ(runs_.size(), 1u);
  blocked_.Tick(2000);        // client 3's deadline falls during its first run
  blocked_.KeysReady({"q"});  // and a push lands after that run read the list
  Answer(Reply::NilArray());  // client 3 times out
  EXPECT_EQ(answers_[3], std::vector<std::string>{"nil-array"});
  ASSERT_EQ(runs_.size(), 1u) << "the push's notice goes to client 4";
  Answer(Popped("q", "v"));
  EXPECT_EQ(answers_[4].size(), 1u);
}

// A sorted set popper first on a key that a push made a list misses; the list poppers
// behind it are served, as Redis serves a key's waiters of its type (before, they waited
// for ever: only the key's first waiter ran, and a miss handed over nothing).
TEST_F(BlockedClientsTest, AMissOfOneTypeHandsOverToWaitersOfTheOther) {
  blocked_.Add(1, {"bzpopmin", "k", "0"}, {"k"}, 0, 1000);
  Answer(Reply::NilArray());
  blocked_.Add(2, {"bzpopmax", "k", "0"}, {"k"}, 0, 1000);  // behind client 1: no run
  blocked_.Add(3, {"blpop", "k", "0"}, {"k"}, 0, 1000);
  Answer(Reply::NilArray());
  blocked_.Add(4, {"brpop", "k", "0"}, {"k"}, 0, 1000);  // behind client 3: no run
  EXPECT_TRUE(runs_.empty());
  blocked_.KeysReady({"k"});  // RPUSH k a b
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_.front().args.front(), "ekv-serve-bzpopmin");
  Answer(Reply::NilArray());  // k is a list
  ASSERT_EQ(runs_.size(), 1u) << "the first list popper after it runs";
  EXPECT_EQ(runs_.front().args.front(), "ekv-serve-blpop");
  Answer(Popped("k", "a"));
  EXPECT_EQ(answers_[3].size(), 1u);
  // Served: the key's first waiter again (client 1, which misses), then client 4.
  ASSERT_EQ(runs_.size(), 1u);
  Answer(Reply::NilArray());
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_.front().args.front(), "brpop") << "client 4's first run";
  Answer(Popped("k", "b"));
  EXPECT_EQ(answers_[4].size(), 1u);
  ASSERT_EQ(runs_.size(), 1u);  // client 1 once more: the list is empty now
  Answer(Reply::NilArray());
  EXPECT_TRUE(runs_.empty());
  EXPECT_TRUE(answers_[1].empty());
  EXPECT_TRUE(answers_[2].empty());
  EXPECT_EQ(blocked_.blocked(), 2u);
}

// A later waiter runs at once when one of its keys has no earlier waiter that pops from it
// (Redis would serve it from that key), and readers (XREAD) and group readers never wait
// behind others: they take nothing another reader is owed.
TEST_F(BlockedClientsTest, OnlyWaitersWhoseEveryKeyIsTakenWaitBehind) {
  blocked_.Add(1, {"blpop", "a", "0"}, {"a"}, 0, 1000);
  blocked_.Add(2, {"blpop", "a", "b", "0"}, {"a", "b"}, 0, 1000);
  EXPECT_EQ(runs_.size(), 2u) << "b has no earlier waiter";
  blocked_.Add(3, {"xread", "block", "0", "streams", "s", "$"}, {"s"}, 0, 1000);
  blocked_.Add(4, {"xread", "block", "0", "streams", "s", "$"}, {"s"}, 0, 1000);
  const std::vector<std::string> group = {"xreadgroup", "group",   "g", "c", "block",
                                          "0",          "streams", "s", ">"};
  blocked_.Add(5, group, {"s"}, 0, 1000);
  blocked_.Add(6, group, {"s"}, 0, 1000);
  EXPECT_EQ(runs_.size(), 6u);
  // Client 7 waits only on a, where clients 1 and 2 wait before it.
  blocked_.Add(7, {"blpop", "a", "0"}, {"a"}, 0, 1000);
  EXPECT_EQ(runs_.size(), 6u);
  // A sorted set popper does not wait behind list poppers: a can hold members for it only
  // when the list poppers have nothing to take (Redis serves each type's waiters alone).
  blocked_.Add(8, {"bzpopmin", "a", "0"}, {"a"}, 0, 1000);
  EXPECT_EQ(runs_.size(), 7u);
}

TEST_F(BlockedClientsTest, KeysReadyNoticeRoundTrips) {
  const std::vector<std::string> keys = {"a", std::string("\0b", 2), ""};
  EXPECT_EQ(DecodeKeysReady(EncodeKeysReady(keys)), keys);
  EXPECT_FALSE(DecodeKeysReady("\x05").has_value());
  EXPECT_EQ(KeysMadeReady({"LPUSH", "k", "v"}), std::vector<std::string>{"k"});
  EXPECT_EQ(KeysMadeReady({"lmove", "s", "d", "left", "right"}), std::vector<std::string>{"d"});
  EXPECT_TRUE(KeysMadeReady({"get", "k"}).empty());
  // Deletions answer blocked consumer group readers.
  EXPECT_EQ(KeysMadeReady({"DEL", "a", "b"}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(KeysMadeReady({"rename", "s", "d"}), (std::vector<std::string>{"s", "d"}));
  EXPECT_EQ(KeysMadeReady({"xgroup", "DESTROY", "s", "g"}), std::vector<std::string>{"s"});
  EXPECT_TRUE(KeysMadeReady({"xgroup", "setid", "s", "g", "0"}).empty());
  EXPECT_EQ(KeysMadeReady({"FLUSHALL"}), std::vector<std::string>{std::string(kEveryKeyNotice)});
}

// A stream reader woken by a notice reads only the noticed stream, and notices that come
// during a run are run for afterwards one key at a time, in the order they came.
TEST_F(BlockedClientsTest, StreamReaderRunsForEachNoticedKeyInOrder) {
  blocked_.Add(1,
               {"xread", "count", "2", "block", "0", "streams", "a", "b", "c", "1-0", "2-0", "3-0"},
               {"a", "b", "c"}, 0, 1000);
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_.front().args.front(), "xread") << "the first run reads every stream";
  Answer(Reply::NilArray());
  blocked_.KeysReady({"c", "a", "b"});
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_.front().args, (std::vector<std::string>{"ekv-serve-xread", "count", "2", "block",
                                                          "0", "streams", "c", "3-0"}));
  blocked_.KeysReady({"b"});  // already noticed: not run twice
  Answer(Reply::NilArray());
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_.front().args.back(), "1-0") << "then a, as noticed";
  Answer(Reply::NilArray());
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_.front().args.back(), "2-0");
  Answer(Reply::NilArray());
  EXPECT_TRUE(runs_.empty());
  // Every key (FLUSHALL): each of its streams in turn.
  blocked_.KeysReady({std::string(kEveryKeyNotice)});
  ASSERT_EQ(runs_.size(), 1u);
  Answer(Reply::NilArray());
  Answer(Reply::NilArray());
  Answer(Reply::NilArray());
  EXPECT_TRUE(runs_.empty());
  EXPECT_EQ(blocked_.blocked(), 1u);
}

// A pop is served from the key noticed, one key at a time; a waiter served while more
// notices waited hands them to the next waiters on those keys.
TEST_F(BlockedClientsTest, PopsRunForTheNoticedKeyAndPassOnTheRest) {
  blocked_.Add(1, {"blpop", "a", "b", "0"}, {"a", "b"}, 0, 1000);
  Answer(Reply::NilArray());
  // Client 2 also waits on c, which nobody before it waits on: it runs at once.
  blocked_.Add(2, {"brpop", "b", "a", "c", "0"}, {"a", "b", "c"}, 0, 1000);
  Answer(Reply::NilArray());
  blocked_.KeysReady({"b", "a"});
  ASSERT_EQ(runs_.size(), 1u) << "both keys' first waiter is client 1";
  EXPECT_EQ(runs_.front().args, (std::vector<std::string>{"ekv-serve-blpop", "b", "0"}));
  Answer(Popped("b", "x"));
  EXPECT_EQ(answers_[1].size(), 1u);
  // b's next waiter, then a's notice, which client 1 never ran for: both go to client 2.
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_.front().args, (std::vector<std::string>{"ekv-serve-brpop", "b", "0"}));
  Answer(Reply::NilArray());
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_.front().args, (std::vector<std::string>{"ekv-serve-brpop", "a", "0"}));
  Answer(Popped("a", "y"));
  EXPECT_EQ(answers_[2].size(), 1u);
  EXPECT_TRUE(runs_.empty());
  // A move has one source: notices during a run make one more run.
  blocked_.Add(3, {"blmove", "s", "d", "left", "left", "0"}, {"s"}, 0, 1000);
  Answer(Reply::NilArray());
  blocked_.KeysReady({"s"});
  blocked_.KeysReady({"s"});
  ASSERT_EQ(runs_.size(), 1u);
  EXPECT_EQ(runs_.front().args.front(), "ekv-serve-blmove");
  Answer(Reply::NilArray());
  ASSERT_EQ(runs_.size(), 1u);
  Answer(Reply::NilArray());
  EXPECT_TRUE(runs_.empty());
}

// XREAD only reads: a write that makes its stream ready runs every reader waiting on it,
// including those after one whose ids the new entry does not pass (a reader served takes
// nothing from the others).
TEST_F(BlockedClientsTest, ReadersOfAStreamAllRunWhenItIsReady) {
  blocked_.Add(1, {"xread", "block", "0", "streams", "s", "100-0"}, {"s"}, 0, 1000);
  blocked_.Add(2, {"xread", "block", "0", "streams", "s", "1-0"}, {"s"}, 0, 1000);
  blocked_.Add(3, {"xread", "block", "0", "streams", "s", "1-0"}, {"s"}, 0, 1000);
  ASSERT_EQ(runs_.size(), 3u);
  for (int i = 0; i < 3; ++i) Answer(Reply::NilArray());
  EXPECT_EQ(blocked_.blocked(), 3u);
  blocked_.KeysReady({"s"});
  ASSERT_EQ(runs_.size(), 3u) << "every reader runs, not only the first";
  EXPECT_EQ(runs_[0].args.front(), "ekv-serve-xread");
  Answer(Reply::NilArray());  // reader 1 waits past the new entry
  const Reply entries = Reply::KeyedMap({Reply::Bulk("s"), Reply::Array()});
  Answer(entries);
  Answer(entries);
  EXPECT_TRUE(runs_.empty()) << "a served reader hands over to nobody";
  EXPECT_TRUE(answers_[1].empty());
  EXPECT_EQ(answers_[2].size(), 1u);
  EXPECT_EQ(answers_[3].size(), 1u);
  EXPECT_EQ(blocked_.blocked(), 1u);
}

// XREADGROUP waiters of different groups: a miss (the entry went to another consumer of
// the same group) hands over to the next waiter, which may read another group.
TEST_F(BlockedClientsTest, GroupReadersPassOnAfterAMiss) {
  const std::vector<std::string> g1 = {"xreadgroup", "group",   "g", "c1", "block",
                                       "0",          "streams", "s", ">"};
  std::vector<std::string> g2 = g1;
  g2[3] = "c2";
  std::vector<std::string> h = g1;
  h[2] = "h";
  blocked_.Add(1, g1, {"s"}, 0, 1000);
  blocked_.Add(2, g2, {"s"}, 0, 1000);
  blocked_.Add(3, h, {"s"}, 0, 1000);
  for (int i = 0; i < 3; ++i) Answer(Reply::NilArray());
  EXPECT_TRUE(runs_.empty()) << "first runs that miss hand over nothing";
  blocked_.KeysReady({"s"});
  ASSERT_EQ(runs_.size(), 1u) << "writers run one at a time";
  const Reply entries = Reply::KeyedMap({Reply::Bulk("s"), Reply::Array()});
  Answer(entries);              // c1 of g gets the entry
  ASSERT_EQ(runs_.size(), 1u);  // c2 of g runs
  Answer(Reply::NilArray());    // and misses: the entry went to c1
  ASSERT_EQ(runs_.size(), 1u) << "a group reader's miss hands over";
  Answer(entries);  // c3 of h gets it too
  // A served waiter hands over to the key's first: c2 again, which misses, and nobody is
  // left after it.
  ASSERT_EQ(runs_.size(), 1u);
  Answer(Reply::NilArray());
  EXPECT_TRUE(runs_.empty());
  EXPECT_EQ(answers_[1].size(), 1u);
  EXPECT_TRUE(answers_[2].empty());
  EXPECT_EQ(answers_[3].size(), 1u);
  EXPECT_EQ(blocked_.blocked(), 1u);
}

}  // namespace
}  // namespace ekv::redis
