#include "sim/redis_workload.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/kv/timestamp.h"
#include "core/node/group_protocol.h"
#include "core/redis/cleanup.h"
#include "core/redis/executor.h"
#include "core/util/assert.h"
#include "sim/checkers/list_append.h"

namespace ekv::sim {
namespace {

using redis_core::Reply;

constexpr size_t kMaxUnexpectedKept = 8;
constexpr SimTime kFinalReadRetryUs = 50'000;
// A seed judges a part of the history only with at least this much of it.
constexpr uint64_t kMinExecsCommitted = 10;
constexpr uint64_t kMinIncrementsAcked = 10;
constexpr uint64_t kMinExpiryReadsJudged = 5;

bool OutcomeUnknownStatus(const absl::Status& status) {
  return absl::StrContains(status.message(), "outcome unknown");
}

std::optional<int64_t> IntegerOf(const Reply& reply) {
  if (reply.kind != Reply::Kind::kInteger) return std::nullopt;
  return reply.integer;
}

}  // namespace

RedisWorkload::RedisWorkload(Scheduler& scheduler, Cluster& cluster, SimCoordinators& coordinators,
                             Rng rng, Options options)
    : scheduler_(scheduler),
      cluster_(cluster),
      coordinators_(coordinators),
      rng_(rng),
      options_(options) {
  list_keys_.resize(2);
  for (int i = 0; i < 6; ++i) {
    list_keys_[0].push_back(absl::StrCat("a", i));
    list_keys_[1].push_back(absl::StrCat("n", i));
  }
  for (int i = 0; i < 3; ++i) {
    counter_keys_.push_back(absl::StrCat("b", i));
    counter_keys_.push_back(absl::StrCat("o", i));
    expiry_keys_.push_back(absl::StrCat("c", i));
    expiry_keys_.push_back(absl::StrCat("p", i));
  }
  for (int i = 0; i < 2; ++i) {
    scratch_keys_.push_back(absl::StrCat("d", i));
    scratch_keys_.push_back(absl::StrCat("q", i));
    pair_keys_.emplace_back(absl::StrCat("e", i), absl::StrCat("r", i));
  }
  for (const auto& [left, right] : pair_keys_) {
    EKV_ASSERT(GroupOf(left) != GroupOf(right), "a pair names one key of each group");
  }
}

uint64_t RedisWorkload::TimeFloorMs(const std::string& key) const {
  auto it = group_time_floor_ms_.find(GroupOf(key));
  return it == group_time_floor_ms_.end() ? 0 : it->second;
}

void RedisWorkload::Unexpected(const std::string& what, const Reply& reply) {
  if (unexpected_.size() < kMaxUnexpectedKept) {
    unexpected_.push_back(absl::StrCat("at ", scheduler_.now(), "us ", what, " answered ",
                                       redis_core::DebugString(reply)));
  }
}

void RedisWorkload::Send(NodeIndex node, std::vector<std::vector<std::string>> commands,
                         bool transaction, bool write, AnswerFn done) {
  EKV_ASSERT(!commands.empty() && commands.front().size() >= 2, "a request names a key first");
  redis_core::RedisRequest request;
  // As the front door routes: by the first key a command names.
  request.routing_key = commands.front()[1];
  request.seed = rng_.Next();
  request.transaction = transaction;
  request.commands = std::move(commands);
  // Only a request all of whose keys are in one group raises that group's time floor: a
  // command over several groups commits at its primary first (expiry.h's floor must be a
  // time every later read of the group runs at or after).
  bool one_group = true;
  for (const std::vector<std::string>& args : request.commands) {
    for (const std::string& key : redis_core::QueuedCommandKeys(args)) {
      if (GroupOf(key) != GroupOf(request.routing_key)) one_group = false;
    }
  }
  const raft::GroupId group = GroupOf(request.routing_key);
  auto request_now_ms = std::make_shared<uint64_t>(0);
  coordinators_.Run(
      node,
      [this, node, request, write, request_now_ms](coord::Coordinator& c) mutable {
        // Built on the node, as the front door builds it: its wall clock is the
        // request's lower bound for time.
        request.now_ms = cluster_.WallClockMs(node);
        *request_now_ms = request.now_ms;
        std::string payload = redis_core::EncodeRedisRequest(request);
        return c.StartRedisRequest(std::move(payload), write);
      },
      [this, write, one_group, group, request_now_ms,
       done = std::move(done)](std::optional<coord::OpResult> result) {
        Answer answer;
        if (!result.has_value()) {
          answer.kind = write ? Answer::Kind::kUnknown : Answer::Kind::kFailed;
          answer.why = "no answer in the client's patience";
        } else if (!result->status.ok()) {
          answer.kind = write && OutcomeUnknownStatus(result->status) ? Answer::Kind::kUnknown
                                                                      : Answer::Kind::kFailed;
          answer.why = result->status.ToString();
        } else {
          answer = AnswerOf(result->group_result, write);
          if (answer.kind == Answer::Kind::kReply && write && one_group && answer.commit_ts != 0) {
            uint64_t& floor = group_time_floor_ms_[group];
            floor = std::max(floor, kv::PhysicalMs(answer.commit_ts));
          }
        }
        answer.request_now_ms = *request_now_ms;
        done(answer);
      });
}

RedisWorkload::Answer RedisWorkload::AnswerOf(const node::GroupResult& result, bool write) {
  Answer answer;
  if (!result.status().ok()) {
    // The executor could not finish (nothing written) or the group refused; a pipeline
    // part's failure travels here too, with the coordinator's words (an unknown outcome).
    answer.kind = write && OutcomeUnknownStatus(result.status()) ? Answer::Kind::kUnknown
                                                                 : Answer::Kind::kFailed;
    answer.why = result.status().ToString();
  } else if (!result.value.has_value()) {
    answer.kind = write ? Answer::Kind::kUnknown : Answer::Kind::kFailed;
    answer.why = "the group answered without a reply";
    Unexpected("a request", Reply::Error("(no reply)"));
  } else {
    absl::StatusOr<Reply> reply = redis_core::DecodeReply(*result.value);
    if (!reply.ok()) {
      answer.kind = write ? Answer::Kind::kUnknown : Answer::Kind::kFailed;
      Unexpected("a request", Reply::Error(reply.status().ToString()));
    } else {
      answer.kind = Answer::Kind::kReply;
      answer.reply = *std::move(reply);
      answer.commit_ts = result.ts;
    }
  }
  return answer;
}

void RedisWorkload::Issue(uint64_t client, Done done) {
  const double dice = rng_.NextDouble();
  if (dice < 0.31) return IssueList(client, std::move(done));
  if (dice < 0.52) return IssueCounter(client, std::move(done));
  if (dice < 0.73) return IssueExpiry(client, std::move(done));
  if (dice < 0.83) return IssuePipeline(client, std::move(done));
  if (dice < 0.91) return IssuePair(std::move(done));
  if (dice < 0.97) return IssueScratch(std::move(done));
  IssueCleanup(std::move(done));
}

// ---------------------------------------------------------------------------------------
// lists: MULTI, RPUSH / LRANGE, EXEC

void RedisWorkload::IssueList(uint64_t client, Done done) {
  const NodeIndex node = coordinators_.RandomUpNode();
  if (node == 0) return done(Outcome::kFailed);
  std::vector<std::string> pool = list_keys_[rng_.Uniform(2)];
  if (options_.cross_group_exec && rng_.Chance(0.3)) {
    pool = list_keys_[0];
    pool.insert(pool.end(), list_keys_[1].begin(), list_keys_[1].end());
  }
  std::vector<std::string> keys;
  const uint64_t key_count = rng_.Range(1, 3);
  while (keys.size() < key_count) {
    const std::string& key = pool[rng_.Uniform(pool.size())];
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  const int micro_ops = static_cast<int>(rng_.Range(1, 4));
  std::vector<checkers::MicroOp> ops;
  std::vector<std::vector<std::string>> commands;
  bool write = false;
  for (int i = 0; i < micro_ops; ++i) {
    const std::string& key = keys[rng_.Uniform(keys.size())];
    if (rng_.Chance(0.5)) {
      const int64_t value = next_list_value_++;
      ops.push_back(checkers::MicroOp::Append(key, value));
      commands.push_back({"rpush", key, absl::StrCat(value)});
      write = true;
    } else {
      ops.push_back(checkers::MicroOp::Read(key));
      commands.push_back({"lrange", key, "0", "-1"});
    }
  }
  // A single command goes alone half the time (no MULTI), as a client would send it.
  const bool transaction = micro_ops > 1 || rng_.Chance(0.5);
  if (transaction) ++execs_sent_;
  const uint64_t txn = list_history_.Invoke(client, ops, scheduler_.now());
  Send(node, std::move(commands), transaction, write,
       [this, ops, txn, transaction, done = std::move(done)](const Answer& answer) {
         done(FinishList(txn, ops, transaction, answer));
       });
}

RedisWorkload::Outcome RedisWorkload::FinishList(uint64_t txn,
                                                 const std::vector<checkers::MicroOp>& ops,
                                                 bool transaction, const Answer& answer) {
  using TxnOutcome = checkers::Transaction::Outcome;
  if (answer.kind == Answer::Kind::kUnknown) {
    list_history_.Complete(txn, TxnOutcome::kUnknown, scheduler_.now());
    return Outcome::kUnknown;
  }
  if (answer.kind == Answer::Kind::kFailed) {
    list_history_.Complete(txn, TxnOutcome::kAborted, scheduler_.now());
    return Outcome::kFailed;
  }
  const Reply& reply = answer.reply;
  if (reply.is_error() && absl::StartsWith(reply.text, "CROSSSLOT")) {
    ++crossslot_;  // refused whole: nothing ran
    list_history_.Complete(txn, TxnOutcome::kAborted, scheduler_.now());
    return Outcome::kFailed;
  }
  std::vector<const Reply*> replies;
  if (!transaction) {
    replies.push_back(&reply);
  } else if (reply.kind == Reply::Kind::kArray && reply.elements.size() == ops.size()) {
    for (const Reply& element : reply.elements) replies.push_back(&element);
  }
  std::vector<std::vector<int64_t>> read_results;
  bool shaped = replies.size() == ops.size();
  for (size_t i = 0; shaped && i < ops.size(); ++i) {
    const Reply& r = *replies[i];
    if (ops[i].kind == checkers::MicroOp::Kind::kAppend) {
      shaped = r.kind == Reply::Kind::kInteger && r.integer >= 1;
      continue;
    }
    std::vector<int64_t> list;
    shaped = r.kind == Reply::Kind::kArray;
    for (size_t j = 0; shaped && j < r.elements.size(); ++j) {
      int64_t element = 0;
      shaped = r.elements[j].kind == Reply::Kind::kBulk &&
               absl::SimpleAtoi(r.elements[j].text, &element);
      list.push_back(element);
    }
    read_results.push_back(std::move(list));
  }
  if (!shaped) {
    Unexpected(transaction ? "a list EXEC" : "a list command", reply);
    list_history_.Complete(txn, TxnOutcome::kUnknown, scheduler_.now());
    return Outcome::kUnknown;
  }
  if (transaction) ++execs_committed_;
  list_history_.Complete(txn, TxnOutcome::kCommitted, scheduler_.now(), std::move(read_results));
  return Outcome::kAcked;
}

// ---------------------------------------------------------------------------------------
// counters: INCR / INCRBY, GET

void RedisWorkload::CounterRead(uint64_t client, const std::string& key, NodeIndex node,
                                std::function<void(bool answered)> done) {
  (void)client;
  const uint64_t invoke_time = scheduler_.now();
  Send(node, {{"get", key}}, /*transaction=*/false, /*write=*/false,
       [this, key, invoke_time, done = std::move(done)](const Answer& answer) {
         done(FinishCounterRead(key, invoke_time, answer));
       });
}

bool RedisWorkload::FinishCounterRead(const std::string& key, uint64_t invoke_time,
                                      const Answer& answer) {
  if (answer.kind != Answer::Kind::kReply) return false;
  checkers::CounterOp op;
  op.kind = checkers::CounterOp::Kind::kRead;
  op.key = key;
  op.invoke_time = invoke_time;
  op.complete_time = scheduler_.now();
  op.outcome = checkers::CounterOp::Outcome::kOk;
  const Reply& reply = answer.reply;
  if (reply.kind == Reply::Kind::kNil) {
    op.value = 0;
  } else if (reply.kind != Reply::Kind::kBulk || !absl::SimpleAtoi(reply.text, &op.value)) {
    Unexpected(absl::StrCat("GET ", key), reply);
    return false;
  }
  ++counter_reads_;
  counter_ops_.push_back(std::move(op));
  return true;
}

void RedisWorkload::IssueCounter(uint64_t client, Done done) {
  const std::string key = counter_keys_[rng_.Uniform(counter_keys_.size())];
  const NodeIndex node = coordinators_.RandomUpNode();
  if (node == 0) return done(Outcome::kFailed);
  if (rng_.Chance(0.4)) {
    CounterRead(client, key, node, [done = std::move(done)](bool answered) {
      done(answered ? Outcome::kAcked : Outcome::kFailed);
    });
    return;
  }
  const int64_t delta = rng_.Chance(0.5) ? 1 : static_cast<int64_t>(rng_.Range(2, 9));
  std::vector<std::string> args = {"incr", key};
  if (delta != 1) args = {"incrby", key, absl::StrCat(delta)};
  const size_t index = StartIncrement(key, delta);
  Send(node, {std::move(args)}, /*transaction=*/false, /*write=*/true,
       [this, index, done = std::move(done)](const Answer& answer) {
         done(FinishIncrement(index, answer));
       });
}

size_t RedisWorkload::StartIncrement(const std::string& key, int64_t delta) {
  const size_t index = counter_ops_.size();
  checkers::CounterOp op;
  op.kind = checkers::CounterOp::Kind::kIncrement;
  op.key = key;
  op.delta = delta;
  op.invoke_time = scheduler_.now();
  counter_ops_.push_back(std::move(op));
  return index;
}

RedisWorkload::Outcome RedisWorkload::FinishIncrement(size_t index, const Answer& answer) {
  checkers::CounterOp& op = counter_ops_[index];
  if (answer.kind == Answer::Kind::kUnknown) {
    op.outcome = checkers::CounterOp::Outcome::kUnknown;  // may apply any time later
    return Outcome::kUnknown;
  }
  if (answer.kind == Answer::Kind::kFailed) {
    op.outcome = checkers::CounterOp::Outcome::kFailed;
    op.complete_time = scheduler_.now();
    return Outcome::kFailed;
  }
  std::optional<int64_t> value = IntegerOf(answer.reply);
  if (!value.has_value()) {
    Unexpected(absl::StrCat("INCRBY ", op.key, " ", op.delta), answer.reply);
    op.outcome = checkers::CounterOp::Outcome::kUnknown;
    return Outcome::kUnknown;
  }
  op.outcome = checkers::CounterOp::Outcome::kOk;
  op.complete_time = scheduler_.now();
  op.value = *value;
  ++increments_acked_;
  return Outcome::kAcked;
}

void RedisWorkload::StartFinalReads() {
  if (final_reads_started_) return;
  final_reads_started_ = true;
  for (const std::string& key : counter_keys_) {
    final_reads_left_.insert(key);
    FinalRead(key);
  }
}

void RedisWorkload::FinalRead(const std::string& key) {
  const NodeIndex node = coordinators_.RandomUpNode();
  if (node == 0) {
    scheduler_.After(kFinalReadRetryUs, [this, key] { FinalRead(key); });
    return;
  }
  CounterRead(0, key, node, [this, key](bool answered) {
    if (answered) {
      final_reads_left_.erase(key);
      return;
    }
    scheduler_.After(kFinalReadRetryUs, [this, key] { FinalRead(key); });
  });
}

// ---------------------------------------------------------------------------------------
// expiry: SET PX, PEXPIRE / EXPIRE, GET with EXISTS / PTTL / TTL / PEXPIRETIME

void RedisWorkload::IssueExpiry(uint64_t client, Done done) {
  (void)client;
  const std::string key = expiry_keys_[rng_.Uniform(expiry_keys_.size())];
  const NodeIndex node = coordinators_.RandomUpNode();
  if (node == 0) return done(Outcome::kFailed);
  // EXPIRE only on one key per group: an EXPIRE whose outcome is unknown may apply at any
  // later time, which leaves every later value of its key unjudged (expiry.h); the other
  // keys keep the deadlines their SETs gave them.
  const bool expire_key =
      key == expiry_keys_[expiry_keys_.size() - 1] || key == expiry_keys_[expiry_keys_.size() - 2];
  double dice = rng_.NextDouble();
  if (!expire_key && dice >= 0.3 && dice < 0.45) dice -= 0.15;  // a SET instead
  if (dice < 0.45) {
    checkers::ExpiryWrite write;
    write.key = key;
    write.invoke_time = scheduler_.now();
    std::vector<std::string> args;
    if (dice < 0.3) {
      write.kind = checkers::ExpiryWrite::Kind::kSet;
      write.value = absl::StrCat("v", next_expiry_value_++);
      args = {"set", key, write.value};
      if (rng_.Chance(0.85)) {
        write.ttl_ms = rng_.Range(20, 1500);
        args.push_back("px");
        args.push_back(absl::StrCat(write.ttl_ms));
      }
    } else {
      write.kind = checkers::ExpiryWrite::Kind::kExpire;
      if (rng_.Chance(0.7)) {
        write.ttl_ms = rng_.Range(20, 1500);
        args = {"pexpire", key, absl::StrCat(write.ttl_ms)};
      } else {
        const uint64_t seconds = rng_.Range(1, 2);
        write.ttl_ms = seconds * 1000;
        args = {"expire", key, absl::StrCat(seconds)};
      }
    }
    const size_t index = expiry_writes_.size();
    expiry_writes_.push_back(std::move(write));
    Send(node, {std::move(args)}, /*transaction=*/false, /*write=*/true,
         [this, index, done = std::move(done)](const Answer& answer) {
           done(FinishExpiryWrite(index, answer));
         });
    return;
  }
  // A read: GET alone, or a read-only EXEC of GET and what the key's expiry looks like.
  std::vector<std::vector<std::string>> commands = {{"get", key}};
  const uint64_t variant = rng_.Uniform(4);
  if (variant == 1) {
    commands.push_back({"exists", key});
    commands.push_back({"pttl", key});
  } else if (variant == 2) {
    commands.push_back({"ttl", key});
  } else if (variant == 3) {
    commands.push_back({"pexpiretime", key});
  }
  const bool transaction = commands.size() > 1;
  if (transaction) ++execs_sent_;
  const uint64_t invoke_time = scheduler_.now();
  const uint64_t floor_at_invoke = TimeFloorMs(key);
  Send(node, commands, transaction, /*write=*/false,
       [this, key, commands, transaction, invoke_time, floor_at_invoke,
        done = std::move(done)](const Answer& answer) {
         done(FinishExpiryRead(key, commands, transaction, invoke_time, floor_at_invoke, answer));
       });
}

RedisWorkload::Outcome RedisWorkload::FinishExpiryWrite(size_t index, const Answer& answer) {
  ++expiry_write_answers_;
  checkers::ExpiryWrite& w = expiry_writes_[index];
  w.request_now_ms = answer.request_now_ms;
  if (answer.kind == Answer::Kind::kUnknown) {
    w.outcome = checkers::ExpiryWrite::Outcome::kUnknown;
    return Outcome::kUnknown;
  }
  if (answer.kind == Answer::Kind::kFailed) {
    w.outcome = checkers::ExpiryWrite::Outcome::kFailed;
    w.complete_time = scheduler_.now();
    return Outcome::kFailed;
  }
  const Reply& reply = answer.reply;
  const bool is_set = w.kind == checkers::ExpiryWrite::Kind::kSet;
  const bool shaped =
      is_set ? reply.kind == Reply::Kind::kStatus && reply.text == "OK"
             : reply.kind == Reply::Kind::kInteger && (reply.integer == 0 || reply.integer == 1);
  if (!shaped || answer.commit_ts == 0) {
    Unexpected(is_set ? absl::StrCat("SET ", w.key) : absl::StrCat("PEXPIRE ", w.key), reply);
    w.outcome = checkers::ExpiryWrite::Outcome::kUnknown;
    return Outcome::kUnknown;
  }
  w.outcome = checkers::ExpiryWrite::Outcome::kOk;
  w.complete_time = scheduler_.now();
  w.commit_physical_ms = kv::PhysicalMs(answer.commit_ts);
  w.expire_applied = !is_set && reply.integer == 1;
  return Outcome::kAcked;
}

RedisWorkload::Outcome RedisWorkload::FinishExpiryRead(
    const std::string& key, const std::vector<std::vector<std::string>>& commands, bool transaction,
    uint64_t invoke_time, uint64_t floor_at_invoke, const Answer& answer) {
  if (answer.kind != Answer::Kind::kReply) return Outcome::kFailed;
  checkers::ExpiryRead read;
  read.key = key;
  read.invoke_time = invoke_time;
  read.complete_time = scheduler_.now();
  read.time_floor_ms = std::max(floor_at_invoke, answer.request_now_ms);
  const Reply& reply = answer.reply;
  std::vector<const Reply*> replies;
  if (!transaction) {
    replies.push_back(&reply);
  } else if (reply.kind == Reply::Kind::kArray && reply.elements.size() == commands.size()) {
    for (const Reply& element : reply.elements) replies.push_back(&element);
  }
  bool shaped = replies.size() == commands.size();
  if (shaped) {
    const Reply& get = *replies[0];
    if (get.kind == Reply::Kind::kBulk) {
      read.value = get.text;
    } else if (get.kind != Reply::Kind::kNil) {
      shaped = false;
    }
  }
  for (size_t i = 1; shaped && i < commands.size(); ++i) {
    std::optional<int64_t> value = IntegerOf(*replies[i]);
    shaped = value.has_value();
    if (!shaped) break;
    const std::string& name = commands[i][0];
    if (name == "exists") read.exists = value;
    if (name == "pttl") read.pttl = value;
    if (name == "ttl") read.ttl = value;
    if (name == "pexpiretime") read.pexpiretime = value;
  }
  if (!shaped) {
    Unexpected(absl::StrCat("a read of ", key), reply);
    return Outcome::kFailed;
  }
  if (transaction) ++execs_committed_;
  expiry_reads_.push_back(std::move(read));
  return Outcome::kAcked;
}

// ---------------------------------------------------------------------------------------
// pipelines: one-key commands of the parts above through StartRedisPipeline

void RedisWorkload::IssuePipeline(uint64_t client, Done done) {
  const NodeIndex node = coordinators_.RandomUpNode();
  if (node == 0) return done(Outcome::kFailed);
  // Per command, what records its answer in its checker's history.
  using Finisher = std::function<Outcome(const Answer&)>;
  auto finishers = std::make_shared<std::vector<Finisher>>();
  redis_core::RedisPipeline pipeline;
  pipeline.seed = rng_.Next();
  const uint64_t count = rng_.Range(2, 8);
  for (uint64_t i = 0; i < count; ++i) {
    redis_core::PipelinedCommand command;
    const double dice = rng_.NextDouble();
    if (dice < 0.4) {
      // A list command alone: one micro-op transaction (a pipeline is not MULTI).
      const std::vector<std::string>& pool = list_keys_[rng_.Uniform(2)];
      command.key = pool[rng_.Uniform(pool.size())];
      std::vector<checkers::MicroOp> ops;
      if (rng_.Chance(0.5)) {
        const int64_t value = next_list_value_++;
        ops.push_back(checkers::MicroOp::Append(command.key, value));
        command.args = {"rpush", command.key, absl::StrCat(value)};
        command.write = true;
      } else {
        ops.push_back(checkers::MicroOp::Read(command.key));
        command.args = {"lrange", command.key, "0", "-1"};
      }
      const uint64_t txn = list_history_.Invoke(client, ops, scheduler_.now());
      finishers->push_back([this, txn, ops](const Answer& answer) {
        return FinishList(txn, ops, /*transaction=*/false, answer);
      });
    } else if (dice < 0.75) {
      command.key = counter_keys_[rng_.Uniform(counter_keys_.size())];
      if (rng_.Chance(0.35)) {
        command.args = {"get", command.key};
        const uint64_t invoke_time = scheduler_.now();
        finishers->push_back([this, key = command.key, invoke_time](const Answer& answer) {
          return FinishCounterRead(key, invoke_time, answer) ? Outcome::kAcked : Outcome::kFailed;
        });
      } else {
        const int64_t delta = rng_.Chance(0.5) ? 1 : static_cast<int64_t>(rng_.Range(2, 9));
        command.args = {"incr", command.key};
        if (delta != 1) command.args = {"incrby", command.key, absl::StrCat(delta)};
        command.write = true;
        const size_t index = StartIncrement(command.key, delta);
        finishers->push_back(
            [this, index](const Answer& answer) { return FinishIncrement(index, answer); });
      }
    } else {
      // Expiring strings, SET PX and GET only (the keys without EXPIREs keep their
      // deadlines exact): a part's commit timestamp is each of its commands'.
      command.key = expiry_keys_[rng_.Uniform(expiry_keys_.size() - 2)];
      if (rng_.Chance(0.4)) {
        checkers::ExpiryWrite write;
        write.key = command.key;
        write.invoke_time = scheduler_.now();
        write.kind = checkers::ExpiryWrite::Kind::kSet;
        write.value = absl::StrCat("v", next_expiry_value_++);
        write.ttl_ms = rng_.Range(20, 1500);
        command.args = {"set", command.key, write.value, "px", absl::StrCat(write.ttl_ms)};
        command.write = true;
        const size_t index = expiry_writes_.size();
        expiry_writes_.push_back(std::move(write));
        finishers->push_back(
            [this, index](const Answer& answer) { return FinishExpiryWrite(index, answer); });
      } else {
        command.args = {"get", command.key};
        const uint64_t invoke_time = scheduler_.now();
        const uint64_t floor_at_invoke = TimeFloorMs(command.key);
        finishers->push_back(
            [this, key = command.key, invoke_time, floor_at_invoke](const Answer& answer) {
              return FinishExpiryRead(key, {{"get", key}}, /*transaction=*/false, invoke_time,
                                      floor_at_invoke, answer);
            });
      }
    }
    pipeline.commands.push_back(std::move(command));
  }
  ++pipelines_sent_;
  std::vector<bool> writes;
  std::vector<std::string> keys;
  for (const redis_core::PipelinedCommand& command : pipeline.commands) {
    writes.push_back(command.write);
    keys.push_back(command.key);
  }
  auto request_now_ms = std::make_shared<uint64_t>(0);
  coordinators_.Run(
      node,
      [this, node, pipeline, request_now_ms](coord::Coordinator& c) mutable {
        pipeline.now_ms = cluster_.WallClockMs(node);  // as the front door: the node's clock
        *request_now_ms = pipeline.now_ms;
        return c.StartRedisPipeline(std::move(pipeline));
      },
      [this, finishers, writes, keys, request_now_ms,
       done = std::move(done)](std::optional<coord::OpResult> result) {
        const size_t count = finishers->size();
        const bool answered =
            result.has_value() && result->status.ok() && result->redis_replies.size() == count;
        if (result.has_value() && result->status.ok() && !answered) {
          Unexpected(absl::StrCat("a pipeline of ", count, " commands"),
                     Reply::Error(absl::StrCat(result->redis_replies.size(), " replies")));
        }
        bool any_unknown = false;
        bool any_acked = false;
        for (size_t i = 0; i < count; ++i) {
          Answer answer;
          if (answered) {
            answer = AnswerOf(result->redis_replies[i], writes[i]);
            if (answer.kind == Answer::Kind::kReply && writes[i] && answer.commit_ts != 0) {
              // Each part is one group's entry: its commit raises that group's floor.
              uint64_t& floor = group_time_floor_ms_[GroupOf(keys[i])];
              floor = std::max(floor, kv::PhysicalMs(answer.commit_ts));
            }
          } else if (!result.has_value() || (writes[i] && OutcomeUnknownStatus(result->status))) {
            answer.kind = writes[i] ? Answer::Kind::kUnknown : Answer::Kind::kFailed;
          }
          answer.request_now_ms = *request_now_ms;
          const Outcome outcome = (*finishers)[i](answer);
          any_unknown = any_unknown || outcome == Outcome::kUnknown;
          any_acked = any_acked || outcome == Outcome::kAcked;
          if (outcome == Outcome::kAcked) ++pipelined_acked_;
        }
        if (answered) ++pipelines_answered_;
        done(any_unknown ? Outcome::kUnknown : any_acked ? Outcome::kAcked : Outcome::kFailed);
      });
}

// ---------------------------------------------------------------------------------------
// pairs: MSET / MGET of one key in each group (one command over several groups)

void RedisWorkload::IssuePair(Done done) {
  const auto& [left, right] = pair_keys_[rng_.Uniform(pair_keys_.size())];
  const NodeIndex node = coordinators_.RandomUpNode();
  if (node == 0) return done(Outcome::kFailed);
  if (rng_.Chance(0.5)) {
    const std::string value = absl::StrCat("m", next_expiry_value_++);
    std::vector<size_t> indexes;
    for (const std::string& key : {left, right}) {
      checkers::ExpiryWrite write;
      write.key = key;
      write.invoke_time = scheduler_.now();
      write.kind = checkers::ExpiryWrite::Kind::kSet;
      write.value = value;
      indexes.push_back(expiry_writes_.size());
      expiry_writes_.push_back(std::move(write));
    }
    Send(node, {{"mset", left, value, right, value}}, /*transaction=*/false, /*write=*/true,
         [this, indexes, done = std::move(done)](const Answer& answer) {
           Outcome outcome = Outcome::kAcked;
           for (size_t index : indexes) outcome = FinishExpiryWrite(index, answer);
           if (outcome == Outcome::kAcked) ++msets_acked_;
           done(outcome);
         });
    return;
  }
  const uint64_t invoke_time = scheduler_.now();
  const uint64_t left_floor = TimeFloorMs(left);
  const uint64_t right_floor = TimeFloorMs(right);
  Send(node, {{"mget", left, right}}, /*transaction=*/false, /*write=*/false,
       [this, left = left, right = right, invoke_time, left_floor, right_floor,
        done = std::move(done)](const Answer& answer) {
         if (answer.kind != Answer::Kind::kReply) return done(Outcome::kFailed);
         const Reply& reply = answer.reply;
         auto shaped = [](const Reply& r) {
           return r.kind == Reply::Kind::kBulk || r.kind == Reply::Kind::kNil;
         };
         if (reply.kind != Reply::Kind::kArray || reply.elements.size() != 2 ||
             !shaped(reply.elements[0]) || !shaped(reply.elements[1])) {
           Unexpected(absl::StrCat("MGET ", left, " ", right), reply);
           return done(Outcome::kFailed);
         }
         // Each value is one read of its key for the expiry checker (stale or never
         // written values), at the time the pair's read ran.
         const std::pair<const std::string*, uint64_t> keys[] = {{&left, left_floor},
                                                                 {&right, right_floor}};
         for (size_t i = 0; i < 2; ++i) {
           Answer one = answer;
           one.reply = reply.elements[i];
           FinishExpiryRead(*keys[i].first, {{"get", *keys[i].first}}, /*transaction=*/false,
                            invoke_time, keys[i].second, one);
         }
         ++mgets_checked_;
         if (!(reply.elements[0] == reply.elements[1]) &&
             pair_violations_.size() < kMaxUnexpectedKept) {
           pair_violations_.push_back(absl::StrCat("at ", scheduler_.now(), "us MGET ", left, " ",
                                                   right, " answered ",
                                                   redis_core::DebugString(reply)));
         }
         done(Outcome::kAcked);
       });
}

// ---------------------------------------------------------------------------------------
// scratch hashes (whole generations) and the background cleanup

void RedisWorkload::IssueScratch(Done done) {
  const std::string key = scratch_keys_[rng_.Uniform(scratch_keys_.size())];
  const NodeIndex node = coordinators_.RandomUpNode();
  if (node == 0) return done(Outcome::kFailed);
  if (rng_.Chance(0.5)) {
    const std::string generation = absl::StrCat("g", next_generation_++);
    const uint64_t fields = rng_.Range(1, 40);
    scratch_generations_[generation] = fields;
    std::vector<std::string> hset = {"hset", key};
    for (uint64_t i = 0; i < fields; ++i) {
      hset.push_back(absl::StrCat("f", i));
      hset.push_back(generation);
    }
    std::vector<std::vector<std::string>> commands = {{"del", key}, std::move(hset)};
    if (rng_.Chance(0.5)) commands.push_back({"pexpire", key, absl::StrCat(rng_.Range(5, 400))});
    ++execs_sent_;
    Send(node, std::move(commands), /*transaction=*/true, /*write=*/true,
         [this, key, done = std::move(done)](const Answer& answer) {
           if (answer.kind == Answer::Kind::kUnknown) return done(Outcome::kUnknown);
           if (answer.kind == Answer::Kind::kFailed) return done(Outcome::kFailed);
           const Reply& reply = answer.reply;
           if (reply.is_error() && absl::StartsWith(reply.text, "CROSSSLOT")) {
             ++crossslot_;
             return done(Outcome::kFailed);
           }
           if (reply.kind != Reply::Kind::kArray || reply.elements.size() < 2 ||
               !IntegerOf(reply.elements[0]).has_value() ||
               !IntegerOf(reply.elements[1]).has_value()) {
             Unexpected(absl::StrCat("EXEC [DEL, HSET] of ", key), reply);
             return done(Outcome::kUnknown);
           }
           ++execs_committed_;
           done(Outcome::kAcked);
         });
    return;
  }
  ++execs_sent_;
  Send(node, {{"hgetall", key}, {"hlen", key}}, /*transaction=*/true, /*write=*/false,
       [this, key, done = std::move(done)](const Answer& answer) {
         if (answer.kind != Answer::Kind::kReply) return done(Outcome::kFailed);
         const Reply& reply = answer.reply;
         if (reply.is_error() && absl::StartsWith(reply.text, "CROSSSLOT")) {
           ++crossslot_;
           return done(Outcome::kFailed);
         }
         if (std::string violation = ScratchViolation(reply); !violation.empty()) {
           if (scratch_violations_.size() < kMaxUnexpectedKept) {
             scratch_violations_.push_back(absl::StrCat("at ", scheduler_.now(), "us ", key, ": ",
                                                        violation, " in ",
                                                        redis_core::DebugString(reply)));
           }
           return done(Outcome::kFailed);
         }
         ++execs_committed_;
         ++scratch_reads_;
         done(Outcome::kAcked);
       });
}

std::string RedisWorkload::ScratchViolation(const Reply& reply) const {
  if (reply.kind != Reply::Kind::kArray || reply.elements.size() != 2) return "not [HGETALL, HLEN]";
  const Reply& all = reply.elements[0];
  std::optional<int64_t> hlen = IntegerOf(reply.elements[1]);
  if (!hlen.has_value() || all.elements.size() % 2 != 0 ||
      (all.kind != Reply::Kind::kMap && all.kind != Reply::Kind::kArray)) {
    return "not [HGETALL, HLEN]";
  }
  const uint64_t fields = all.elements.size() / 2;
  if (static_cast<uint64_t>(*hlen) != fields) return "HLEN differs from the fields HGETALL read";
  if (fields == 0) return "";
  const std::string& generation = all.elements[1].text;
  auto known = scratch_generations_.find(generation);
  if (known == scratch_generations_.end()) return "a value no write wrote";
  if (known->second != fields) return "part of a generation (or more than one)";
  std::set<std::string> seen;
  for (size_t i = 0; i < all.elements.size(); i += 2) {
    if (all.elements[i + 1].text != generation) return "values of two generations";
    seen.insert(all.elements[i].text);
  }
  for (uint64_t i = 0; i < fields; ++i) {
    if (seen.count(absl::StrCat("f", i)) == 0) return "a field of the generation is missing";
  }
  return "";
}

void RedisWorkload::IssueCleanup(Done done) {
  const raft::GroupId group = rng_.Chance(0.5) ? 1 : 2;
  const NodeIndex node = coordinators_.RandomUpNode();
  if (node == 0) return done(Outcome::kFailed);
  redis_core::CleanupPass pass;
  pass.start_key = cleanup_cursor_[group];
  pass.max_records = rng_.Range(1, 60);  // small: passes resume everywhere
  coordinators_.Run(
      node,
      [group, pass](coord::Coordinator& c) {
        node::GroupCommand command;
        command.op = node::GroupCommandOp::kKv;
        command.payload = redis_core::EncodeCleanupPass(pass);
        return c.StartGroupCommand(group, std::move(command));
      },
      [this, group, done = std::move(done)](std::optional<coord::OpResult> result) {
        if (!result.has_value() || !result->status.ok() || !result->group_result.status().ok()) {
          cleanup_cursor_[group].clear();  // as the GcScheduler: the next round starts over
          return done(Outcome::kFailed);
        }
        ++cleanup_passes_;
        if (result->group_result.value.has_value()) {
          cleanup_cursor_[group] = *result->group_result.value;
        } else {
          cleanup_cursor_[group].clear();
          ++cleanup_rounds_;
        }
        done(Outcome::kAcked);
      });
}

// ---------------------------------------------------------------------------------------

const checkers::ExpiryReport& RedisWorkload::ExpiryResult() const {
  const std::tuple<size_t, size_t, uint64_t> judged{expiry_reads_.size(), expiry_writes_.size(),
                                                    expiry_write_answers_};
  if (!expiry_report_.has_value() || expiry_report_judged_ != judged) {
    expiry_report_ = checkers::CheckExpiry(expiry_writes_, expiry_reads_);
    expiry_report_judged_ = judged;
  }
  return *expiry_report_;
}

RedisWorkload::Verdict RedisWorkload::Check() const {
  Verdict verdict;
  if (!unexpected_.empty()) {
    verdict.ok = false;
    verdict.verdict = "redis: a reply Redis never gives to these commands";
    verdict.details = absl::StrJoin(unexpected_, "\n");
    return verdict;
  }
  if (!scratch_violations_.empty()) {
    verdict.ok = false;
    verdict.verdict =
        "redis scratch hashes (EXEC DEL+HSET / HGETALL+HLEN): a generation read in part";
    verdict.details = absl::StrJoin(scratch_violations_, "\n");
    return verdict;
  }
  if (!pair_violations_.empty()) {
    verdict.ok = false;
    verdict.verdict = "redis pairs (MSET / MGET over two groups): an MGET saw two different MSETs";
    verdict.details = absl::StrJoin(pair_violations_, "\n");
    return verdict;
  }
  if (checkers::ListAppendResult lists = checkers::CheckListAppend(list_history_); !lists.ok()) {
    verdict.ok = false;
    verdict.verdict = "redis lists (MULTI/RPUSH/LRANGE/EXEC): not strictly serializable";
    verdict.details = lists.explanation;
    return verdict;
  }
  if (checkers::CounterReport counters = checkers::CheckCounters(counter_ops_); !counters.ok) {
    verdict.ok = false;
    verdict.verdict = "redis counters (INCR/INCRBY/GET): count not exact";
    verdict.details = counters.violation;
    return verdict;
  }
  if (const checkers::ExpiryReport& expiry = ExpiryResult(); !expiry.ok) {
    verdict.ok = false;
    verdict.verdict = "redis expiry (SET PX/PEXPIRE/GET): read of an expired or wrong value";
    verdict.details = expiry.violation;
    return verdict;
  }
  if (final_reads_started_ && !final_reads_left_.empty()) {
    verdict.ok = false;
    verdict.verdict = "redis counters: final reads did not finish";
    verdict.details = absl::StrJoin(final_reads_left_, ",");
  }
  return verdict;
}

std::string RedisWorkload::Stats() const {
  const checkers::ExpiryReport& expiry = ExpiryResult();
  return absl::StrCat("redis exec=", execs_committed_, "/", execs_sent_, " crossslot=", crossslot_,
                      " incr=", increments_acked_, " counter_reads=", counter_reads_,
                      " expiry_reads=", expiry.reads_judged, "/", expiry.reads_of_values, "/",
                      expiry.reads, " scratch_reads=", scratch_reads_, " cleanup=", cleanup_passes_,
                      "/", cleanup_rounds_, " pipelines=", pipelines_answered_, "/",
                      pipelines_sent_, " pipelined_acked=", pipelined_acked_,
                      " mset=", msets_acked_, " mget=", mgets_checked_);
}

std::string RedisWorkload::ThinParts() const {
  std::vector<std::string> thin;
  if (execs_committed_ < kMinExecsCommitted) thin.push_back("lists");
  if (increments_acked_ < kMinIncrementsAcked) thin.push_back("counters");
  if (ExpiryResult().reads_judged < kMinExpiryReadsJudged) thin.push_back("expiry");
  return absl::StrJoin(thin, ",");
}

}  // namespace ekv::sim
