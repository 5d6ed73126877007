// TrackingTable: one node's client-side caching registry (Redis 6/7's CLIENT TRACKING,
// tracking.c). Default mode remembers which tracking connections read which keys; a change
// of a key takes its readers out (each is invalidated once, then must read again to be
// told again). BCAST mode keeps prefixes instead: every changed key that starts with a
// connection's prefix is gathered and sent to it once per event-loop turn.
//
// Bounded, as Redis's tracking-table-max-keys: once more than max_keys keys are
// remembered, TrimToLimit takes the oldest-remembered ones out (their readers are
// invalidated, so a client never keeps a cached value the server stopped watching).
// Redis picks random keys; ekv takes the oldest, which is deterministic. 0: no limit.
//
// Owned by the server's event loop and used only on its thread. Ordered containers, so
// what it hands out comes in a stable order (key order, connection-id order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ekv::redis {

// Redis 7.0's default tracking-table-max-keys.
inline constexpr size_t kDefaultTrackingTableMaxKeys = 1'000'000;

class TrackingTable {
 public:
  explicit TrackingTable(size_t max_keys = kDefaultTrackingTableMaxKeys) : max_keys_(max_keys) {}

  size_t max_keys() const { return max_keys_; }
  void set_max_keys(size_t max_keys) { max_keys_ = max_keys; }

  // Default mode: connection `client` read `key`.
  void Remember(const std::string& key, uint64_t client);
  // `key` changed: forgets it and returns the connections that read it (ascending).
  std::vector<uint64_t> Invalidate(const std::string& key);
  // FLUSHALL: forgets every remembered key.
  void Clear();
  // Above max_keys (and max_keys > 0): takes the oldest-remembered keys out until it is
  // not, returning each with its readers, oldest first.
  std::vector<std::pair<std::string, std::vector<uint64_t>>> TrimToLimit();

  // BCAST mode. A connection's prefixes are kept in its own state too (CLIENT
  // TRACKINGINFO); these keep the reverse map.
  void AddPrefix(const std::string& prefix, uint64_t client);
  void RemovePrefix(const std::string& prefix, uint64_t client);
  // `key` changed, by connection `writer` (0: none of this node's): noted for every
  // prefix it starts with, until TakeBroadcasts.
  void NoteChanged(const std::string& key, uint64_t writer);
  // One prefix's gathered keys (each with the last connection that changed it, for
  // NOLOOP) and the connections to send them to.
  struct Broadcast {
    std::map<std::string, uint64_t> keys;
    std::set<uint64_t> clients;
  };
  // The prefixes with gathered keys, in prefix order; clears the gathered keys.
  std::vector<Broadcast> TakeBroadcasts();

  // INFO's tracking_total_keys, tracking_total_items, tracking_total_prefixes.
  size_t keys() const { return keys_.size(); }
  size_t items() const { return items_; }
  size_t prefixes() const { return prefixes_.size(); }

 private:
  struct Readers {
    std::set<uint64_t> clients;
    uint64_t order = 0;  // when it was first remembered (by_order_'s key)
  };
  size_t max_keys_;
  std::map<std::string, Readers> keys_;
  std::map<uint64_t, std::string> by_order_;  // oldest first
  uint64_t next_order_ = 1;
  size_t items_ = 0;  // sum of the readers of every key
  std::map<std::string, Broadcast> prefixes_;
};

}  // namespace ekv::redis
