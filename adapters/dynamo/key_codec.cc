#include "adapters/dynamo/key_codec.h"

#include "absl/strings/str_cat.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/number.h"

namespace ekv::dynamo {
namespace {

constexpr char kTableTag = 't';
constexpr char kItemTag = 'i';
constexpr char kTokenTag = 'x';
constexpr char kStatsTag = 's';
constexpr uint8_t kNegativeTag = 0x01;
constexpr uint8_t kZeroTag = 0x02;
constexpr uint8_t kPositiveTag = 0x03;
constexpr int kExponentBias = 0x8000;

void AppendEscaped(std::string* out, absl::string_view bytes) {
  for (char c : bytes) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
}

// The positive form of |d| (without the tag), as described in key_codec.h.
std::string MagnitudeBytes(const Decimal& d) {
  std::string out;
  const int biased = d.exponent + kExponentBias;
  out.push_back(static_cast<char>((biased >> 8) & 0xff));
  out.push_back(static_cast<char>(biased & 0xff));
  for (char digit : d.digits) out.push_back(static_cast<char>(digit - '0' + 1));
  out.push_back('\0');
  return out;
}

}  // namespace

std::string TableMetaKey(absl::string_view table_name) {
  return absl::StrCat(TableMetaPrefix(), table_name);
}

std::string TableMetaPrefix() { return absl::StrCat(DynamoPrefix(), std::string(1, kTableTag)); }

std::string TransactionTokenKey(absl::string_view token) {
  return absl::StrCat(DynamoPrefix(), std::string(1, kTokenTag), token);
}

std::string TableStatsKey(uint64_t table_id) {
  std::string out = absl::StrCat(DynamoPrefix(), std::string(1, kStatsTag));
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((table_id >> shift) & 0xff));
  }
  return out;
}

std::string ItemPrefix(uint64_t table_id) {
  std::string out = absl::StrCat(DynamoPrefix(), std::string(1, kItemTag));
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((table_id >> shift) & 0xff));
  }
  return out;
}

uint32_t PartitionHash(absl::string_view encoded_hash_key) {
  // FNV-1a 64 over the bytes, then SplitMix64's finalizer so that keys differing only in
  // their last bytes (user1, user2, ...) land far apart in the top 32 bits.
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : encoded_hash_key) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return static_cast<uint32_t>(h >> 32);
}

std::string HashBoundary(uint64_t id, uint32_t hash) {
  std::string out = ItemPrefix(id);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(hash >> shift));
  return out;
}

std::string PartitionPrefix(uint64_t id, KeyLayout layout, absl::string_view encoded_hash_key) {
  std::string out = layout == KeyLayout::kHashed ? HashBoundary(id, PartitionHash(encoded_hash_key))
                                                 : ItemPrefix(id);
  out.append(encoded_hash_key.data(), encoded_hash_key.size());
  return out;
}

absl::StatusOr<std::string> EncodeKeyValue(const AttributeValue& value) {
  switch (value.type) {
    case AttributeType::kS:
    case AttributeType::kB: {
      std::string out;
      out.reserve(value.scalar.size() + 2);
      AppendEscaped(&out, value.scalar);
      out.append("\0\x01", 2);
      return out;
    }
    case AttributeType::kN: {
      absl::StatusOr<Decimal> d = ParseDecimal(value.scalar);
      if (!d.ok()) return d.status();
      if (d->is_zero()) return std::string(1, static_cast<char>(kZeroTag));
      std::string magnitude = MagnitudeBytes(*d);
      if (d->negative) {
        for (char& c : magnitude) c = static_cast<char>(~static_cast<uint8_t>(c));
      }
      return absl::StrCat(
          std::string(1, static_cast<char>(d->negative ? kNegativeTag : kPositiveTag)), magnitude);
    }
    default:
      return ValidationError(
          absl::StrCat("a key attribute must be of type S, N or B, not ", TypeName(value.type)));
  }
}

std::string EncodeBytesPrefix(absl::string_view prefix) {
  std::string out;
  AppendEscaped(&out, prefix);
  return out;
}

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<uint8_t>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return end;
  end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
  return end;
}

}  // namespace ekv::dynamo
