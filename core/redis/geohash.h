// The geohash arithmetic of Redis's GEO commands (Redis 7.0's geohash.c, geohash_helper.c
// and geo.c): a point is a 52-bit interleaved geohash (26 bits of latitude, 26 of
// longitude) over longitudes [-180, 180] and latitudes [-85.05112878, 85.05112878], kept
// as a sorted set score. A radius or box search covers its area with a box of the grid
// at a step fitting the radius and its 8 neighbours, and reads only the score ranges of
// those 9 boxes. Same constants and the same double arithmetic as Redis, in the same
// order, so the decoded coordinates and distances match Redis's to the last digit.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace ekv::redis_core::geo {

inline constexpr double kLongMin = -180;
inline constexpr double kLongMax = 180;
inline constexpr double kLatMin = -85.05112878;
inline constexpr double kLatMax = 85.05112878;
inline constexpr uint8_t kStepMax = 26;  // 26 * 2 = 52 bits

struct HashBits {
  uint64_t bits = 0;
  uint8_t step = 0;
  bool IsZero() const { return bits == 0 && step == 0; }
  bool operator==(const HashBits&) const = default;
};

struct Range {
  double min = 0;
  double max = 0;
};

struct Area {
  HashBits hash;
  Range longitude;
  Range latitude;
};

// A point's geohash at `step` over the given ranges; false for coordinates outside
// Redis's limits or the ranges.
bool Encode(const Range& long_range, const Range& lat_range, double longitude, double latitude,
            uint8_t step, HashBits* hash);
// Over Redis's ranges (WGS84 limits above).
bool EncodeWgs84(double longitude, double latitude, uint8_t step, HashBits* hash);
bool Decode(const Range& long_range, const Range& lat_range, const HashBits& hash, Area* area);
// A 26-step hash's centre, clamped to the limits.
bool DecodeToLongLat(const HashBits& hash, double* longitude, double* latitude);

// The 52-bit score of a hash (its bits moved up to 52).
uint64_t Align52Bits(const HashBits& hash);
// A stored score's point (Redis's decodeGeohash: the score converted to an integer as C
// does on x86-64, then decoded at step 26). Always succeeds for finite scores, as in Redis.
bool DecodeScore(double score, double* longitude, double* latitude);
// The score GEOADD stores for a point inside the limits.
uint64_t ScoreOf(double longitude, double latitude);

// Haversine distance in meters on Redis's earth radius.
double Distance(double lon1, double lat1, double lon2, double lat2);

enum class ShapeType { kCircle, kRectangle };

// A search area (Redis's GeoShape): its centre, meters per unit, and the radius or the
// box's width and height in that unit.
struct Shape {
  ShapeType type = ShapeType::kCircle;
  double longitude = 0;
  double latitude = 0;
  double conversion = 1;
  double radius = 0;
  double width = 0;
  double height = 0;
};

// Whether the point at longitude/latitude lies in the shape; `distance` (meters from the
// centre) is set when it does.
bool WithinShape(const Shape& shape, double longitude, double latitude, double* distance);

// The 9 boxes a search reads, in Redis's order (centre, N, S, E, W, NE, NW, SE, SW); a
// zero hash is a box the search skips.
std::array<HashBits, 9> SearchBoxes(const Shape& shape);
// The score range [min, max) of a box.
void ScoresOfBox(HashBits hash, uint64_t* min, uint64_t* max);

// The 11-character standard geohash (latitude over [-90, 90]) of a stored score, as
// GEOHASH answers.
std::string StandardGeohash(double score);
// A distance as Redis writes it: 4 fractional digits (fixedpoint_d2string).
std::string FormatDistance(double value);

}  // namespace ekv::redis_core::geo
