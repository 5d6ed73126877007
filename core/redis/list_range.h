// A list's elements by position, for the list commands and SORT.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/kv/status_macros.h"
#include "core/redis/executor.h"
#include "core/redis/layout.h"

namespace ekv::redis_core {

// The elements at positions [from, from + count) (0 = head), in order.
inline absl::StatusOr<std::vector<std::string>> ListRange(Executor& ex, absl::string_view key,
                                                          const Meta& meta, uint64_t from,
                                                          uint64_t count) {
  EKV_KV_ASSIGN_OR_RETURN(Store::Records records,
                          ex.Elements(key, meta, EncodeIndex(meta.head + from), count));
  std::vector<std::string> out;
  out.reserve(records.size());
  for (auto& [subkey, value] : records) out.push_back(std::move(value));
  return out;
}

}  // namespace ekv::redis_core
