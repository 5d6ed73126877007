// Store: the executor's view of one group's engine while a Redis request runs.
//
// Reads see the applied state plus this request's own earlier writes (an EXEC's later
// commands see its earlier ones); writes are kept here and land only through Flush, in
// the applied entry's batch, so a request that fails leaves nothing behind. Strings are
// MVCC values (layout.h) read at the latest version; every other record is a raw record
// of the Redis namespace.
//
// A Percolator lock on a string key (a TransactionalKV transaction in flight) blocks the
// request: the first one met is kept in locked() and the request fails with
// Unavailable, so the coordinator resolves the lock and runs the request again.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kv/engine.h"
#include "core/kv/kv_command.h"
#include "core/kv/mvcc.h"

namespace ekv::redis_core {

struct StringValue {
  std::string value;
  uint64_t expire_ms = 0;  // 0: none
};

class Store {
 public:
  // `engine` and `mvcc` are the same group's engine and MVCC store; both must outlive
  // this object.
  Store(const kv::EngineReader* engine, const kv::MvccStore* mvcc) : engine_(engine), mvcc_(mvcc) {}

  absl::StatusOr<std::optional<std::string>> Get(absl::string_view raw_key) const;
  void Put(absl::string_view raw_key, std::string value);
  void Delete(absl::string_view raw_key);
  // Up to `limit` records in [lo, hi) in key order (reverse: from the top).
  using Records = std::vector<std::pair<std::string, std::string>>;
  absl::StatusOr<Records> Scan(absl::string_view lo, absl::string_view hi, size_t limit,
                               bool reverse = false) const;

  // The latest string value of `key`, expired or not (the caller decides); fails when a
  // transaction's lock is on the key.
  absl::StatusOr<std::optional<StringValue>> GetString(absl::string_view key);
  // GetString's lock check alone, for a write that replaces the key whatever it holds (a
  // plain SET): fails when a transaction's lock is on the key. No read of the value.
  absl::Status CheckStringWritable(absl::string_view key);
  void PutString(absl::string_view key, std::string value, uint64_t expire_ms);
  void DeleteString(absl::string_view key);
  // commit_ts of the newest MVCC version of `key` (0: none).
  absl::StatusOr<uint64_t> LatestStringCommitTs(absl::string_view key) const;

  // Keys the caller found free of any transaction's lock in this engine state, just before
  // the request runs (core/node's LockedRefusal checks every key a request names): the
  // lock checks of GetString and CheckStringWritable skip them, so a command reads each
  // lock once. The engine cannot change while the Store lives (its writes wait here until
  // Flush), so the caller's answer stays true; keys not named (a script's) are checked.
  void NoteUnlocked(std::vector<std::string> keys);

  const kv::MvccStore& mvcc() const { return *mvcc_; }
  const std::optional<kv::KeyError>& locked() const { return locked_; }
  bool dirty() const { return !raw_.empty() || !strings_.empty(); }
  void Discard() {
    raw_.clear();
    strings_.clear();
  }
  // Adds every pending write to `batch`, strings as versions at commit_ts.
  absl::Status Flush(kv::MvccBatch* batch, kv::Timestamp commit_ts) const;

 private:
  const kv::EngineReader* engine_;
  const kv::MvccStore* mvcc_;
  std::map<std::string, std::optional<std::string>> raw_;      // nullopt: deleted
  std::map<std::string, std::optional<StringValue>> strings_;  // nullopt: deleted
  // commit_ts of the newest engine version of a key GetString read (nullopt: none), so
  // Flush's check that the commit timestamp is above it needs no second seek. Valid for
  // the Store's life: the engine does not change while a request runs (its writes are
  // pending here until Flush).
  std::map<std::string, std::optional<kv::Timestamp>, std::less<>> newest_;
  std::optional<kv::KeyError> locked_;
  std::set<std::string, std::less<>> unlocked_;  // NoteUnlocked
  // The transaction lock on `key` that refuses this request (locked_ set, an error), or OK.
  absl::Status CheckLock(absl::string_view key);
};

}  // namespace ekv::redis_core
