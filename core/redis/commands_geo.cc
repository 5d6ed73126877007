// The GEO commands (Redis 7.0's geo.c). A geo set is a sorted set whose scores are 52-bit
// geohashes (geohash.h): GEOADD is a ZADD of computed scores, and every other sorted-set
// command works on it. A search reads only the score ranges of the 9 grid boxes that
// cover its area (zset_records.h), filters by the exact distance, then sorts and trims as
// Redis does, so the members, their order and every digit of the replies are Redis's.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/kv/status_macros.h"
#include "core/redis/collection.h"
#include "core/redis/geo_sort.h"
#include "core/redis/geohash.h"
#include "core/redis/numbers.h"
#include "core/redis/zset_records.h"

namespace ekv::redis_core {
namespace {

// A double argument, or Redis's error for it (getDoubleFromObjectOrReply: `message`, or
// "value is not a valid float" without one).
std::optional<Reply> ParseDoubleArg(const std::string& text, double* out,
                                    const char* message = nullptr) {
  std::optional<double> value = ParseDouble(text);
  if (!value.has_value()) {
    return message == nullptr ? NotFloatError() : Reply::Error(absl::StrCat("ERR ", message));
  }
  *out = *value;
  return std::nullopt;
}

// extractLongLatOrReply: args[at], args[at + 1] as longitude, latitude within the limits.
std::optional<Reply> ParseLongLat(const Args& args, size_t at, double* longitude,
                                  double* latitude) {
  if (std::optional<Reply> error = ParseDoubleArg(args[at], longitude)) return error;
  if (std::optional<Reply> error = ParseDoubleArg(args[at + 1], latitude)) return error;
  if (*longitude < geo::kLongMin || *longitude > geo::kLongMax || *latitude < geo::kLatMin ||
      *latitude > geo::kLatMax) {
    return Reply::Error(
        absl::StrFormat("ERR invalid longitude,latitude pair %f,%f", *longitude, *latitude));
  }
  return std::nullopt;
}

// extractUnitOrReply: meters per unit.
std::optional<Reply> ParseUnit(const std::string& unit, double* meters) {
  if (absl::EqualsIgnoreCase(unit, "m")) {
    *meters = 1;
  } else if (absl::EqualsIgnoreCase(unit, "km")) {
    *meters = 1000;
  } else if (absl::EqualsIgnoreCase(unit, "ft")) {
    *meters = 0.3048;
  } else if (absl::EqualsIgnoreCase(unit, "mi")) {
    *meters = 1609.34;
  } else {
    return Reply::Error("ERR unsupported unit provided. please use M, KM, FT, MI");
  }
  return std::nullopt;
}

// extractDistanceOrReply: args[at] radius, args[at + 1] unit.
std::optional<Reply> ParseRadius(const Args& args, size_t at, geo::Shape* shape) {
  double radius = 0;
  if (std::optional<Reply> error = ParseDoubleArg(args[at], &radius, "need numeric radius")) {
    return error;
  }
  if (radius < 0) return Reply::Error("ERR radius cannot be negative");
  shape->radius = radius;
  return ParseUnit(args[at + 1], &shape->conversion);
}

// extractBoxOrReply: args[at] width, args[at + 1] height, args[at + 2] unit.
std::optional<Reply> ParseBox(const Args& args, size_t at, geo::Shape* shape) {
  double width = 0, height = 0;
  if (std::optional<Reply> error = ParseDoubleArg(args[at], &width, "need numeric width")) {
    return error;
  }
  if (std::optional<Reply> error = ParseDoubleArg(args[at + 1], &height, "need numeric height")) {
    return error;
  }
  if (height < 0 || width < 0) return Reply::Error("ERR height or width cannot be negative");
  shape->width = width;
  shape->height = height;
  return ParseUnit(args[at + 2], &shape->conversion);
}

// The point a member's score encodes, nullopt when there is no score (or it is outside
// the geohash range).
std::optional<std::pair<double, double>> PointOf(std::optional<double> score) {
  double longitude = 0, latitude = 0;
  if (!score.has_value() || !geo::DecodeScore(*score, &longitude, &latitude)) return std::nullopt;
  return std::make_pair(longitude, latitude);
}

// A member's point, nullopt when it is not in the set.
absl::StatusOr<std::optional<std::pair<double, double>>> MemberPoint(Executor& ex,
                                                                     absl::string_view key,
                                                                     const Meta& meta,
                                                                     absl::string_view member) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<double> score, ZsetScoreOf(ex, key, meta, member));
  return PointOf(score);
}

// The members in the shape, box by box in Redis's order (membersOfAllNeighbors), each
// box's members in score order; with `limit` (COUNT ANY) it stops once that many are found.
absl::StatusOr<std::vector<GeoPoint>> PointsInShape(Executor& ex, absl::string_view key,
                                                    const Meta& meta, const geo::Shape& shape,
                                                    uint64_t limit) {
  const std::array<geo::HashBits, 9> boxes = geo::SearchBoxes(shape);
  std::vector<GeoPoint> points;
  auto full = [&] { return !points.empty() && limit != 0 && points.size() >= limit; };
  size_t last_processed = 0;
  for (size_t i = 0; i < boxes.size(); ++i) {
    if (boxes[i].IsZero()) continue;
    // A huge radius can make adjacent boxes the same box: each is read once (Redis
    // compares with the last box it read, not counting the centre's).
    if (last_processed != 0 && boxes[i] == boxes[last_processed]) continue;
    if (full()) break;
    uint64_t min = 0, max = 0;
    geo::ScoresOfBox(boxes[i], &min, &max);
    EKV_KV_ASSIGN_OR_RETURN(
        std::vector<ZsetEntry> entries,
        ZsetEntriesInScoreRange(ex, key, meta, static_cast<double>(min), static_cast<double>(max)));
    for (ZsetEntry& entry : entries) {
      if (entry.score >= static_cast<double>(max)) break;  // [min, max)
      GeoPoint point;
      if (geo::DecodeScore(entry.score, &point.longitude, &point.latitude) &&
          geo::WithinShape(shape, point.longitude, point.latitude, &point.distance)) {
        point.score = entry.score;
        point.member = std::move(entry.member);
        points.push_back(std::move(point));
      }
      if (full()) break;
    }
    last_processed = i;
  }
  return points;
}

enum GeoFlags : uint32_t {
  kRadiusCoords = 1 << 0,    // GEORADIUS: around a point
  kRadiusMember = 1 << 1,    // GEORADIUSBYMEMBER: around a member
  kRadiusNoStore = 1 << 2,   // the _RO forms: no STORE/STOREDIST
  kGeoSearch = 1 << 3,       // GEOSEARCH's arguments
  kGeoSearchStore = 1 << 4,  // GEOSEARCHSTORE: STOREDIST without a key
};

enum class SortOrder { kNone, kAsc, kDesc };

// georadiusGeneric: every search command, `src_index` its source key's argument.
absl::StatusOr<Reply> SearchGeneric(Executor& ex, const Args& args, size_t src_index,
                                    uint32_t flags) {
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, args[src_index], Type::kZset));
  if (zset.error.has_value()) return *zset.error;
  std::optional<std::string> store_key;
  bool store_dist = false;
  geo::Shape shape;
  size_t base_args = 0;
  if (flags & kRadiusCoords) {
    base_args = 6;
    shape.type = geo::ShapeType::kCircle;
    if (std::optional<Reply> error = ParseLongLat(args, 2, &shape.longitude, &shape.latitude)) {
      return *error;
    }
    if (std::optional<Reply> error = ParseRadius(args, base_args - 2, &shape)) return *error;
  } else if (flags & kRadiusMember) {
    base_args = 5;
    // Without a source key Redis parses the options only, to know which empty reply to give.
    if (zset.exists) {
      shape.type = geo::ShapeType::kCircle;
      EKV_KV_ASSIGN_OR_RETURN(auto point, MemberPoint(ex, args[1], zset.meta, args[2]));
      if (!point.has_value()) return Reply::Error("ERR could not decode requested zset member");
      shape.longitude = point->first;
      shape.latitude = point->second;
      if (std::optional<Reply> error = ParseRadius(args, base_args - 2, &shape)) return *error;
    }
  } else {
    base_args = 2;
    if (flags & kGeoSearchStore) {
      base_args = 3;
      store_key = args[1];
    }
  }

  bool with_dist = false, with_hash = false, with_coords = false;
  bool from_member = false, from_loc = false, by_radius = false, by_box = false;
  SortOrder sort = SortOrder::kNone;
  bool any = false;
  int64_t count = 0;  // 0: unlimited
  const bool search = (flags & kGeoSearch) != 0;
  const bool may_store = !(flags & kRadiusNoStore) && !search;
  const size_t remaining = args.size() > base_args ? args.size() - base_args : 0;
  for (size_t i = 0; i < remaining; ++i) {
    const std::string& arg = args[base_args + i];
    auto is = [&](absl::string_view word) { return absl::EqualsIgnoreCase(arg, word); };
    if (is("withdist")) {
      with_dist = true;
    } else if (is("withhash")) {
      with_hash = true;
    } else if (is("withcoord")) {
      with_coords = true;
    } else if (is("any")) {
      any = true;
    } else if (is("asc")) {
      sort = SortOrder::kAsc;
    } else if (is("desc")) {
      sort = SortOrder::kDesc;
    } else if (is("count") && i + 1 < remaining) {
      std::optional<int64_t> parsed = ParseInt64(args[base_args + i + 1]);
      if (!parsed.has_value()) return NotIntegerError();
      if (*parsed <= 0) return Reply::Error("ERR COUNT must be > 0");
      count = *parsed;
      i++;
    } else if ((is("store") || is("storedist")) && i + 1 < remaining && may_store) {
      store_key = args[base_args + i + 1];
      store_dist = is("storedist");
      i++;
    } else if (is("storedist") && search && (flags & kGeoSearchStore)) {
      store_dist = true;
    } else if (is("frommember") && i + 1 < remaining && search && !from_loc) {
      // Without a source key the member is not looked up: the options are still parsed.
      if (zset.exists) {
        EKV_KV_ASSIGN_OR_RETURN(
            auto point, MemberPoint(ex, args[src_index], zset.meta, args[base_args + i + 1]));
        if (!point.has_value()) {
          return Reply::Error("ERR could not decode requested zset member");
        }
        shape.longitude = point->first;
        shape.latitude = point->second;
      }
      from_member = true;
      i++;
    } else if (is("fromlonlat") && i + 2 < remaining && search && !from_member) {
      if (std::optional<Reply> error =
              ParseLongLat(args, base_args + i + 1, &shape.longitude, &shape.latitude)) {
        return *error;
      }
      from_loc = true;
      i += 2;
    } else if (is("byradius") && i + 2 < remaining && search && !by_box) {
      if (std::optional<Reply> error = ParseRadius(args, base_args + i + 1, &shape)) {
        return *error;
      }
      shape.type = geo::ShapeType::kCircle;
      by_radius = true;
      i += 2;
    } else if (is("bybox") && i + 3 < remaining && search && !by_radius) {
      if (std::optional<Reply> error = ParseBox(args, base_args + i + 1, &shape)) return *error;
      shape.type = geo::ShapeType::kRectangle;
      by_box = true;
      i += 3;
    } else {
      return SyntaxError();
    }
  }

  if (store_key.has_value() && (with_dist || with_hash || with_coords)) {
    return Reply::Error(absl::StrCat(
        "ERR ", (flags & kGeoSearchStore) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS",
        " is not compatible with WITHDIST, WITHHASH and WITHCOORD options"));
  }
  if (search && !(from_member || from_loc)) {
    return Reply::Error(
        absl::StrCat("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ", args[0]));
  }
  if (search && !(by_radius || by_box)) {
    return Reply::Error(
        absl::StrCat("ERR exactly one of BYRADIUS and BYBOX can be specified for ", args[0]));
  }
  if (any && count == 0) return Reply::Error("ERR the ANY argument requires COUNT argument");

  if (!zset.exists) {
    if (!store_key.has_value()) return Reply::Array();
    // The destination is deleted, as for an empty result.
    EKV_KV_RETURN_IF_ERROR(ZsetStore(ex, *store_key, {}));
    return Reply::Integer(0);
  }
  // COUNT without an order keeps the nearest: ascending (not with ANY, which keeps the
  // first found).
  if (count != 0 && sort == SortOrder::kNone && !any) sort = SortOrder::kAsc;

  EKV_KV_ASSIGN_OR_RETURN(
      std::vector<GeoPoint> points,
      PointsInShape(ex, args[src_index], zset.meta, shape, any ? static_cast<uint64_t>(count) : 0));
  if (points.empty() && !store_key.has_value()) return Reply::Array();

  const size_t returned = count == 0 || points.size() < static_cast<uint64_t>(count)
                              ? points.size()
                              : static_cast<size_t>(count);
  if (sort != SortOrder::kNone) SortGeoPoints(&points, returned, sort == SortOrder::kDesc);
  points.resize(returned);

  if (!store_key.has_value()) {
    const bool options = with_dist || with_hash || with_coords;
    std::vector<Reply> out;
    out.reserve(points.size());
    for (GeoPoint& point : points) {
      const double distance = point.distance / shape.conversion;
      if (!options) {
        out.push_back(Reply::Bulk(point.member));
        continue;
      }
      std::vector<Reply> item = {Reply::Bulk(point.member)};
      if (with_dist) item.push_back(Reply::Bulk(geo::FormatDistance(distance)));
      if (with_hash) item.push_back(Reply::Integer(static_cast<int64_t>(point.score)));
      if (with_coords) {
        item.push_back(Reply::Array(
            {Reply::HumanDouble(point.longitude), Reply::HumanDouble(point.latitude)}));
      }
      out.push_back(Reply::Array(std::move(item)));
    }
    return Reply::Array(std::move(out));
  }
  std::vector<ZsetEntry> stored;
  stored.reserve(points.size());
  for (GeoPoint& point : points) {
    const double distance = point.distance / shape.conversion;
    stored.push_back({store_dist ? distance : point.score, std::move(point.member)});
  }
  EKV_KV_RETURN_IF_ERROR(ZsetStore(ex, *store_key, stored));
  return Reply::Integer(static_cast<int64_t>(stored.size()));
}

}  // namespace

// GEOADD key [NX|XX] [CH] longitude latitude member [...]: the ZADD of the members'
// geohash scores, once every point is checked.
EKV_REDIS_HANDLER(CmdGeoAdd) {
  bool nx = false, xx = false;
  size_t first = 2;
  for (; first < args.size(); ++first) {
    const std::string& opt = args[first];
    if (absl::EqualsIgnoreCase(opt, "nx")) {
      nx = true;
    } else if (absl::EqualsIgnoreCase(opt, "xx")) {
      xx = true;
    } else if (!absl::EqualsIgnoreCase(opt, "ch")) {
      break;
    }
  }
  if ((args.size() - first) % 3 != 0 || (xx && nx)) return SyntaxError();
  Args zadd(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(first));
  zadd[0] = "zadd";
  for (size_t i = first; i < args.size(); i += 3) {
    double longitude = 0, latitude = 0;
    if (std::optional<Reply> error = ParseLongLat(args, i, &longitude, &latitude)) return *error;
    zadd.push_back(absl::StrCat(geo::ScoreOf(longitude, latitude)));
    zadd.push_back(args[i + 2]);
  }
  return CmdZAdd(ex, zadd);
}

EKV_REDIS_HANDLER(CmdGeoPos) {
  return ZsetScoresReply(ex, args, [](std::optional<double> score) {
    std::optional<std::pair<double, double>> point = PointOf(score);
    if (!point.has_value()) return Reply::NilArray();
    return Reply::Array({Reply::HumanDouble(point->first), Reply::HumanDouble(point->second)});
  });
}

EKV_REDIS_HANDLER(CmdGeoHash) {
  return ZsetScoresReply(ex, args, [](std::optional<double> score) {
    return score.has_value() ? Reply::Bulk(geo::StandardGeohash(*score)) : Reply::Nil();
  });
}

// GEODIST key member1 member2 [unit]: the unit is checked before the key.
EKV_REDIS_HANDLER(CmdGeoDist) {
  double to_meters = 1;
  if (args.size() == 5) {
    if (std::optional<Reply> error = ParseUnit(args[4], &to_meters)) return *error;
  } else if (args.size() > 5) {
    return SyntaxError();
  }
  EKV_KV_ASSIGN_OR_RETURN(Collection zset, LookupCollection(ex, args[1], Type::kZset));
  if (zset.error.has_value()) return *zset.error;
  if (!zset.exists) return Reply::Nil();
  EKV_KV_ASSIGN_OR_RETURN(auto first, MemberPoint(ex, args[1], zset.meta, args[2]));
  EKV_KV_ASSIGN_OR_RETURN(auto second, MemberPoint(ex, args[1], zset.meta, args[3]));
  if (!first.has_value() || !second.has_value()) return Reply::Nil();
  return Reply::Bulk(geo::FormatDistance(
      geo::Distance(first->first, first->second, second->first, second->second) / to_meters));
}

EKV_REDIS_HANDLER(CmdGeoRadius) { return SearchGeneric(ex, args, 1, kRadiusCoords); }
EKV_REDIS_HANDLER(CmdGeoRadiusByMember) { return SearchGeneric(ex, args, 1, kRadiusMember); }
EKV_REDIS_HANDLER(CmdGeoRadiusRo) {
  return SearchGeneric(ex, args, 1, kRadiusCoords | kRadiusNoStore);
}
EKV_REDIS_HANDLER(CmdGeoRadiusByMemberRo) {
  return SearchGeneric(ex, args, 1, kRadiusMember | kRadiusNoStore);
}
EKV_REDIS_HANDLER(CmdGeoSearch) { return SearchGeneric(ex, args, 1, kGeoSearch); }
EKV_REDIS_HANDLER(CmdGeoSearchStore) {
  return SearchGeneric(ex, args, 2, kGeoSearch | kGeoSearchStore);
}

std::vector<std::string> GeoRadiusKeys(const Args& args) {
  // georadiusGetKeys: the source, then the last STORE/STOREDIST destination.
  std::vector<std::string> keys;
  if (args.size() < 2) return keys;
  keys.push_back(args[1]);
  std::optional<size_t> stored;
  for (size_t i = 5; i < args.size(); ++i) {
    if ((absl::EqualsIgnoreCase(args[i], "store") ||
         absl::EqualsIgnoreCase(args[i], "storedist")) &&
        i + 1 < args.size()) {
      stored = i + 1;
      i++;
    }
  }
  if (stored.has_value()) keys.push_back(args[*stored]);
  return keys;
}

}  // namespace ekv::redis_core
