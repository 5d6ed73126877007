// CatalogChangeLog: the last N catalog deltas, so a watcher that is a little behind gets
// exactly the changes it missed and one that is far behind gets a full snapshot instead.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "core/route/catalog.h"

namespace ekv::route {

class CatalogChangeLog {
 public:
  // Keeps at most `capacity` deltas (>= 1); older ones are dropped first.
  explicit CatalogChangeLog(size_t capacity);

  // Forgets every delta and continues from `version` (after a snapshot jump the deltas
  // in between are unknown).
  void Reset(CatalogVersion version);
  // Requires delta.version == last_version() + 1.
  void Append(CatalogDelta delta);

  CatalogVersion last_version() const { return last_version_; }
  // The oldest version a reader may be at and still be served deltas.
  CatalogVersion first_servable_version() const { return last_version_ - deltas_.size(); }
  size_t size() const { return deltas_.size(); }
  size_t capacity() const { return capacity_; }

  // The deltas that turn `version` into last_version(), oldest first (empty when
  // version == last_version()); nullopt when some were dropped or version is ahead.
  std::optional<std::vector<CatalogDelta>> DeltasSince(CatalogVersion version) const;

 private:
  size_t capacity_;
  CatalogVersion last_version_ = 0;
  std::deque<CatalogDelta> deltas_;  // versions last_version_ - size() + 1 .. last_version_
};

}  // namespace ekv::route
