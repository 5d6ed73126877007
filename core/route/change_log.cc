#include "core/route/change_log.h"

#include <utility>

#include "core/util/assert.h"

namespace ekv::route {

CatalogChangeLog::CatalogChangeLog(size_t capacity) : capacity_(capacity) {
  EKV_ASSERT(capacity_ >= 1, "change log capacity must be >= 1");
}

void CatalogChangeLog::Reset(CatalogVersion version) {
  deltas_.clear();
  last_version_ = version;
}

void CatalogChangeLog::Append(CatalogDelta delta) {
  EKV_ASSERT(delta.version == last_version_ + 1, "change log needs contiguous versions: at ",
             last_version_, ", got delta for ", delta.version);
  last_version_ = delta.version;
  deltas_.push_back(std::move(delta));
  if (deltas_.size() > capacity_) deltas_.pop_front();
}

std::optional<std::vector<CatalogDelta>> CatalogChangeLog::DeltasSince(
    CatalogVersion version) const {
  if (version > last_version_ || version < first_servable_version()) return std::nullopt;
  std::vector<CatalogDelta> out;
  out.reserve(last_version_ - version);
  const size_t skip = deltas_.size() - (last_version_ - version);
  for (size_t i = skip; i < deltas_.size(); ++i) out.push_back(deltas_[i]);
  return out;
}

}  // namespace ekv::route
