#include "adapters/redis/acl_log.h"

#include <cstdlib>
#include <utility>

namespace ekv::redis {
namespace {

// Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA and how far back it looks for a match.
constexpr int64_t kGroupingWindowMs = 60000;
constexpr size_t kEntriesToMatch = 10;

}  // namespace

void AclLog::Add(AclLogEntry entry) {
  for (size_t i = 0; i < entries_.size() && i < kEntriesToMatch; ++i) {
    AclLogEntry& old = entries_[i];
    const int64_t delta = std::llabs(entry.updated_ms - old.updated_ms);
    if (old.reason == entry.reason && old.context == entry.context && old.object == entry.object &&
        old.username == entry.username && delta <= kGroupingWindowMs) {
      AclLogEntry merged = std::move(old);
      entries_.erase(entries_.begin() + static_cast<long>(i));
      merged.count++;
      merged.updated_ms = entry.updated_ms;
      merged.client_info = std::move(entry.client_info);
      entries_.push_front(std::move(merged));
      return;
    }
  }
  entries_.push_front(std::move(entry));
  while (entries_.size() > kMaxEntries) entries_.pop_back();
}

}  // namespace ekv::redis
