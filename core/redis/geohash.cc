#include "core/redis/geohash.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace ekv::redis_core::geo {
namespace {

// Redis's constants (geohash_helper.c), written as it writes them so the compiler folds
// them to the same doubles.
constexpr double kPi = 3.14159265358979323846;  // M_PI
constexpr double kDegToRad = kPi / 180.0;       // D_R
constexpr double kEarthRadiusInMeters = 6372797.560856;
constexpr double kMercatorMax = 20037726.37;

double DegRad(double angle) { return angle * kDegToRad; }
double RadDeg(double angle) { return angle / kDegToRad; }

Range LongRange() { return {kLongMin, kLongMax}; }
Range LatRange() { return {kLatMin, kLatMax}; }

// Bits of `x` to the even positions and of `y` to the odd ones.
uint64_t Interleave64(uint32_t xlo, uint32_t ylo) {
  static constexpr uint64_t kB[] = {0x5555555555555555ULL, 0x3333333333333333ULL,
                                    0x0F0F0F0F0F0F0F0FULL, 0x00FF00FF00FF00FFULL,
                                    0x0000FFFF0000FFFFULL};
  static constexpr unsigned kS[] = {1, 2, 4, 8, 16};
  uint64_t x = xlo;
  uint64_t y = ylo;
  for (int i = 4; i >= 0; --i) {
    x = (x | (x << kS[i])) & kB[i];
    y = (y | (y << kS[i])) & kB[i];
  }
  return x | (y << 1);
}

// The inverse: even bits to the low 32, odd bits to the high 32.
uint64_t Deinterleave64(uint64_t interleaved) {
  static constexpr uint64_t kB[] = {0x5555555555555555ULL, 0x3333333333333333ULL,
                                    0x0F0F0F0F0F0F0F0FULL, 0x00FF00FF00FF00FFULL,
                                    0x0000FFFF0000FFFFULL, 0x00000000FFFFFFFFULL};
  static constexpr unsigned kS[] = {0, 1, 2, 4, 8, 16};
  uint64_t x = interleaved;
  uint64_t y = interleaved >> 1;
  for (int i = 0; i < 6; ++i) {
    x = (x | (x >> kS[i])) & kB[i];
    y = (y | (y >> kS[i])) & kB[i];
  }
  return x | (y << 32);
}

void MoveX(HashBits* hash, int d) {
  if (d == 0) return;
  uint64_t x = hash->bits & 0xaaaaaaaaaaaaaaaaULL;
  const uint64_t y = hash->bits & 0x5555555555555555ULL;
  const uint64_t zz = 0x5555555555555555ULL >> (64 - hash->step * 2);
  if (d > 0) {
    x = x + (zz + 1);
  } else {
    x = x | zz;
    x = x - (zz + 1);
  }
  x &= (0xaaaaaaaaaaaaaaaaULL >> (64 - hash->step * 2));
  hash->bits = x | y;
}

void MoveY(HashBits* hash, int d) {
  if (d == 0) return;
  const uint64_t x = hash->bits & 0xaaaaaaaaaaaaaaaaULL;
  uint64_t y = hash->bits & 0x5555555555555555ULL;
  const uint64_t zz = 0xaaaaaaaaaaaaaaaaULL >> (64 - hash->step * 2);
  if (d > 0) {
    y = y + (zz + 1);
  } else {
    y = y | zz;
    y = y - (zz + 1);
  }
  y &= (0x5555555555555555ULL >> (64 - hash->step * 2));
  hash->bits = x | y;
}

HashBits Moved(HashBits hash, int dx, int dy) {
  MoveX(&hash, dx);
  MoveY(&hash, dy);
  return hash;
}

// geohashEstimateStepsByRadius: the step whose boxes are about the radius's size.
int EstimateStepsByRadius(double range_meters, double lat) {
  if (range_meters == 0) return 26;
  int step = 1;
  while (range_meters < kMercatorMax) {
    range_meters *= 2;
    step++;
  }
  step -= 2;  // so the range fits in most cases
  // Boxes narrow towards the poles.
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

// Latitude distance (the haversine with equal longitudes reduces to this).
double LatDistance(double lat1d, double lat2d) {
  return kEarthRadiusInMeters * std::fabs(DegRad(lat2d) - DegRad(lat1d));
}

}  // namespace

bool Encode(const Range& long_range, const Range& lat_range, double longitude, double latitude,
            uint8_t step, HashBits* hash) {
  if (step > 32 || step == 0) return false;
  if ((lat_range.max == 0 && lat_range.min == 0) || (long_range.max == 0 && long_range.min == 0)) {
    return false;
  }
  if (longitude > kLongMax || longitude < kLongMin || latitude > kLatMax || latitude < kLatMin) {
    return false;
  }
  hash->bits = 0;
  hash->step = step;
  if (latitude < lat_range.min || latitude > lat_range.max || longitude < long_range.min ||
      longitude > long_range.max) {
    return false;
  }
  double lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
  double long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
  lat_offset *= static_cast<double>(1ULL << step);
  long_offset *= static_cast<double>(1ULL << step);
  hash->bits = Interleave64(static_cast<uint32_t>(lat_offset), static_cast<uint32_t>(long_offset));
  return true;
}

bool EncodeWgs84(double longitude, double latitude, uint8_t step, HashBits* hash) {
  return Encode(LongRange(), LatRange(), longitude, latitude, step, hash);
}

bool Decode(const Range& long_range, const Range& lat_range, const HashBits& hash, Area* area) {
  if (hash.IsZero() || (lat_range.max == 0 && lat_range.min == 0) ||
      (long_range.max == 0 && long_range.min == 0)) {
    return false;
  }
  area->hash = hash;
  const uint8_t step = hash.step;
  const uint64_t hash_sep = Deinterleave64(hash.bits);  // [LAT][LONG]
  const double lat_scale = lat_range.max - lat_range.min;
  const double long_scale = long_range.max - long_range.min;
  const uint32_t ilato = static_cast<uint32_t>(hash_sep);
  const uint32_t ilono = static_cast<uint32_t>(hash_sep >> 32);
  const double cells = static_cast<double>(1ULL << step);
  area->latitude.min = lat_range.min + (ilato * 1.0 / cells) * lat_scale;
  area->latitude.max = lat_range.min + ((ilato + 1) * 1.0 / cells) * lat_scale;
  area->longitude.min = long_range.min + (ilono * 1.0 / cells) * long_scale;
  area->longitude.max = long_range.min + ((ilono + 1) * 1.0 / cells) * long_scale;
  return true;
}

bool DecodeToLongLat(const HashBits& hash, double* longitude, double* latitude) {
  Area area;
  if (!Decode(LongRange(), LatRange(), hash, &area)) return false;
  double x = (area.longitude.min + area.longitude.max) / 2;
  if (x > kLongMax) x = kLongMax;
  if (x < kLongMin) x = kLongMin;
  double y = (area.latitude.min + area.latitude.max) / 2;
  if (y > kLatMax) y = kLatMax;
  if (y < kLatMin) y = kLatMin;
  *longitude = x;
  *latitude = y;
  return true;
}

uint64_t Align52Bits(const HashBits& hash) { return hash.bits << (52 - hash.step * 2); }

bool DecodeScore(double score, double* longitude, double* latitude) {
  // C's (uint64_t)score as GCC compiles it for x86-64 (cvttsd2si, with 2^63 subtracted
  // for the upper half): what Redis's decodeGeohash gets for any score a ZADD stored.
  constexpr double kTwo63 = 9223372036854775808.0;
  constexpr uint64_t kIndefinite = 0x8000000000000000ULL;
  auto truncate_signed = [](double value) -> uint64_t {
    if (std::isnan(value) || value < -kTwo63 || value >= kTwo63) return kIndefinite;
    return static_cast<uint64_t>(static_cast<int64_t>(value));
  };
  uint64_t bits = 0;
  if (score >= kTwo63) {
    bits = truncate_signed(score - kTwo63) ^ kIndefinite;
  } else {
    bits = truncate_signed(score);
  }
  return DecodeToLongLat(HashBits{bits, kStepMax}, longitude, latitude);
}

uint64_t ScoreOf(double longitude, double latitude) {
  HashBits hash;
  EncodeWgs84(longitude, latitude, kStepMax, &hash);
  return Align52Bits(hash);
}

double Distance(double lon1d, double lat1d, double lon2d, double lat2d) {
  const double lon1r = DegRad(lon1d);
  const double lon2r = DegRad(lon2d);
  const double v = std::sin((lon2r - lon1r) / 2);
  // Equal longitudes: only the latitudes matter (and Redis skips the trigonometry).
  if (v == 0.0) return LatDistance(lat1d, lat2d);
  const double lat1r = DegRad(lat1d);
  const double lat2r = DegRad(lat2d);
  const double u = std::sin((lat2r - lat1r) / 2);
  const double a = u * u + std::cos(lat1r) * std::cos(lat2r) * v * v;
  return 2.0 * kEarthRadiusInMeters * std::asin(std::sqrt(a));
}

bool WithinShape(const Shape& shape, double longitude, double latitude, double* distance) {
  if (shape.type == ShapeType::kCircle) {
    *distance = Distance(shape.longitude, shape.latitude, longitude, latitude);
    return *distance <= shape.radius * shape.conversion;
  }
  // geohashGetDistanceIfInRectangle: the latitude condition first (cheaper), then the
  // longitude one along the point's own parallel.
  const double width_m = shape.width * shape.conversion;
  const double height_m = shape.height * shape.conversion;
  if (LatDistance(latitude, shape.latitude) > height_m / 2) return false;
  if (Distance(longitude, latitude, shape.longitude, latitude) > width_m / 2) return false;
  *distance = Distance(shape.longitude, shape.latitude, longitude, latitude);
  return true;
}

std::array<HashBits, 9> SearchBoxes(const Shape& shape) {
  // geohashBoundingBox: the area's bounds (its east and west edges are taken at the
  // parallel farther from the equator, where degrees of longitude are shortest).
  const bool circle = shape.type == ShapeType::kCircle;
  const double height = shape.conversion * (circle ? shape.radius : shape.height / 2);
  const double width = shape.conversion * (circle ? shape.radius : shape.width / 2);
  const double lat_delta = RadDeg(height / kEarthRadiusInMeters);
  const double long_delta_top =
      RadDeg(width / kEarthRadiusInMeters / std::cos(DegRad(shape.latitude + lat_delta)));
  const double long_delta_bottom =
      RadDeg(width / kEarthRadiusInMeters / std::cos(DegRad(shape.latitude - lat_delta)));
  const bool southern = shape.latitude < 0;
  const double min_lon =
      southern ? shape.longitude - long_delta_bottom : shape.longitude - long_delta_top;
  const double max_lon =
      southern ? shape.longitude + long_delta_bottom : shape.longitude + long_delta_top;
  const double min_lat = shape.latitude - lat_delta;
  const double max_lat = shape.latitude + lat_delta;

  // geohashCalculateAreasByShapeWGS84: a box's radius is the distance to its corner.
  double radius_meters = circle ? shape.radius
                                : std::sqrt((shape.width / 2) * (shape.width / 2) +
                                            (shape.height / 2) * (shape.height / 2));
  radius_meters *= shape.conversion;
  int steps = EstimateStepsByRadius(radius_meters, shape.latitude);

  const Range long_range = LongRange();
  const Range lat_range = LatRange();
  HashBits hash;
  Area area;
  auto at_step = [&](int step) {
    Encode(long_range, lat_range, shape.longitude, shape.latitude, static_cast<uint8_t>(step),
           &hash);
    Decode(long_range, lat_range, hash, &area);
  };
  at_step(steps);
  // When the neighbours do not reach the area's edges, one step coarser.
  bool decrease_step = false;
  {
    Area north, south, east, west;
    Decode(long_range, lat_range, Moved(hash, 0, 1), &north);
    Decode(long_range, lat_range, Moved(hash, 0, -1), &south);
    Decode(long_range, lat_range, Moved(hash, 1, 0), &east);
    Decode(long_range, lat_range, Moved(hash, -1, 0), &west);
    if (north.latitude.max < max_lat) decrease_step = true;
    if (south.latitude.min > min_lat) decrease_step = true;
    if (east.longitude.max < max_lon) decrease_step = true;
    if (west.longitude.min > min_lon) decrease_step = true;
  }
  if (steps > 1 && decrease_step) {
    steps--;
    at_step(steps);
  }
  HashBits north = Moved(hash, 0, 1), south = Moved(hash, 0, -1), east = Moved(hash, 1, 0),
           west = Moved(hash, -1, 0), north_east = Moved(hash, 1, 1),
           north_west = Moved(hash, -1, 1), south_east = Moved(hash, 1, -1),
           south_west = Moved(hash, -1, -1);
  // Boxes wholly outside the area are skipped.
  if (steps >= 2) {
    if (area.latitude.min < min_lat) south = south_west = south_east = HashBits{};
    if (area.latitude.max > max_lat) north = north_east = north_west = HashBits{};
    if (area.longitude.min < min_lon) west = south_west = north_west = HashBits{};
    if (area.longitude.max > max_lon) east = south_east = north_east = HashBits{};
  }
  return {hash, north, south, east, west, north_east, north_west, south_east, south_west};
}

void ScoresOfBox(HashBits hash, uint64_t* min, uint64_t* max) {
  *min = Align52Bits(hash);
  hash.bits++;
  *max = Align52Bits(hash);
}

std::string StandardGeohash(double score) {
  static constexpr char kAlphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
  double longitude = 0, latitude = 0;
  DecodeScore(score, &longitude, &latitude);
  HashBits hash;
  Encode(Range{-180, 180}, Range{-90, 90}, longitude, latitude, 26, &hash);
  std::string out(11, '0');
  // 52 bits make 10 characters; the 11th is always '0', as Redis writes it.
  for (int i = 0; i < 10; ++i) out[i] = kAlphabet[(hash.bits >> (52 - ((i + 1) * 5))) & 0x1f];
  return out;
}

std::string FormatDistance(double value) {
  // fixedpoint_d2string(..., 4): rounded to a multiple of 1e-4 (llrint), then printed.
  if (value == 0) return "0.0000";
  const long long scaled = std::llrint(value * 10000.0);
  const bool negative = scaled < 0;
  const unsigned long long magnitude = negative ? 0ULL - static_cast<unsigned long long>(scaled)
                                                : static_cast<unsigned long long>(scaled);
  return absl::StrFormat("%s%u.%04u", negative ? "-" : "", magnitude / 10000, magnitude % 10000);
}

}  // namespace ekv::redis_core::geo
