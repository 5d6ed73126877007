// BlockedClients: the clients of one node blocked in BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
// BLMPOP, BZPOPMIN, BZPOPMAX or BZMPOP, and when each tries again. Single-threaded: the
// server's event loop owns it and calls it (attempt answers included) on its thread.
//
// A blocked client never polls. Its command runs as one replicated write in the owning
// group (the executor's non-blocking form: it pops, or answers nil and writes nothing),
// so two clients, on one node or on two, never both get one element. Runs happen:
//   - once when the client arrives (after it is queued on its keys, so a push that
//     commits after this run's miss is also one whose notice finds the client queued),
//     unless every key it waits on has an earlier waiter that pops from it: then it waits
//     for them to hand over, so a push that lands while first runs race goes to the
//     earliest client, as in Redis;
//   - when a key it waits on is reported ready (KeysReady: a push, LMOVE, ZADD, ...
//     answered on this node or, through the pub/sub fan-out, on any other node): the
//     key's first waiter runs, and each waiter that got something hands over to the next,
//     so clients are served in arrival order per key (FIFO among this node's clients;
//     across nodes, whichever node's run commits first). A waiter whose command only reads
//     (XREAD) takes nothing from the key: every such waiter on the key runs; one whose miss
//     says nothing for the others (XREADGROUP: another group may have entries) hands over
//     after a miss too. A notice's run reads only the key the notice named
//     (redis_core::ServeOnKey; BLMOVE and BRPOPLPUSH have one source anyway): Redis 7.0
//     serves a woken client from the signalled key alone, and notices are served in the
//     order the writes made them;
//   - every `recheck` for each key's first waiter, a safety net for a notice lost with an
//     unreachable peer, not the way clients are woken.
// A waiter has at most one run in flight; a notice during a run makes it run again (for
// each key noticed, in order, when its runs name one key) when the answer is a miss. A timeout that
// falls during a run waits for that run's answer (which may carry an element: the client then gets
// it rather than losing it).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/redis/reply.h"

namespace ekv::redis {

// The pub/sub fan-out channel that carries key-ready notices between nodes. It starts
// with a NUL byte, which no client channel practically does; deliveries on it from peers
// wake blocked clients and reach no subscriber.
inline constexpr absl::string_view kKeysReadyChannel("\0ekv:keys-ready", 15);
// A notice for every key (FLUSHALL, FLUSHDB): every waiter's keys are served. A NUL byte
// first too; a client key spelt so only causes a needless round of runs.
inline constexpr absl::string_view kEveryKeyNotice("\0ekv:every-key", 14);
std::string EncodeKeysReady(const std::vector<std::string>& keys);
std::optional<std::vector<std::string>> DecodeKeysReady(absl::string_view message);
// The keys a successful write command may have turned into a non-empty list, sorted set
// or stream, i.e. those whose blocked clients may now be served (LPUSH's key, LMOVE's
// destination, ZADD's key, XADD's, RENAME's target, SORT's STORE destination, the KEYS of
// EVAL and EVALSHA, ...), and those it may have deleted under a blocked consumer group
// reader, which Redis 7.0 answers with an error (DEL, UNLINK, RENAME's source, XGROUP
// DESTROY; FLUSHALL and FLUSHDB: kEveryKeyNotice). A stream overwritten by another type
// (SET, RESTORE ... REPLACE) or expired is noticed by the waiters' re-check instead: those
// writes are too common to fan out a notice each. Lower-case or not.
std::vector<std::string> KeysMadeReady(const std::vector<std::string>& args);

class BlockedClients {
 public:
  using Args = std::vector<std::string>;
  using AttemptDone = std::function<void(absl::StatusOr<redis_core::Reply>)>;
  // Runs a blocking command once (as the replicated write it is); `done` must be called
  // on the owner's thread, once, or never when the owner shut down.
  using Attempt = std::function<void(const Args& args, AttemptDone done)>;
  // Answers the connection's command (the reply as the executor gave it, or a failure).
  using Answer = std::function<void(uint64_t connection_id, absl::StatusOr<redis_core::Reply>)>;

  struct Options {
    std::chrono::milliseconds recheck{5000};
  };

  BlockedClients(Attempt attempt, Answer answer, Options options);

  // A connection's blocking command: queued on its keys, and run once at once. `now_ms`
  // and deadlines are the owner's monotonic clock; timeout_ms 0 waits forever.
  void Add(uint64_t connection_id, Args args, std::vector<std::string> keys, uint64_t timeout_ms,
           int64_t now_ms);
  // Data may have arrived at these keys: their first waiters run.
  void KeysReady(const std::vector<std::string>& keys);
  // Times out waiters whose deadline passed and runs the safety re-check when due.
  void Tick(int64_t now_ms);
  // When Tick next has something to do (nullopt: nothing waits).
  std::optional<int64_t> NextWakeMs() const;
  // The connection closed: its waiter is forgotten (a run in flight is ignored).
  void Cancel(uint64_t connection_id);
  // CLIENT UNBLOCK: the connection's waiter is answered now, as a timeout would answer it
  // or (error) with Redis's "UNBLOCKED" error; a run in flight answers first when it got
  // something. False when the connection waits for nothing.
  bool Unblock(uint64_t connection_id, bool error);
  // Shutdown: forgets every waiter without a run in flight and returns their
  // connections (which will get no answer).
  std::vector<uint64_t> CancelIdle();

  bool Has(uint64_t connection_id) const { return by_connection_.count(connection_id) != 0; }
  // Waiters whose last run missed: INFO's blocked_clients.
  size_t blocked() const;
  size_t size() const { return waiters_.size(); }

 private:
  struct Waiter {
    uint64_t connection_id = 0;
    Args args;
    std::vector<std::string> keys;
    int64_t deadline_ms = 0;  // 0: none
    bool running = false;     // a run is in flight
    // Keys noticed during the run, each to run again for after a miss (in notice order;
    // at most one for a command that reads all its keys each run).
    std::deque<std::string> notices;
    // The key of the run in flight when a notice started it (nullopt: the first run).
    std::optional<std::string> run_key;
    bool ran = false;            // its first run (the command as sent) started
    bool missed = false;         // the last run found nothing, or it queued behind others
    bool cancelled = false;      // the connection is gone; only a run in flight keeps it
    bool unblock_error = false;  // CLIENT UNBLOCK ... ERROR: the timeout answers the error
    bool shared = false;         // its command only reads (XREAD): runs with its key's others
    // XREADGROUP: its miss says nothing of what the key holds for another group, so a
    // miss after a notice hands over to the next waiter as a success does.
    bool passes_on_miss = false;
    bool one_key = false;  // a notice's run reads only the noticed key (ServesOneKey)
    char takes = 0;        // TakenKind of its command
  };

  // Runs the waiter: the command as sent the first time, then the serve form for `key` (a
  // notice's; nullopt: every key).
  void Run(uint64_t id, std::optional<std::string> key);
  // A notice for `key` reached the waiter: it runs now, or after its run in flight.
  void Notice(uint64_t id, const std::string& key);
  void OnRun(uint64_t id, absl::StatusOr<redis_core::Reply> result);
  // Answers (unless cancelled) and forgets the waiter; its keys' next waiters run.
  // `run_key`: the noticed key of the run that answered, whose next waiters run.
  void Finish(uint64_t id, std::optional<absl::StatusOr<redis_core::Reply>> answer,
              const std::optional<std::string>& run_key = std::nullopt);
  void TimeOut(uint64_t id);
  void Serve(const std::string& key);
  // Runs the first waiter queued on `key` after waiter `after` (not 0: the first whose
  // TakenKind is not `unlike`).
  void ServeAfter(const std::string& key, uint64_t after, char unlike = 0);
  void Forget(uint64_t id);
  // What a blocking command's runs take from its keys: 'l' list elements (BLPOP, BRPOP,
  // BLMOVE, BRPOPLPUSH, BLMPOP), 'z' sorted set members (BZPOPMIN, BZPOPMAX, BZMPOP), 0
  // nothing another waiter is owed (XREAD reads; XREADGROUP's groups have their own).
  static char TakenKind(absl::string_view name);
  // Whether a waiter that takes `kind` is queued on `key` (and not cancelled). A waiter of
  // the other kind does not count: the key can hold only one type, which Redis serves to
  // its own waiters only.
  bool HasTakerQueued(const std::string& key, char kind) const;

  Attempt attempt_;
  Answer answer_;
  Options options_;
  uint64_t next_id_ = 1;
  int64_t now_ms_ = 0;
  int64_t next_recheck_ms_ = 0;
  std::map<uint64_t, Waiter> waiters_;
  std::map<uint64_t, uint64_t> by_connection_;          // connection id -> waiter id
  std::map<std::string, std::deque<uint64_t>> queues_;  // key -> waiters in arrival order
  std::set<std::pair<int64_t, uint64_t>> deadlines_;    // (deadline, waiter id)
};

}  // namespace ekv::redis
