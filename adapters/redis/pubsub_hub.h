// PubSubHub: one node's subscription registry (channel -> subscribed connections,
// pattern -> subscribed connections) and the bytes of a delivered message. Owned by the
// server's event loop and used only on its thread. Ordered containers, so deliveries and
// PUBSUB CHANNELS come out in a stable order (Redis's follows its hash table instead).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ekv::redis {

class PubSubHub {
 public:
  void Add(uint64_t connection_id, const std::string& name, bool pattern);
  void Remove(uint64_t connection_id, const std::string& name, bool pattern);

  // Calls deliver(connection_id, pattern_or_empty) for every subscriber of `channel`:
  // channel subscribers first, then each matching pattern's, as Redis does. Returns the
  // number of calls.
  int64_t ForEachReceiver(
      const std::string& channel,
      const std::function<void(uint64_t connection_id, const std::string* pattern)>& deliver) const;

  std::vector<std::string> Channels(absl::string_view pattern) const;  // empty: all
  int64_t Subscribers(const std::string& channel) const;
  int64_t Patterns() const { return static_cast<int64_t>(patterns_.size()); }

 private:
  std::map<std::string, std::set<uint64_t>> channels_;
  std::map<std::string, std::set<uint64_t>> patterns_;
};

// Redis's glob (stringmatchlen): * ? [abc] [^a-z] and \ escapes, case-sensitive.
bool GlobMatch(absl::string_view pattern, absl::string_view text);

// A delivered message as the subscriber's protocol shows it: RESP2 array, RESP3 push.
std::string MessageBytes(int protocol, const std::string& channel, const std::string& message,
                         const std::string* pattern);

}  // namespace ekv::redis
