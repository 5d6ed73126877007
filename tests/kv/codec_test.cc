#include "core/kv/codec.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ekv::kv {
namespace {

TEST(CodecTest, VarintRoundTripsAtEveryWidth) {
  std::vector<uint64_t> values = {0, 1, 127, 128, 255, 300, 16383, 16384, UINT32_MAX};
  for (int shift = 0; shift < 64; ++shift) {
    values.push_back(uint64_t{1} << shift);
    values.push_back((uint64_t{1} << shift) - 1);
  }
  values.push_back(UINT64_MAX);
  std::string buf;
  for (uint64_t v : values) AppendVarint64(&buf, v);
  ByteReader reader(buf);
  for (uint64_t v : values) {
    absl::StatusOr<uint64_t> got = reader.ReadVarint64();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, v);
  }
  EXPECT_TRUE(reader.empty());
}

TEST(CodecTest, VarintUsesMinimalBytes) {
  std::string buf;
  AppendVarint64(&buf, 127);
  EXPECT_EQ(buf.size(), 1u);
  buf.clear();
  AppendVarint64(&buf, 128);
  EXPECT_EQ(buf.size(), 2u);
  buf.clear();
  AppendVarint64(&buf, UINT64_MAX);
  EXPECT_EQ(buf.size(), kMaxVarint64Bytes);
}

TEST(CodecTest, TruncatedVarintIsDataLoss) {
  std::string buf;
  AppendVarint64(&buf, UINT64_MAX);
  for (size_t n = 0; n < buf.size(); ++n) {
    ByteReader reader(absl::string_view(buf).substr(0, n));
    EXPECT_TRUE(absl::IsDataLoss(reader.ReadVarint64().status())) << n;
  }
}

TEST(CodecTest, OverlongVarintIsDataLoss) {
  // 10th byte carrying more than the 64th bit.
  std::string too_big(9, '\xff');
  too_big.push_back('\x02');
  EXPECT_TRUE(absl::IsDataLoss(ByteReader(too_big).ReadVarint64().status()));
  std::string too_long(11, '\x80');
  EXPECT_TRUE(absl::IsDataLoss(ByteReader(too_long).ReadVarint64().status()));
}

TEST(CodecTest, Fixed64BigEndianOrderMatchesNumericOrder) {
  const std::vector<uint64_t> values = {0,         1, 255, 256, 65535, 1ull << 40, UINT64_MAX - 1,
                                        UINT64_MAX};
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    std::string a, b;
    AppendFixed64BigEndian(&a, values[i]);
    AppendFixed64BigEndian(&b, values[i + 1]);
    EXPECT_LT(a, b);
    EXPECT_EQ(DecodeFixed64BigEndian(a), values[i]);
    ByteReader reader(b);
    EXPECT_EQ(*reader.ReadFixed64BigEndian(), values[i + 1]);
  }
  EXPECT_TRUE(absl::IsDataLoss(ByteReader("1234567").ReadFixed64BigEndian().status()));
}

TEST(CodecTest, LengthPrefixedRoundTripAndTruncation) {
  std::string buf;
  AppendLengthPrefixed(&buf, "");
  AppendLengthPrefixed(&buf, std::string("a\0b", 3));
  AppendLengthPrefixed(&buf, std::string(300, 'x'));
  AppendByte(&buf, 7);
  ByteReader reader(buf);
  EXPECT_EQ(*reader.ReadLengthPrefixed(), "");
  EXPECT_EQ(*reader.ReadLengthPrefixed(), std::string("a\0b", 3));
  EXPECT_EQ(*reader.ReadLengthPrefixed(), std::string(300, 'x'));
  EXPECT_FALSE(reader.ExpectEnd("test").ok());
  EXPECT_EQ(*reader.ReadByte(), 7);
  EXPECT_TRUE(reader.ExpectEnd("test").ok());
  EXPECT_TRUE(absl::IsDataLoss(reader.ReadByte().status()));

  std::string short_buf;
  AppendLengthPrefixed(&short_buf, "hello");
  short_buf.pop_back();
  EXPECT_TRUE(absl::IsDataLoss(ByteReader(short_buf).ReadLengthPrefixed().status()));
}

}  // namespace
}  // namespace ekv::kv
