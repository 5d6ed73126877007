#include "core/kv/key_codec.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "core/util/rng.h"
#include "gtest/gtest.h"

namespace ekv::kv {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

// Short keys over an alphabet that stresses the escaping: 0x00, 0x01, 0xff and letters.
std::string RandomUserKey(Rng& rng) {
  static const char kAlphabet[] = {'\x00', '\x01', '\x02', 'a', 'b', '\xfe', '\xff'};
  std::string key;
  const size_t length = rng.Uniform(5);
  for (size_t i = 0; i < length; ++i) key.push_back(kAlphabet[rng.Uniform(sizeof(kAlphabet))]);
  return key;
}

TEST(KeyCodecTest, EncodesUserKeysAsMemcomparable) {
  EXPECT_EQ(EncodeUserKey(""), Bytes({0x00, 0x01}));
  EXPECT_EQ(EncodeUserKey("ab"), Bytes({'a', 'b', 0x00, 0x01}));
  EXPECT_EQ(EncodeUserKey(Bytes({'a', 0x00, 0xff})), Bytes({'a', 0x00, 0xff, 0xff, 0x00, 0x01}));
}

TEST(KeyCodecTest, UserKeyRoundTrips) {
  Rng rng(1);
  for (int i = 0; i < 2000; ++i) {
    const std::string key = RandomUserKey(rng);
    std::string encoded = EncodeUserKey(key);
    encoded += "tail";
    absl::string_view input = encoded;
    absl::StatusOr<std::string> decoded = DecodeUserKey(&input);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, key);
    EXPECT_EQ(input, "tail");
  }
}

TEST(KeyCodecTest, MalformedUserKeysAreDataLoss) {
  for (const std::string& bad :
       {std::string("abc"), Bytes({'a', 0x00}), Bytes({'a', 0x00, 0x02, 0x00, 0x01})}) {
    absl::string_view input = bad;
    EXPECT_TRUE(absl::IsDataLoss(DecodeUserKey(&input).status()));
  }
}

TEST(KeyCodecTest, DataKeyRoundTrips) {
  Rng rng(2);
  for (int i = 0; i < 2000; ++i) {
    const std::string key = RandomUserKey(rng);
    const Timestamp ts = rng.Next();
    const std::string encoded = DataKey(key, ts);
    absl::StatusOr<DecodedDataKey> decoded = DecodeDataKey(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->user_key, key);
    EXPECT_EQ(decoded->commit_ts, ts);
    EXPECT_EQ(VersionedKeyPrefix(encoded), DataKeyPrefix(key));
    EXPECT_EQ(VersionedKeyTimestamp(encoded), ts);
  }
  EXPECT_FALSE(DecodeDataKey(LockKey("a")).ok());
  EXPECT_FALSE(DecodeDataKey(DataKeyPrefix("a")).ok());
  EXPECT_FALSE(DecodeDataKey(DataKey("a", 1) + "x").ok());
}

// The central property: encoded order is (user key ascending, timestamp descending).
TEST(KeyCodecTest, EncodedOrderIsKeyAscendingThenTimestampDescending) {
  Rng rng(3);
  struct Version {
    std::string user_key;
    Timestamp ts;
    std::string encoded;
  };
  for (int round = 0; round < 50; ++round) {
    std::vector<Version> versions;
    for (int i = 0; i < 200; ++i) {
      Version v{RandomUserKey(rng), rng.Chance(0.2) ? rng.Next() : rng.Uniform(4), ""};
      v.encoded = DataKey(v.user_key, v.ts);
      versions.push_back(std::move(v));
    }
    std::vector<Version> by_encoding = versions;
    std::sort(by_encoding.begin(), by_encoding.end(),
              [](const Version& a, const Version& b) { return a.encoded < b.encoded; });
    std::vector<Version> by_model = versions;
    std::sort(by_model.begin(), by_model.end(), [](const Version& a, const Version& b) {
      return std::forward_as_tuple(a.user_key, b.ts) < std::forward_as_tuple(b.user_key, a.ts);
    });
    for (size_t i = 0; i < versions.size(); ++i) {
      ASSERT_EQ(by_encoding[i].user_key, by_model[i].user_key) << "round " << round << " i " << i;
      ASSERT_EQ(by_encoding[i].ts, by_model[i].ts);
    }
  }
}

TEST(KeyCodecTest, PrefixBoundsEncloseExactlyOneKeysVersions) {
  Rng rng(4);
  for (int i = 0; i < 2000; ++i) {
    const std::string a = RandomUserKey(rng);
    const std::string b = RandomUserKey(rng);
    const Timestamp ts = rng.Next();
    // All of a's versions lie in [DataKeyPrefix(a), DataKeyPrefixEnd(a)).
    EXPECT_LE(DataKeyPrefix(a), DataKey(a, ts));
    EXPECT_LT(DataKey(a, ts), DataKeyPrefixEnd(a));
    if (a == b) continue;
    const std::string vb = DataKey(b, rng.Next());
    const bool inside = DataKeyPrefix(a) <= vb && vb < DataKeyPrefixEnd(a);
    EXPECT_FALSE(inside) << "another key's version inside a's range";
    // Prefix-freeness: no encoded key is a prefix of another.
    const std::string ea = EncodeUserKey(a), eb = EncodeUserKey(b);
    EXPECT_NE(eb.compare(0, ea.size(), ea), 0);
  }
}

TEST(KeyCodecTest, NamespacesAreDisjoint) {
  const std::string key = Bytes({'d', 0x00, 'x'});
  const std::vector<std::pair<std::string, char>> keys = {{DataKey(key, 5), kDataPrefix},
                                                          {LockKey(key), kLockPrefix},
                                                          {TxnStatusKey(key, 5), kTxnStatusPrefix},
                                                          {MetaKey("applied"), kMetaPrefix}};
  for (const auto& [encoded, prefix] : keys) {
    EXPECT_EQ(encoded[0], prefix);
    EXPECT_LT(encoded, NamespaceEnd(prefix));
    EXPECT_GE(encoded, std::string(1, prefix));
  }
  EXPECT_EQ(*DecodeLockKey(LockKey(key)), key);
  EXPECT_FALSE(DecodeLockKey(DataKey(key, 1)).ok());
}

}  // namespace
}  // namespace ekv::kv
