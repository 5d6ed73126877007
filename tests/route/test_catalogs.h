// Shared fixtures for the route tests: the demo topology and seeded random catalogs.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/route/catalog.h"
#include "core/util/assert.h"
#include "core/util/rng.h"
#include "gtest/gtest.h"

namespace ekv::route::testing {

// REFERENCE §1: route 1 = ["", "m") on group 1, route 2 = ["m", +inf) on group 2.
inline RouteCatalog DemoCatalog() {
  auto catalog = RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 2}});
  EKV_ASSERT(catalog.ok(), "demo catalog must bootstrap");
  return *std::move(catalog);
}

// A random key of 1..3 bytes from a small alphabet, so splits collide with scans often.
inline std::string RandomKey(Rng& rng) {
  static constexpr char kAlphabet[] = "abcdefgh";
  std::string key;
  const uint64_t length = rng.Range(1, 3);
  for (uint64_t i = 0; i < length; ++i) key.push_back(kAlphabet[rng.Uniform(8)]);
  return key;
}

// Splits a random route at a random key strictly inside it; false if the draw did not
// land inside any splittable route (the catalog is then unchanged).
inline bool RandomSplit(RouteCatalog& catalog, Rng& rng, CatalogDelta* delta = nullptr) {
  const std::string key = RandomKey(rng);
  const RouteDescriptor* route = catalog.RouteForKey(key);
  if (route->start == key || route->state != RouteState::kActive) return false;
  auto result = catalog.Split({catalog.version(), route->route_id, key});
  EKV_ASSERT(result.ok(), "random split inside a route must succeed: ", result.status().message());
  if (delta != nullptr) *delta = result->delta;
  return true;
}

}  // namespace ekv::route::testing
