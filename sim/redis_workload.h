// The redis workload's client operations (--workload redis): real Redis requests
// (redis_core::RedisRequest, core/redis/request.h) sent exactly as the Redis front door
// sends them (adapters/redis/coordinator_backend.cc): a request with a write is
// Coordinator::StartKvCommand (one Raft entry, run by the executor at apply time), a
// read is StartKvQuery (at a linearizable read point); EXEC is one request with
// `transaction` set. Every request is built on the node whose coordinator runs it, with
// that node's wall clock as its time, as the front door does.
//
// Three kinds of operations, each with its checker (sim/checkers/):
//   lists     MULTI, RPUSH k v (unique values) / LRANGE k 0 -1 on 1-3 keys, EXEC (or one
//             such command alone): checkers::CheckListAppend, strict serializability;
//   counters  INCR / INCRBY k d, GET k: checkers::CheckCounters, exact counts; after the
//             chaos phase every counter is read once more (a final read, retried until
//             it answers);
//   expiry    SET k v [PX t], PEXPIRE/EXPIRE k t, and GET k alone or in a read-only EXEC
//             with EXISTS, PTTL, TTL or PEXPIRETIME: checkers::CheckExpiry, no read of an
//             expired key (expiry.h says exactly what is assumed and checked);
//   scratch   hashes rewritten whole as generations, EXEC [DEL k, HSET k f0 g .. f<n-1> g,
//             PEXPIRE k t (sometimes)], read by EXEC [HGETALL k, HLEN k]: a read sees one
//             generation whole (its n fields, every value g, HLEN n) or nothing. They feed
//             the cleanup with dead versions and expired collections;
//   pipelines 2-8 one-key commands of the parts above (RPUSH / LRANGE of a list key, INCR /
//             INCRBY / GET of a counter, SET PX / GET of an expiring string) sent as one
//             Coordinator::StartRedisPipeline (coordinator_redis_pipeline.cc, the front
//             door's path for a connection's pipelined commands): each command is its own
//             operation for its part's checker, invoked when the pipeline is sent and
//             completed when it answers;
//   pairs     MSET e<i> v r<i> v (one key in each group: the one-command EXEC over groups of
//             coordinator_redis_cross.cc) and MGET e<i> r<i> (the same path): each key is a
//             string for checkers::CheckExpiry (values unique per key, no expiry), and an
//             MGET must answer the two keys equal (both nil, or one MSET's value): MSET is
//             atomic over the groups and MGET reads them at one point;
//   cleanup   one background cleanup pass (core/redis/cleanup.h) on a group, resuming from
//             where that group's last pass stopped (from the start after a failure), as
//             the server's GcScheduler drives them: removing a live element breaks the
//             list or the scratch check, removing too little is not judged.
//
// Keys: lists a0..a5 and n0..n5, counters b0..b2 and o0..o2, expiring strings c0..c2 and
// p0..p2 (EXPIREs only on c2 and p2), scratch hashes d0..d1 and q0..q1, pairs e0/r0, e1/r1; those
// before "m" start on group 1, the rest on group 2, and splits keep a route's halves in its group.
// One EXEC's keys are of one group unless `cross_group_exec`; a CROSSSLOT answer (today's answer to
// an EXEC across groups) is a definite failure, counted.
//
// Outcomes as the other kv workloads: acknowledged; failed (the coordinator or group
// said it certainly had no effect, or a read did not answer); unknown (a write whose
// outcome the coordinator could not learn, or no answer in the client's patience). A
// reply no Redis would give to these commands (wrong shape, an unexpected error) is a
// violation of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/redis/reply.h"
#include "core/redis/request.h"
#include "core/util/rng.h"
#include "sim/checkers/counter.h"
#include "sim/checkers/expiry.h"
#include "sim/checkers/txn_history.h"
#include "sim/cluster.h"
#include "sim/scheduler.h"
#include "sim/sim_coordinators.h"

namespace ekv::sim {

class RedisWorkload {
 public:
  struct Options {
    // One EXEC may name list keys of both groups (--redis_cross_group_exec).
    bool cross_group_exec = false;
  };
  enum class Outcome { kAcked, kFailed, kUnknown };
  using Done = std::function<void(Outcome)>;

  RedisWorkload(Scheduler& scheduler, Cluster& cluster, SimCoordinators& coordinators, Rng rng,
                Options options);

  // Runs one random operation for `client`; `done` once its outcome is known.
  void Issue(uint64_t client, Done done);
  // After the chaos phase: one read of every counter, retried until it answers.
  void StartFinalReads();
  bool final_reads_pending() const { return final_reads_started_ && !final_reads_left_.empty(); }

  struct Verdict {
    bool ok = true;
    std::string verdict;
    std::string details;
  };
  Verdict Check() const;
  // "redis exec=<committed>/<sent> crossslot=<n> incr=<acked> counter_reads=<n>
  // expiry_reads=<judged>/<of values>/<all> scratch_reads=<n> cleanup=<passes>/<rounds>
  // pipelines=<answered>/<sent> pipelined_acked=<n> mset=<acked> mget=<checked>" for the
  // summary line.
  std::string Stats() const;
  // What part of the history is too thin to judge (empty when none is).
  std::string ThinParts() const;

 private:
  // What one request came back with.
  struct Answer {
    enum class Kind { kReply, kFailed, kUnknown } kind = Kind::kFailed;
    redis_core::Reply reply;
    uint64_t commit_ts = 0;       // kReply of a write: the group's commit timestamp
    uint64_t request_now_ms = 0;  // the clock the request carried
    std::string why;              // kFailed / kUnknown
  };
  using AnswerFn = std::function<void(const Answer&)>;

  // Sends `commands` (one command, or an EXEC of them) from `node`'s coordinator.
  void Send(NodeIndex node, std::vector<std::vector<std::string>> commands, bool transaction,
            bool write, AnswerFn done);
  void IssueList(uint64_t client, Done done);
  void IssueCounter(uint64_t client, Done done);
  void IssueExpiry(uint64_t client, Done done);
  void IssueScratch(Done done);
  void IssuePipeline(uint64_t client, Done done);
  // Each part's record of one operation's answer in its checker's history (shared by the
  // lone commands and the pipelined ones).
  Outcome FinishList(uint64_t txn, const std::vector<checkers::MicroOp>& ops, bool transaction,
                     const Answer& answer);
  bool FinishCounterRead(const std::string& key, uint64_t invoke_time, const Answer& answer);
  size_t StartIncrement(const std::string& key, int64_t delta);  // its index in counter_ops_
  Outcome FinishIncrement(size_t index, const Answer& answer);
  Outcome FinishExpiryWrite(size_t index, const Answer& answer);
  Outcome FinishExpiryRead(const std::string& key,
                           const std::vector<std::vector<std::string>>& commands, bool transaction,
                           uint64_t invoke_time, uint64_t floor_at_invoke, const Answer& answer);
  void IssuePair(Done done);
  // What one command's GroupResult (a pipeline's) says, as Send's answers.
  Answer AnswerOf(const node::GroupResult& result, bool write);
  void IssueCleanup(Done done);
  // The scratch check of one EXEC [HGETALL, HLEN] reply; empty when it holds.
  std::string ScratchViolation(const redis_core::Reply& reply) const;
  void CounterRead(uint64_t client, const std::string& key, NodeIndex node,
                   std::function<void(bool answered)> done);
  void FinalRead(const std::string& key);
  // A reply these commands never get from Redis.
  void Unexpected(const std::string& what, const redis_core::Reply& reply);
  static raft::GroupId GroupOf(const std::string& key) { return key < "m" ? 1 : 2; }
  uint64_t TimeFloorMs(const std::string& key) const;
  // The expiry checker's report, computed once the history is complete.
  const checkers::ExpiryReport& ExpiryResult() const;

  Scheduler& scheduler_;
  Cluster& cluster_;
  SimCoordinators& coordinators_;
  Rng rng_;
  Options options_;
  std::vector<std::vector<std::string>> list_keys_;  // per group (index 0: group 1)
  std::vector<std::string> counter_keys_;
  std::vector<std::string> expiry_keys_;
  // Per group: the largest commit timestamp's physical ms among acknowledged writes, a
  // lower bound of the time of any read that begins afterwards (expiry.h).
  std::map<raft::GroupId, uint64_t> group_time_floor_ms_;

  checkers::TxnHistory list_history_;
  int64_t next_list_value_ = 1;
  uint64_t execs_sent_ = 0;
  uint64_t execs_committed_ = 0;
  uint64_t crossslot_ = 0;
  std::vector<checkers::CounterOp> counter_ops_;
  uint64_t increments_acked_ = 0;
  uint64_t counter_reads_ = 0;
  std::vector<checkers::ExpiryWrite> expiry_writes_;
  std::vector<checkers::ExpiryRead> expiry_reads_;
  uint64_t next_expiry_value_ = 1;
  std::vector<std::string> unexpected_;
  bool final_reads_started_ = false;
  std::set<std::string> final_reads_left_;
  uint64_t expiry_write_answers_ = 0;  // FinishExpiryWrite calls
  // ExpiryResult's last report and what it judged (reads, writes, write answers). It is
  // asked while the clients still issue (ThinParts, after the chaos phase), so a report is
  // kept only until the history changes: a kept one left every later read unchecked.
  mutable std::optional<checkers::ExpiryReport> expiry_report_;
  mutable std::tuple<size_t, size_t, uint64_t> expiry_report_judged_{};
  std::vector<std::string> scratch_keys_;
  std::map<std::string, uint64_t> scratch_generations_;  // value g -> its field count
  uint64_t next_generation_ = 1;
  uint64_t scratch_reads_ = 0;
  std::vector<std::string> scratch_violations_;
  std::map<raft::GroupId, std::string> cleanup_cursor_;  // where the next pass starts
  uint64_t cleanup_passes_ = 0;
  uint64_t cleanup_rounds_ = 0;  // walks that reached the end of a group's records
  uint64_t pipelines_sent_ = 0;
  uint64_t pipelines_answered_ = 0;  // every command answered a reply
  uint64_t pipelined_acked_ = 0;     // commands of pipelines acknowledged
  std::vector<std::pair<std::string, std::string>> pair_keys_;  // (group 1 key, group 2 key)
  uint64_t msets_acked_ = 0;
  uint64_t mgets_checked_ = 0;
  std::vector<std::string> pair_violations_;
};

}  // namespace ekv::sim
