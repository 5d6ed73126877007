// The geohash arithmetic (core/redis/geohash.h) on values Redis 7.0 answers, the orders of
// geo_sort.h, and what the differential test cannot show: a search reads only the score
// ranges of its covering boxes, never the whole set, and GEORADIUS's STORE destination is
// one of its keys (routing and the CROSSSLOT check).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/kv/memory_engine.h"
#include "core/kv/mvcc.h"
#include "core/kv/mvcc_batch.h"
#include "core/kv/timestamp.h"
#include "core/redis/executor.h"
#include "core/redis/geo_sort.h"
#include "core/redis/geohash.h"
#include "core/redis/numbers.h"
#include "core/redis/request.h"
#include "core/redis/store.h"
#include "gtest/gtest.h"

namespace ekv::redis_core {
namespace {

// Redis 7.0's answers for GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669
// Catania (ZSCORE, GEOPOS, GEOHASH, GEODIST).
TEST(GeohashTest, ScoresPositionsHashesAndDistancesAreRedis) {
  EXPECT_EQ(geo::ScoreOf(13.361389, 38.115556), 3479099956230698ULL);
  EXPECT_EQ(geo::ScoreOf(15.087269, 37.502669), 3479447370796909ULL);
  double lon = 0, lat = 0;
  ASSERT_TRUE(geo::DecodeScore(3479099956230698.0, &lon, &lat));
  EXPECT_EQ(FormatLongDouble(lon), "13.36138933897018433");
  EXPECT_EQ(FormatLongDouble(lat), "38.11555639549629859");
  EXPECT_EQ(geo::StandardGeohash(3479099956230698.0), "sqc8b49rny0");
  EXPECT_EQ(geo::StandardGeohash(3479447370796909.0), "sqdtr74hyu0");
  double lon2 = 0, lat2 = 0;
  ASSERT_TRUE(geo::DecodeScore(3479447370796909.0, &lon2, &lat2));
  EXPECT_EQ(geo::FormatDistance(geo::Distance(lon, lat, lon2, lat2)), "166274.1516");
  EXPECT_EQ(geo::FormatDistance(geo::Distance(lon, lat, lon2, lat2) / 1000), "166.2742");
}

TEST(GeohashTest, DistancesHaveFourDecimals) {
  EXPECT_EQ(geo::FormatDistance(0), "0.0000");
  EXPECT_EQ(geo::FormatDistance(-0.0), "0.0000");
  EXPECT_EQ(geo::FormatDistance(0.00004), "0.0000");
  EXPECT_EQ(geo::FormatDistance(0.00006), "0.0001");
  EXPECT_EQ(geo::FormatDistance(0.775), "0.7750");
  EXPECT_EQ(geo::FormatDistance(12345.67891), "12345.6789");
}

TEST(GeohashTest, LimitsAreRedis) {
  geo::HashBits hash;
  EXPECT_TRUE(geo::EncodeWgs84(180, 85.05112878, 26, &hash));
  EXPECT_FALSE(geo::EncodeWgs84(180.0000001, 0, 26, &hash));
  EXPECT_FALSE(geo::EncodeWgs84(0, 85.051129, 26, &hash));
  double lon = 0, lat = 0;
  // Any score decodes, clamped to the limits (scores no GEOADD makes included).
  ASSERT_TRUE(geo::DecodeScore(1e17, &lon, &lat));
  EXPECT_LE(lat, geo::kLatMax);
  EXPECT_LE(lon, geo::kLongMax);
}

// A small radius covers a few boxes of a fine step; a huge one boxes of a coarse step.
TEST(GeohashTest, SearchBoxesFitTheRadius) {
  geo::Shape small;
  small.longitude = 2.35;
  small.latitude = 48.85;
  small.radius = 1;
  small.conversion = 1000;
  const std::array<geo::HashBits, 9> fine = geo::SearchBoxes(small);
  EXPECT_GE(fine[0].step, 13);
  geo::Shape huge = small;
  huge.radius = 5000;
  const std::array<geo::HashBits, 9> coarse = geo::SearchBoxes(huge);
  EXPECT_LE(coarse[0].step, 3);
  uint64_t min = 0, max = 0;
  geo::ScoresOfBox(fine[0], &min, &max);
  EXPECT_LE(min, geo::ScoreOf(2.35, 48.85));
  EXPECT_LT(geo::ScoreOf(2.35, 48.85), max);
}

std::vector<GeoPoint> Points(const std::vector<double>& distances) {
  std::vector<GeoPoint> points;
  for (size_t i = 0; i < distances.size(); ++i) {
    GeoPoint point;
    point.distance = distances[i];
    point.member = absl::StrCat("m", i);
    points.push_back(point);
  }
  return points;
}

std::vector<std::string> Members(const std::vector<GeoPoint>& points, size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n && i < points.size(); ++i) out.push_back(points[i].member);
  return out;
}

TEST(GeoSortTest, FullSortsAreStableBothWays) {
  std::vector<GeoPoint> points = Points({3, 1, 2, 1, 3, 0});
  SortGeoPoints(&points, points.size(), /*descending=*/false);
  EXPECT_EQ(Members(points, 6), (std::vector<std::string>{"m5", "m1", "m3", "m2", "m0", "m4"}));
  points = Points({3, 1, 2, 1, 3, 0});
  SortGeoPoints(&points, points.size(), /*descending=*/true);
  EXPECT_EQ(Members(points, 6), (std::vector<std::string>{"m0", "m4", "m2", "m1", "m3", "m5"}));
}

// pqsort orders the first `returned` positions: the nearest, in order, for any input.
TEST(GeoSortTest, PartialSortsOrderTheFirstPositions) {
  uint64_t state = 42;
  for (int round = 0; round < 200; ++round) {
    std::vector<double> distances;
    const size_t n = 1 + round % 97;
    for (size_t i = 0; i < n; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      distances.push_back(static_cast<double>((state >> 33) % 20));
    }
    const size_t returned = 1 + (state >> 40) % n;
    for (const bool descending : {false, true}) {
      std::vector<GeoPoint> points = Points(distances);
      SortGeoPoints(&points, returned, descending);
      std::vector<double> want = distances;
      std::sort(want.begin(), want.end());
      if (descending) std::reverse(want.begin(), want.end());
      for (size_t i = 0; i < returned; ++i) {
        ASSERT_EQ(points[i].distance, want[i]) << "round " << round << " position " << i;
      }
      std::vector<std::string> members = Members(points, n);
      std::sort(members.begin(), members.end());
      EXPECT_EQ(std::unique(members.begin(), members.end()), members.end());
    }
  }
}

// Counts the records a request's reads step over.
class CountingEngine : public kv::EngineReader {
 public:
  explicit CountingEngine(const kv::EngineReader* inner) : inner_(inner) {}
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const override {
    ++*reads_;
    return inner_->Get(key);
  }
  std::unique_ptr<kv::EngineIterator> NewIterator(const kv::IterOptions& options) const override {
    return std::make_unique<Iterator>(inner_->NewIterator(options), reads_.get());
  }
  uint64_t reads() const { return *reads_; }

 private:
  class Iterator : public kv::EngineIterator {
   public:
    Iterator(std::unique_ptr<kv::EngineIterator> inner, uint64_t* reads)
        : inner_(std::move(inner)), reads_(reads) {}
    bool Valid() const override { return inner_->Valid(); }
    void SeekToFirst() override {
      Count([&] { inner_->SeekToFirst(); });
    }
    void SeekToLast() override {
      Count([&] { inner_->SeekToLast(); });
    }
    void Seek(absl::string_view target) override {
      Count([&] { inner_->Seek(target); });
    }
    void SeekForPrev(absl::string_view target) override {
      Count([&] { inner_->SeekForPrev(target); });
    }
    void Next() override {
      Count([&] { inner_->Next(); });
    }
    void Prev() override {
      Count([&] { inner_->Prev(); });
    }
    absl::string_view key() const override { return inner_->key(); }
    absl::string_view value() const override { return inner_->value(); }
    absl::Status status() const override { return inner_->status(); }

   private:
    template <typename F>
    void Count(F move) {
      move();
      if (inner_->Valid()) ++*reads_;
    }
    std::unique_ptr<kv::EngineIterator> inner_;
    uint64_t* reads_;
  };

  const kv::EngineReader* inner_;
  std::unique_ptr<uint64_t> reads_ = std::make_unique<uint64_t>(0);
};

class GeoExecutorTest : public ::testing::Test {
 protected:
  // Runs one command; `reads` (when set) gets the records it stepped over.
  Reply Run(std::vector<std::string> args, uint64_t* reads = nullptr) {
    RedisRequest request;
    request.routing_key = args.at(1);
    request.seed = 1;
    request.commands.push_back(args);
    const CommandInfo* info = FindCommand(args[0]);
    const bool write = info != nullptr && info->write;
    const kv::Timestamp ts = write ? kv::MakeTimestamp(kNowMs, ++logical_) : 0;
    CountingEngine counting(&engine_);
    Store store(&counting, &mvcc_);
    RequestOutcome outcome = ExecuteRequest(request, &store, kNowMs, ts);
    EXPECT_TRUE(outcome.status.ok()) << outcome.status;
    if (write) {
      kv::MvccBatch batch;
      EXPECT_TRUE(store.Flush(&batch, ts).ok());
      EXPECT_TRUE(mvcc_.Apply(batch).ok());
    }
    if (reads != nullptr) *reads = counting.reads();
    return outcome.reply;
  }

  static constexpr uint64_t kNowMs = 1'000'000;
  kv::MemoryEngine engine_;
  kv::MvccStore mvcc_{&engine_};
  uint64_t logical_ = 0;
};

TEST_F(GeoExecutorTest, SearchesReadOnlyTheirCoveringBoxes) {
  // 2,000 points spread over the world, 5 near the Louvre.
  std::vector<std::string> add = {"GEOADD", "g"};
  uint64_t state = 7;
  for (int i = 0; i < 2000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double lon = -170 + static_cast<double>((state >> 33) % 34000) / 100;
    const double lat = -80 + static_cast<double>((state >> 17) % 16000) / 100;
    add.insert(add.end(), {absl::StrFormat("%.2f", lon), absl::StrFormat("%.2f", lat),
                           absl::StrCat("far", i)});
  }
  for (int i = 0; i < 5; ++i) {
    add.insert(add.end(),
               {absl::StrFormat("%.4f", 2.3376 + i * 0.001), "48.8606", absl::StrCat("louvre", i)});
  }
  EXPECT_EQ(Run(add).integer, 2005);
  uint64_t whole = 0;
  EXPECT_EQ(Run({"ZRANGE", "g", "0", "-1"}, &whole).elements.size(), 2005u);
  EXPECT_GE(whole, 2005u);
  uint64_t reads = 0;
  Reply found = Run(
      {"GEOSEARCH", "g", "FROMLONLAT", "2.3376", "48.8606", "BYRADIUS", "1", "km", "ASC"}, &reads);
  ASSERT_EQ(found.elements.size(), 5u) << DebugString(found);
  EXPECT_EQ(found.elements[0].text, "louvre0");
  EXPECT_LT(reads, 100u) << "a 1 km search read " << reads << " records of a 2,005-member set";
  Reply stored = Run({"GEORADIUS", "g", "2.3376", "48.8606", "1", "km", "STORE", "g2"}, &reads);
  EXPECT_EQ(stored.integer, 5);
  EXPECT_LT(reads, 100u);
}

TEST_F(GeoExecutorTest, StoreDestinationsAreKeys) {
  const CommandInfo* radius = FindCommand("georadius");
  ASSERT_NE(radius, nullptr);
  EXPECT_EQ(CommandKeys(*radius, {"georadius", "s", "1", "2", "3", "km"}),
            (std::vector<std::string>{"s"}));
  EXPECT_EQ(
      CommandKeys(*radius, {"georadius", "s", "1", "2", "3", "km", "STORE", "d", "storedist", "e"}),
      (std::vector<std::string>{"s", "e"}));
  const CommandInfo* by_member = FindCommand("GEORADIUSBYMEMBER");
  ASSERT_NE(by_member, nullptr);
  EXPECT_EQ(CommandKeys(*by_member, {"georadiusbymember", "s", "m", "3", "km", "STORE", "d"}),
            (std::vector<std::string>{"s", "d"}));
  const CommandInfo* search_store = FindCommand("geosearchstore");
  ASSERT_NE(search_store, nullptr);
  EXPECT_EQ(CommandKeys(*search_store,
                        {"geosearchstore", "d", "s", "frommember", "m", "byradius", "1", "km"}),
            (std::vector<std::string>{"d", "s"}));
  const CommandInfo* read_only = FindCommand("georadius_ro");
  ASSERT_NE(read_only, nullptr);
  EXPECT_FALSE(read_only->write);
  EXPECT_EQ(CommandKeys(*read_only, {"georadius_ro", "s", "1", "2", "3", "km", "STORE", "d"}),
            (std::vector<std::string>{"s"}));
}

}  // namespace
}  // namespace ekv::redis_core
