// DUMP payloads (core/redis/rdb_payload.h) against bytes a redis-server 7.0.15 DUMPed:
// the checksum, the small encodings written byte for byte as Redis writes them, LZF
// strings read, and every type round-tripping; hostile payloads are errors, not crashes.
#include "core/redis/rdb_payload.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace ekv::redis_core {
namespace {

std::string Hex(absl::string_view hex) { return absl::HexStringToBytes(hex); }

TEST(RdbPayloadTest, Crc64JonesCheckValue) {
  EXPECT_EQ(Crc64Jones(0, "123456789"), 0xe9c6d914c4b8d9caULL);
}

RdbValue String(std::string s) {
  RdbValue v;
  v.type = Type::kString;
  v.string_value = std::move(s);
  return v;
}

// Payloads redis-server 7.0.15 answered to DUMP (SET s hello; SET n 300; HSET h f v num 12;
// RPUSH l a 1 -5000; ZADD z 1.5 a 2 b; SADD i 1 2 70000).
TEST(RdbPayloadTest, SmallValuesAreByteIdenticalToRedis) {
  EXPECT_EQ(EncodeDumpPayload(String("hello")), Hex("000568656c6c6f0a006372df766534200a"));
  EXPECT_EQ(EncodeDumpPayload(String("300")), Hex("00c12c010a00954261f265825c10"));
  RdbValue hash;
  hash.type = Type::kHash;
  hash.pairs = {{"f", "v"}, {"num", "12"}};
  EXPECT_EQ(EncodeDumpPayload(hash),
            Hex("1014140000000400816602817602836e756d040c01ff0a0046434c01463c3677"));
  RdbValue list;
  list.type = Type::kList;
  list.elements = {"a", "1", "-5000"};
  EXPECT_EQ(EncodeDumpPayload(list),
            Hex("120102101000000003008161020101f178ec03ff0a00be747725a27199b2"));
  RdbValue zset;
  zset.type = Type::kZset;
  zset.scored = {{"b", 2}, {"a", 1.5}};
  EXPECT_EQ(EncodeDumpPayload(zset),
            Hex("111414000000040081610283312e35048162020201ff0a00fa02b425af188763"));
  RdbValue set;
  set.type = Type::kSet;
  set.elements = {"70000", "2", "1"};
  EXPECT_EQ(EncodeDumpPayload(set),
            Hex("0b1404000000030000000100000002000000701101000a0085d5c1065b1dd055"));
}

// A listpack sorted set stores an integral score within +-2^62 as an integer entry, -0 as
// 0 (redis-server 7.0.15: ZADD z -0 b 1e17 a 2.5 c; DUMP z).
TEST(RdbPayloadTest, ListpackScoresAreIntegersWhereRedisMakesThem) {
  RdbValue zset;
  zset.type = Type::kZset;
  zset.scored = {{"a", 1e17}, {"b", -0.0}, {"c", 2.5}};
  EXPECT_EQ(EncodeDumpPayload(zset),
            Hex("1121210000000600816202000181630283322e3504816102f400008a5d7845630109ff0a007061"
                "79c0d7b07448"));
}

TEST(RdbPayloadTest, ReadsRedisPayloadsIncludingLzf) {
  const std::string lzf = Hex("00c30936016161e029000161610a00737e3c546de6af43");
  ASSERT_TRUE(VerifyDumpPayload(lzf));
  absl::StatusOr<RdbValue> value = DecodeDumpPayload(lzf);
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->string_value, std::string(54, 'a'));
  value = DecodeDumpPayload(Hex("120102101000000003008161020101f178ec03ff0a00be747725a27199b2"));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->elements, (std::vector<std::string>{"a", "1", "-5000"}));
  value =
      DecodeDumpPayload(Hex("111414000000040081610283312e35048162020201ff0a00fa02b425af188763"));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->scored, (std::vector<std::pair<std::string, double>>{{"a", 1.5}, {"b", 2}}));
}

TEST(RdbPayloadTest, EveryTypeRoundTripsInBothEncodingClasses) {
  for (size_t n : {size_t{3}, size_t{700}}) {
    RdbValue list;
    list.type = Type::kList;
    RdbValue set;
    set.type = Type::kSet;
    RdbValue ints;
    ints.type = Type::kSet;
    RdbValue hash;
    hash.type = Type::kHash;
    RdbValue zset;
    zset.type = Type::kZset;
    for (size_t i = 0; i < n; ++i) {
      list.elements.push_back(i % 7 == 0 ? std::string(100 + i, 'x') : std::to_string(i * 977));
      set.elements.push_back("m" + std::to_string(i));
      ints.elements.push_back(std::to_string(static_cast<int64_t>(i) * 123456789012LL - 5));
      hash.pairs.emplace_back("f" + std::to_string(i), std::string(i % 90, 'v'));
      zset.scored.emplace_back("z" + std::to_string(i), i * 0.25 - 3);
    }
    for (const RdbValue& value : {list, set, ints, hash}) {
      const std::string payload = EncodeDumpPayload(value);
      ASSERT_TRUE(VerifyDumpPayload(payload));
      absl::StatusOr<RdbValue> back = DecodeDumpPayload(payload);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(back->type, value.type);
      std::vector<std::string> want = value.elements;
      std::vector<std::string> got = back->elements;
      if (value.type == Type::kSet) {
        std::sort(want.begin(), want.end());
        std::sort(got.begin(), got.end());
      }
      EXPECT_EQ(got, want);
      EXPECT_EQ(back->pairs, value.pairs);
    }
    absl::StatusOr<RdbValue> back = DecodeDumpPayload(EncodeDumpPayload(zset));
    ASSERT_TRUE(back.ok()) << back.status();
    std::vector<std::pair<std::string, double>> got = back->scored;
    std::sort(got.begin(), got.end());
    std::vector<std::pair<std::string, double>> want = zset.scored;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want);
  }
}

// Strings longer than 20 bytes are LZF-compressed when that saves 4 bytes, as Redis 7.0
// does: the string itself, and a list's listpack (redis-server 7.0.15's DUMP bytes).
TEST(RdbPayloadTest, LongStringsAreLzfCompressedAsRedisDoes) {
  EXPECT_EQ(EncodeDumpPayload(String(std::string(54, 'a'))),
            Hex("00c30936016161e029000161610a00737e3c546de6af43"));
  RdbValue list;
  list.type = Type::kList;
  list.elements.assign(4, "repeat-repeat");
  EXPECT_EQ(EncodeDumpPayload(list),
            Hex("120102c31940430d4300000004008d7265706561742d8006000ee0230e010eff0a0064685c3f78"
                "4c45e1"));
  // 20 bytes are never compressed; incompressible strings stay as they are.
  EXPECT_EQ(EncodeDumpPayload(String(std::string(20, 'a'))).substr(0, 2), Hex("0014"));
  std::string noise;
  for (int i = 0; i < 64; ++i) noise.push_back(static_cast<char>(i * 37 + 11));
  EXPECT_EQ(EncodeDumpPayload(String(noise)).substr(0, 2), Hex("0040"));
  absl::StatusOr<RdbValue> back =
      DecodeDumpPayload(EncodeDumpPayload(String(std::string(54, 'a'))));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->string_value, std::string(54, 'a'));
}

TEST(RdbPayloadTest, DamagedPayloadsAreRefused) {
  std::string payload = EncodeDumpPayload(String("hello"));
  std::string flipped = payload;
  flipped[3] ^= 1;
  EXPECT_FALSE(VerifyDumpPayload(flipped));
  std::string newer = payload;
  newer[payload.size() - 10] = 11;  // RDB version 11
  EXPECT_FALSE(VerifyDumpPayload(newer));
  EXPECT_FALSE(VerifyDumpPayload("short"));
  // Truncations of a list payload, re-checksummed: an error while the cut leaves far more
  // missing than the footer's 10 bytes Redis (and ekv) may read into; never a crash.
  RdbValue list;
  list.type = Type::kList;
  for (int i = 0; i < 200; ++i) list.elements.push_back(std::string(i % 70, 'q'));
  const std::string full = EncodeDumpPayload(list);
  for (size_t cut = 0; cut < full.size() / 2; ++cut) {
    std::string body = full.substr(0, cut);
    body.append(full.substr(full.size() - 10, 2));
    std::string with_crc = body;
    uint64_t crc = Crc64Jones(0, body);
    for (int i = 0; i < 8; ++i) with_crc.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
    ASSERT_TRUE(VerifyDumpPayload(with_crc));
    EXPECT_FALSE(DecodeDumpPayload(with_crc).ok()) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace ekv::redis_core
