#include "core/redis/set_order.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "core/redis/layout.h"
#include "core/redis/numbers.h"

namespace ekv::redis_core {

bool InIntsetOrder(std::vector<std::string>* members) {
  if (members->size() > kMaxIntsetEntries) return false;
  std::vector<std::pair<int64_t, size_t>> numbers;
  numbers.reserve(members->size());
  for (size_t i = 0; i < members->size(); ++i) {
    const std::optional<int64_t> value = ParseInt64((*members)[i]);
    if (!value.has_value()) return false;
    numbers.emplace_back(*value, i);
  }
  std::sort(numbers.begin(), numbers.end());
  std::vector<std::string> sorted;
  sorted.reserve(members->size());
  for (const auto& [value, index] : numbers) sorted.push_back(std::move((*members)[index]));
  *members = std::move(sorted);
  return true;
}

}  // namespace ekv::redis_core
