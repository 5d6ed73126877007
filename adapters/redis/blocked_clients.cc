#include "adapters/redis/blocked_clients.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "core/kv/codec.h"
#include "core/redis/blocking.h"
#include "core/redis/executor.h"
#include "core/redis/numbers.h"
#include "core/util/assert.h"

namespace ekv::redis {

std::string EncodeKeysReady(const std::vector<std::string>& keys) {
  std::string out;
  kv::AppendVarint64(&out, keys.size());
  for (const std::string& key : keys) kv::AppendLengthPrefixed(&out, key);
  return out;
}

std::optional<std::vector<std::string>> DecodeKeysReady(absl::string_view message) {
  kv::ByteReader reader(message);
  absl::StatusOr<uint64_t> count = reader.ReadVarint64();
  if (!count.ok() || *count > message.size()) return std::nullopt;
  std::vector<std::string> keys;
  for (uint64_t i = 0; i < *count; ++i) {
    absl::StatusOr<absl::string_view> key = reader.ReadLengthPrefixed();
    if (!key.ok()) return std::nullopt;
    keys.emplace_back(*key);
  }
  if (!reader.empty()) return std::nullopt;
  return keys;
}

std::vector<std::string> KeysMadeReady(const std::vector<std::string>& args) {
  if (args.empty()) return {};
  const std::string name = absl::AsciiStrToLower(args[0]);
  if (name == "flushall" || name == "flushdb") return {std::string(kEveryKeyNotice)};
  if (args.size() < 2) return {};
  if (name == "lpush" || name == "rpush" || name == "zadd" || name == "zincrby" || name == "xadd" ||
      name == "zunionstore" || name == "zinterstore" || name == "zdiffstore" ||
      name == "zrangestore" || name == "restore" || name == "geoadd" || name == "geosearchstore") {
    return {args[1]};
  }
  if (name == "georadius" || name == "georadiusbymember") {
    // A STORE destination, the second key georadiusGetKeys finds.
    std::vector<std::string> keys = redis_core::GeoRadiusKeys(args);
    if (keys.size() < 2) return {};
    return {keys.back()};
  }
  if (name == "lmove" || name == "blmove" || name == "rpoplpush" || name == "brpoplpush" ||
      name == "copy") {
    if (args.size() < 3) return {};
    return {args[2]};
  }
  if (name == "rename" || name == "renamenx") {
    // The source goes (a consumer blocked on it is answered), the target may be a stream.
    if (args.size() < 3) return {};
    return {args[1], args[2]};
  }
  if (name == "del" || name == "unlink") return {args.begin() + 1, args.end()};
  if (name == "xgroup") {
    if (args.size() < 3 || !absl::EqualsIgnoreCase(args[1], "destroy")) return {};
    return {args[2]};
  }
  if (name == "sort") {
    // SORT ... STORE: the destination, the last key SortKeys finds (the sorted key is
    // only read).
    std::vector<std::string> keys = redis_core::SortKeys(args);
    if (keys.size() < 2) return {};
    return {keys.back()};
  }
  if (name == "eval" || name == "evalsha") {
    // A script may push to any key it declares: its KEYS (numkeys checked by EVAL first;
    // a bad one here means the script did not run).
    std::optional<int64_t> numkeys =
        args.size() >= 3 ? redis_core::ParseInt64(args[2]) : std::nullopt;
    if (!numkeys.has_value() || *numkeys < 0 || *numkeys > static_cast<int64_t>(args.size()) - 3) {
      return {};
    }
    return std::vector<std::string>(args.begin() + 3, args.begin() + 3 + *numkeys);
  }
  return {};
}

namespace {

bool IsMiss(const redis_core::Reply& reply) {
  return reply.kind == redis_core::Reply::Kind::kNil ||
         reply.kind == redis_core::Reply::Kind::kNilArray;
}

}  // namespace

BlockedClients::BlockedClients(Attempt attempt, Answer answer, Options options)
    : attempt_(std::move(attempt)), answer_(std::move(answer)), options_(options) {}

void BlockedClients::Add(uint64_t connection_id, Args args, std::vector<std::string> keys,
                         uint64_t timeout_ms, int64_t now_ms) {
  EKV_ASSERT(by_connection_.count(connection_id) == 0,
             "a connection blocks twice: its commands run one at a time");
  now_ms_ = std::max(now_ms_, now_ms);
  if (waiters_.empty()) next_recheck_ms_ = now_ms_ + options_.recheck.count();
  const uint64_t id = next_id_++;
  Waiter waiter;
  waiter.connection_id = connection_id;
  const redis_core::CommandInfo* info =
      args.empty() ? nullptr : redis_core::FindCommand(args.front());
  waiter.shared = info != nullptr && !info->write;
  waiter.passes_on_miss = redis_core::BlockedMissPassesOn(args.front());
  waiter.takes = TakenKind(args.front());
  waiter.one_key = redis_core::ServesOneKey(args.front());
  waiter.args = std::move(args);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  waiter.keys = std::move(keys);
  // Behind an earlier waiter that takes from every key it waits on, its first run could
  // take what that waiter is owed: a push that commits while both first runs are in
  // flight may reach the later one first (runs are separate Raft writes, which commit in
  // any order). Redis serves the earlier client; so does ekv: this one runs when a waiter
  // before it hands over (served, answered, gone), as it would after a notice. Its keys
  // are empty as far as it knows (those waiters found them so), so it counts as blocked.
  const bool behind =
      waiter.takes != 0 && !waiter.keys.empty() &&
      std::all_of(waiter.keys.begin(), waiter.keys.end(),
                  [&](const std::string& key) { return HasTakerQueued(key, waiter.takes); });
  waiter.missed = behind;
  if (timeout_ms > 0) {
    waiter.deadline_ms = now_ms_ + static_cast<int64_t>(timeout_ms);
    deadlines_.insert({waiter.deadline_ms, id});
  }
  for (const std::string& key : waiter.keys) queues_[key].push_back(id);
  waiters_.emplace(id, std::move(waiter));
  by_connection_[connection_id] = id;
  if (!behind) Run(id, std::nullopt);
}

char BlockedClients::TakenKind(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "blpop" || lower == "brpop" || lower == "blmove" || lower == "brpoplpush" ||
      lower == "blmpop") {
    return 'l';
  }
  if (lower == "bzpopmin" || lower == "bzpopmax" || lower == "bzmpop") return 'z';
  return 0;
}

bool BlockedClients::HasTakerQueued(const std::string& key, char kind) const {
  auto queue = queues_.find(key);
  if (queue == queues_.end()) return false;
  for (uint64_t id : queue->second) {
    const Waiter& waiter = waiters_.at(id);
    if (!waiter.cancelled && waiter.takes == kind) return true;
  }
  return false;
}

void BlockedClients::Run(uint64_t id, std::optional<std::string> key) {
  Waiter& waiter = waiters_.at(id);
  EKV_ASSERT(!waiter.running, "two runs of one waiter could pop two elements");
  waiter.running = true;
  // After a miss, the form that waits through a key of another type, narrowed to the
  // noticed key (blocking.h). A waiter that queued behind others runs the command as sent
  // first (it answers WRONGTYPE as Redis would have at its arrival), over all its keys.
  Args args = waiter.args;
  if (!waiter.ran) {
    key.reset();
  } else if (key.has_value()) {
    args = redis_core::ServeOnKey(waiter.args, *key);
  } else {
    args.front() = redis_core::ServeFormOf(args.front());
  }
  waiter.ran = true;
  waiter.run_key = std::move(key);
  attempt_(args,
           [this, id](absl::StatusOr<redis_core::Reply> result) { OnRun(id, std::move(result)); });
}

void BlockedClients::Notice(uint64_t id, const std::string& key) {
  Waiter& waiter = waiters_.at(id);
  if (!waiter.running) return Run(id, key);
  // A command that reads all its keys runs once more whatever the keys noticed.
  if (!waiter.one_key && !waiter.notices.empty()) return;
  if (std::find(waiter.notices.begin(), waiter.notices.end(), key) != waiter.notices.end()) {
    return;
  }
  waiter.notices.push_back(key);
}

void BlockedClients::OnRun(uint64_t id, absl::StatusOr<redis_core::Reply> result) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  Waiter& waiter = it->second;
  waiter.running = false;
  const std::optional<std::string> run_key = std::move(waiter.run_key);
  waiter.run_key.reset();
  if (waiter.cancelled) {
    // Nobody to answer. An element this run popped is lost with the connection, as a
    // reply Redis wrote to a client that hung up is. A waiter queued behind it may never
    // have run: the keys' next waiters run, as after Cancel of an idle waiter.
    const std::vector<std::string> keys = waiter.keys;
    Forget(id);
    for (const std::string& key : keys) Serve(key);
    return;
  }
  if (!result.ok() || !IsMiss(*result)) return Finish(id, std::move(result), run_key);
  waiter.missed = true;
  if (waiter.passes_on_miss && run_key.has_value()) ServeAfter(*run_key, id);
  // A pop's miss says nothing of what the key holds for a waiter of the other type (a
  // sorted set popper woken by a push to a list): Redis serves the key's waiters of its
  // type, so the first waiter of the other type after this one runs.
  if (waiter.takes != 0 && run_key.has_value()) ServeAfter(*run_key, id, waiter.takes);
  it = waiters_.find(id);
  if (it == waiters_.end()) return;
  Waiter& missed = it->second;
  if (missed.deadline_ms != 0 && now_ms_ >= missed.deadline_ms) return TimeOut(id);
  if (missed.notices.empty()) return;
  std::string next = std::move(missed.notices.front());
  missed.notices.pop_front();
  Run(id, std::move(next));
}

void BlockedClients::ServeAfter(const std::string& key, uint64_t after, char unlike) {
  auto queue = queues_.find(key);
  if (queue == queues_.end()) return;
  const std::deque<uint64_t>& ids = queue->second;
  auto at = std::find(ids.begin(), ids.end(), after);
  if (at == ids.end()) return;
  for (++at; at != ids.end(); ++at) {
    const Waiter& next = waiters_.at(*at);
    if (next.cancelled || (unlike != 0 && next.takes == unlike)) continue;
    return Notice(*at, key);
  }
}

void BlockedClients::Finish(uint64_t id, std::optional<absl::StatusOr<redis_core::Reply>> answer,
                            const std::optional<std::string>& run_key) {
  Waiter& waiter = waiters_.at(id);
  const uint64_t connection_id = waiter.connection_id;
  // A reader took nothing: the others on its keys ran with it already.
  const bool served = answer.has_value() && answer->ok() && !IsMiss(**answer) && !waiter.shared;
  // A notice's run narrowed to one key took from that key only.
  std::vector<std::string> keys = waiter.keys;
  if (run_key.has_value() && waiter.one_key) keys = {*run_key};
  if (!served) keys.clear();
  // Notices it had not run for yet go to the next waiters on those keys (a reader's
  // others ran with it already).
  if (!waiter.shared) {
    for (const std::string& key : waiter.notices) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
  }
  Forget(id);
  if (answer.has_value()) answer_(connection_id, *std::move(answer));
  // The element it got may not have been the last: the next waiters try.
  for (const std::string& key : keys) Serve(key);
}

void BlockedClients::TimeOut(uint64_t id) {
  if (waiters_.at(id).unblock_error) {
    return Finish(id, absl::StatusOr<redis_core::Reply>(redis_core::Reply::Error(
                          "UNBLOCKED client unblocked via CLIENT UNBLOCK")));
  }
  // Redis 7.0 answers every timed-out list or zset pop, BLMOVE included, with a null
  // array (the non-blocking forms' miss inside MULTI is a null bulk for the moves).
  Finish(id, absl::StatusOr<redis_core::Reply>(redis_core::Reply::NilArray()));
}

bool BlockedClients::Unblock(uint64_t connection_id, bool error) {
  auto by = by_connection_.find(connection_id);
  if (by == by_connection_.end()) return false;
  const uint64_t id = by->second;
  Waiter& waiter = waiters_.at(id);
  waiter.unblock_error = error;
  if (waiter.running) {
    // As a deadline that falls during a run: OnRun answers, with the timeout's on a miss.
    if (waiter.deadline_ms != 0) deadlines_.erase({waiter.deadline_ms, id});
    // Its notices stay: Finish hands them to the next waiters (one may be waiting behind
    // it without a run of its own).
    waiter.deadline_ms = std::max<int64_t>(now_ms_, 1);
    return true;
  }
  TimeOut(id);
  return true;
}

void BlockedClients::Forget(uint64_t id) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  Waiter& waiter = it->second;
  for (const std::string& key : waiter.keys) {
    auto queue = queues_.find(key);
    if (queue == queues_.end()) continue;
    std::deque<uint64_t>& ids = queue->second;
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
    if (ids.empty()) queues_.erase(queue);
  }
  if (waiter.deadline_ms != 0) deadlines_.erase({waiter.deadline_ms, id});
  auto by = by_connection_.find(waiter.connection_id);
  if (by != by_connection_.end() && by->second == id) by_connection_.erase(by);
  waiters_.erase(it);
}

void BlockedClients::Serve(const std::string& key) {
  auto queue = queues_.find(key);
  if (queue == queues_.end()) return;
  // Readers (shared) all run; of the others, the first. A run may answer at once and
  // change the queue: the ids are taken first.
  std::vector<uint64_t> to_run;
  for (uint64_t id : queue->second) {
    Waiter& waiter = waiters_.at(id);
    if (waiter.cancelled) continue;  // its run is in flight; the next one is first
    to_run.push_back(id);
    if (!waiter.shared) break;
  }
  for (uint64_t id : to_run) {
    if (waiters_.count(id) != 0) Notice(id, key);
  }
}

void BlockedClients::KeysReady(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    if (key != kEveryKeyNotice) {
      Serve(key);
      continue;
    }
    std::vector<std::string> all;
    for (const auto& [queued, ids] : queues_) all.push_back(queued);
    for (const std::string& queued : all) Serve(queued);
  }
}

void BlockedClients::Tick(int64_t now_ms) {
  now_ms_ = std::max(now_ms_, now_ms);
  while (!deadlines_.empty() && deadlines_.begin()->first <= now_ms_) {
    const uint64_t id = deadlines_.begin()->second;
    Waiter& waiter = waiters_.at(id);
    deadlines_.erase(deadlines_.begin());
    waiter.deadline_ms = 0;
    if (waiter.running) {
      // Its run may carry an element: OnRun answers, with the timeout's nil on a miss.
      // Its notices stay for Finish to hand over, as in Unblock.
      waiter.deadline_ms = now_ms_;
      continue;
    }
    TimeOut(id);
  }
  if (!queues_.empty() && now_ms_ >= next_recheck_ms_) {
    next_recheck_ms_ = now_ms_ + options_.recheck.count();
    std::vector<std::string> keys;
    for (const auto& [key, ids] : queues_) keys.push_back(key);
    KeysReady(keys);
  }
}

std::optional<int64_t> BlockedClients::NextWakeMs() const {
  if (waiters_.empty()) return std::nullopt;
  int64_t next = next_recheck_ms_;
  if (!deadlines_.empty()) next = std::min(next, deadlines_.begin()->first);
  return next;
}

void BlockedClients::Cancel(uint64_t connection_id) {
  auto by = by_connection_.find(connection_id);
  if (by == by_connection_.end()) return;
  const uint64_t id = by->second;
  Waiter& waiter = waiters_.at(id);
  by_connection_.erase(by);
  if (waiter.running) {
    waiter.cancelled = true;  // OnRun forgets it
    return;
  }
  const std::vector<std::string> keys = waiter.keys;
  Forget(id);
  // It may have been first on a key whose data now waits for the next client.
  for (const std::string& key : keys) Serve(key);
}

std::vector<uint64_t> BlockedClients::CancelIdle() {
  std::vector<uint64_t> connections;
  std::vector<uint64_t> ids;
  for (const auto& [id, waiter] : waiters_) {
    if (!waiter.running && !waiter.cancelled) ids.push_back(id);
  }
  for (uint64_t id : ids) {
    connections.push_back(waiters_.at(id).connection_id);
    Forget(id);
  }
  return connections;
}

size_t BlockedClients::blocked() const {
  size_t count = 0;
  for (const auto& [id, waiter] : waiters_) count += waiter.missed && !waiter.cancelled ? 1 : 0;
  return count;
}

}  // namespace ekv::redis
