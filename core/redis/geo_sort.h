// The orders of GEO search results, exactly as Redis 7.0 sorts them: by distance with
// glibc's qsort (a stable merge sort) when every result is returned, and with Redis's
// pqsort (a partial quicksort, not stable) when COUNT keeps fewer. Points at equal
// distances keep whatever order those algorithms leave them in, so the same algorithms
// run here on the same input order.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ekv::redis_core {

// One search result (Redis's geoPoint).
struct GeoPoint {
  double longitude = 0;
  double latitude = 0;
  double distance = 0;  // meters from the search centre
  double score = 0;
  std::string member;
};

// Sorts `points` by distance, ascending or descending; with `returned` below the size,
// only the first `returned` positions are guaranteed to be in order (pqsort).
void SortGeoPoints(std::vector<GeoPoint>* points, size_t returned, bool descending);

}  // namespace ekv::redis_core
