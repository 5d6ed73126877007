#include "adapters/redis/pubsub_hub.h"

#include "adapters/redis/resp_writer.h"
#include "core/util/assert.h"

namespace ekv::redis {

void PubSubHub::Add(uint64_t connection_id, const std::string& name, bool pattern) {
  (pattern ? patterns_ : channels_)[name].insert(connection_id);
}

void PubSubHub::Remove(uint64_t connection_id, const std::string& name, bool pattern) {
  auto& registry = pattern ? patterns_ : channels_;
  auto it = registry.find(name);
  if (it == registry.end()) return;
  it->second.erase(connection_id);
  // An empty entry would show in PUBSUB CHANNELS and keep memory for a dead channel.
  if (it->second.empty()) registry.erase(it);
}

int64_t PubSubHub::ForEachReceiver(
    const std::string& channel,
    const std::function<void(uint64_t connection_id, const std::string* pattern)>& deliver) const {
  int64_t receivers = 0;
  if (auto it = channels_.find(channel); it != channels_.end()) {
    for (uint64_t id : it->second) {
      deliver(id, nullptr);
      ++receivers;
    }
  }
  for (const auto& [pattern, ids] : patterns_) {
    if (!GlobMatch(pattern, channel)) continue;
    for (uint64_t id : ids) {
      deliver(id, &pattern);
      ++receivers;
    }
  }
  return receivers;
}

std::vector<std::string> PubSubHub::Channels(absl::string_view pattern) const {
  std::vector<std::string> names;
  for (const auto& [name, ids] : channels_) {
    EKV_ASSERT(!ids.empty(), "a channel without subscribers stays registered");
    if (pattern.empty() || GlobMatch(pattern, name)) names.push_back(name);
  }
  return names;
}

int64_t PubSubHub::Subscribers(const std::string& channel) const {
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : static_cast<int64_t>(it->second.size());
}

namespace {

// Matches pattern[p..] against text[t..]; recursion only at '*', bounded by the pattern's
// length (consecutive stars collapse), like Redis's stringmatchlen.
bool Match(absl::string_view pattern, absl::string_view text, int depth) {
  if (depth > 1000) return false;  // pathological patterns: no match, never a stack overflow
  size_t p = 0, t = 0;
  while (p < pattern.size()) {
    const char c = pattern[p];
    if (c == '*') {
      while (p + 1 < pattern.size() && pattern[p + 1] == '*') ++p;
      if (p + 1 == pattern.size()) return true;
      for (size_t start = t; start <= text.size(); ++start) {
        if (Match(pattern.substr(p + 1), text.substr(start), depth + 1)) return true;
      }
      return false;
    }
    if (t >= text.size()) return false;
    if (c == '?') {
      ++p;
      ++t;
      continue;
    }
    if (c == '[') {
      ++p;
      const bool negate = p < pattern.size() && pattern[p] == '^';
      if (negate) ++p;
      bool matched = false;
      while (p < pattern.size() && pattern[p] != ']') {
        if (pattern[p] == '\\' && p + 1 < pattern.size()) {
          ++p;
          matched = matched || pattern[p] == text[t];
          ++p;
        } else if (p + 2 < pattern.size() && pattern[p + 1] == '-') {
          char lo = pattern[p], hi = pattern[p + 2];
          if (lo > hi) std::swap(lo, hi);
          matched = matched || (text[t] >= lo && text[t] <= hi);
          p += 3;
        } else {
          matched = matched || pattern[p] == text[t];
          ++p;
        }
      }
      if (p < pattern.size()) ++p;  // the ']'
      if (matched == negate) return false;
      ++t;
      continue;
    }
    if (c == '\\' && p + 1 < pattern.size()) ++p;
    if (pattern[p] != text[t]) return false;
    ++p;
    ++t;
  }
  return t == text.size();
}

}  // namespace

bool GlobMatch(absl::string_view pattern, absl::string_view text) {
  return Match(pattern, text, 0);
}

std::string MessageBytes(int protocol, const std::string& channel, const std::string& message,
                         const std::string* pattern) {
  RespWriter writer(protocol);
  writer.PushHeader(pattern == nullptr ? 3 : 4);
  writer.Bulk(pattern == nullptr ? "message" : "pmessage");
  if (pattern != nullptr) writer.Bulk(*pattern);
  writer.Bulk(channel);
  writer.Bulk(message);
  return writer.Take();
}

}  // namespace ekv::redis
