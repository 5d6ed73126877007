#include "core/redis/rdb_payload.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/redis/layout.h"
#include "core/redis/numbers.h"
#include "lzf.h"  // liblzf (liblzf-dev): include/liblzf

namespace ekv::redis_core {
namespace {

// RDB object types (rdb.h).
enum RdbType : uint8_t {
  kRdbString = 0,
  kRdbList = 1,
  kRdbSet = 2,
  kRdbZset = 3,
  kRdbHash = 4,
  kRdbZset2 = 5,
  kRdbListZiplist = 10,
  kRdbSetIntset = 11,
  kRdbZsetZiplist = 12,
  kRdbHashZiplist = 13,
  kRdbListQuicklist = 14,
  kRdbHashListpack = 16,
  kRdbZsetListpack = 17,
  kRdbListQuicklist2 = 18,
};

// Redis 7.0's default encoding thresholds (redis.conf), as layout.h keeps them.
constexpr size_t kListpackMaxEntries = kMaxListpackEntries;  // hash-max-listpack-entries, zset-...
constexpr size_t kListpackMaxValue = kMaxListpackValue;      // hash-max-listpack-value, zset-...
constexpr size_t kIntsetMaxEntries = kMaxIntsetEntries;      // set-max-intset-entries
constexpr size_t kQuicklistNodeMaxEntries = 65535;           // its 16-bit count
// A decoded payload holds at most this many elements (bounded memory for hostile input:
// each needs at least one byte of payload anyway).
constexpr uint64_t kMaxElements = uint64_t{1} << 32;

absl::Status Bad(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("Bad data format: ", why));
}

// ---- numbers as Redis writes and reads them ----

// Redis's string2ll: the canonical decimal form of an int64 only.
std::optional<int64_t> StrictInt64(absl::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  if (s == "0") return 0;
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative) i = 1;
  if (i >= s.size() || s[i] < '1' || s[i] > '9') return std::nullopt;
  uint64_t value = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (negative) {
    if (value > uint64_t{1} << 63) return std::nullopt;
    return static_cast<int64_t>(0 - value);
  }
  if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(value);
}

// How a listpack sorted set stores a score (Redis 7.0's zzlInsertAt): an integral score
// within +-2^62 (double2ll, util.h: |d| <= LLONG_MAX/2 and (long long)d == d) as that
// integer -- so -0 becomes 0, and 1e17 an integer entry -- anything else as d2string
// writes it (util.c: "inf", "-inf", or %.17g; its own integral branch below 2^52 is
// covered by the first rule).
std::string ListpackScore(double value) {
  constexpr double kLongLimit = static_cast<double>(std::numeric_limits<long long>::max() / 2);
  if (!std::isnan(value) && value >= -kLongLimit && value <= kLongLimit &&
      static_cast<double>(static_cast<long long>(value)) == value) {
    return absl::StrCat(static_cast<long long>(value));
  }
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return FormatScore(value);  // %.17g
}

std::optional<double> ParseScore(absl::string_view s) {
  if (s.empty() || s.size() > 256) return std::nullopt;
  const std::string text(s);
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || std::isnan(value)) return std::nullopt;
  return value;
}

void AppendLittleEndian(std::string* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// ---- writing (rdb.c) ----

void SaveLen(std::string* out, uint64_t len) {
  if (len < 64) {
    out->push_back(static_cast<char>(len));
  } else if (len < 16384) {
    out->push_back(static_cast<char>(((len >> 8) & 0xff) | 0x40));
    out->push_back(static_cast<char>(len & 0xff));
  } else if (len <= 0xffffffffu) {
    out->push_back(static_cast<char>(0x80));
    for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  } else {
    out->push_back(static_cast<char>(0x81));
    for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  }
}

// Redis 7.0's rdbSaveLzfStringObject: the string LZF-compressed into at most len - 4
// bytes (a saving of at least four bytes), as [0xC3][compressed len][original len][data];
// false when LZF cannot do that. lzf_compress is liblzf 3.6's, the one Redis vendors and
// Debian's redis-server links, so the bytes are Redis's.
bool SaveLzfString(std::string* out, absl::string_view s) {
  if (s.size() <= 4 || s.size() > std::numeric_limits<unsigned int>::max()) return false;
  std::string compressed(s.size() - 4, '\0');
  const unsigned int compressed_len =
      lzf_compress(s.data(), static_cast<unsigned int>(s.size()), compressed.data(),
                   static_cast<unsigned int>(compressed.size()));
  if (compressed_len == 0) return false;
  out->push_back(static_cast<char>(0xC3));  // RDB_ENCVAL << 6 | RDB_ENC_LZF
  SaveLen(out, compressed_len);
  SaveLen(out, s.size());
  out->append(compressed.data(), compressed_len);
  return true;
}

// rdbSaveRawString: short canonical integers in their int encodings, then LZF for strings
// longer than 20 bytes when it saves at least four, else the length and the bytes.
void SaveString(std::string* out, absl::string_view s) {
  if (s.size() <= 11) {
    if (std::optional<int64_t> value = StrictInt64(s); value.has_value()) {
      if (*value >= -(1 << 7) && *value <= (1 << 7) - 1) {
        out->push_back(static_cast<char>(0xC0));
        AppendLittleEndian(out, static_cast<uint64_t>(*value), 1);
        return;
      }
      if (*value >= -(1 << 15) && *value <= (1 << 15) - 1) {
        out->push_back(static_cast<char>(0xC1));
        AppendLittleEndian(out, static_cast<uint64_t>(*value), 2);
        return;
      }
      if (*value >= -(int64_t{1} << 31) && *value <= (int64_t{1} << 31) - 1) {
        out->push_back(static_cast<char>(0xC2));
        AppendLittleEndian(out, static_cast<uint64_t>(*value), 4);
        return;
      }
    }
  }
  if (s.size() > 20 && SaveLzfString(out, s)) return;
  SaveLen(out, s.size());
  out->append(s.data(), s.size());
}

size_t BacklenSize(uint64_t l) {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

void AppendBacklen(std::string* out, uint64_t l) {
  const size_t n = BacklenSize(l);
  // The first byte holds the highest bits; every later one has its top bit set.
  for (size_t i = 0; i < n; ++i) {
    const size_t shift = 7 * (n - 1 - i);
    uint8_t byte = static_cast<uint8_t>((l >> shift) & 127);
    if (i > 0) byte |= 128;
    out->push_back(static_cast<char>(byte));
  }
}

void ListpackAppend(std::string* lp, absl::string_view s) {
  std::string entry;
  if (std::optional<int64_t> v = StrictInt64(s); v.has_value()) {
    const int64_t value = *v;
    if (value >= 0 && value <= 127) {
      entry.push_back(static_cast<char>(value));
    } else if (value >= -4096 && value <= 4095) {
      const uint64_t u = value < 0 ? (uint64_t{1} << 13) + value : value;
      entry.push_back(static_cast<char>((u >> 8) | 0xC0));
      entry.push_back(static_cast<char>(u & 0xff));
    } else if (value >= -32768 && value <= 32767) {
      entry.push_back(static_cast<char>(0xF1));
      AppendLittleEndian(&entry, static_cast<uint64_t>(value), 2);
    } else if (value >= -8388608 && value <= 8388607) {
      entry.push_back(static_cast<char>(0xF2));
      AppendLittleEndian(&entry, static_cast<uint64_t>(value), 3);
    } else if (value >= -2147483648LL && value <= 2147483647LL) {
      entry.push_back(static_cast<char>(0xF3));
      AppendLittleEndian(&entry, static_cast<uint64_t>(value), 4);
    } else {
      entry.push_back(static_cast<char>(0xF4));
      AppendLittleEndian(&entry, static_cast<uint64_t>(value), 8);
    }
  } else if (s.size() < 64) {
    entry.push_back(static_cast<char>(s.size() | 0x80));
    entry.append(s.data(), s.size());
  } else if (s.size() < 4096) {
    entry.push_back(static_cast<char>((s.size() >> 8) | 0xE0));
    entry.push_back(static_cast<char>(s.size() & 0xff));
    entry.append(s.data(), s.size());
  } else {
    entry.push_back(static_cast<char>(0xF0));
    AppendLittleEndian(&entry, s.size(), 4);
    entry.append(s.data(), s.size());
  }
  lp->append(entry);
  AppendBacklen(lp, entry.size());
}

std::string Listpack(const std::vector<std::string>& entries) {
  std::string body;
  for (const std::string& e : entries) ListpackAppend(&body, e);
  std::string lp;
  AppendLittleEndian(&lp, 6 + body.size() + 1, 4);
  AppendLittleEndian(&lp, std::min<size_t>(entries.size(), 65535), 2);
  lp.append(body);
  lp.push_back(static_cast<char>(0xFF));
  return lp;
}

void SaveBinaryDouble(std::string* out, double value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  AppendLittleEndian(out, bits, 8);
}

bool FitsListpack(absl::string_view s) { return s.size() <= kListpackMaxValue; }

// ---- reading ----

class Reader {
 public:
  explicit Reader(absl::string_view bytes) : rest_(bytes) {}
  bool empty() const { return rest_.empty(); }
  size_t left() const { return rest_.size(); }

  absl::StatusOr<uint8_t> Byte() {
    if (rest_.empty()) return Bad("truncated");
    const uint8_t b = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }
  absl::StatusOr<absl::string_view> Bytes(uint64_t n) {
    if (n > rest_.size()) return Bad("truncated");
    absl::string_view out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return out;
  }
  absl::StatusOr<uint64_t> LittleEndian(int n) {
    auto bytes = Bytes(n);
    if (!bytes.ok()) return bytes.status();
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>((*bytes)[i]);
    return v;
  }
  absl::StatusOr<uint64_t> BigEndian(int n) {
    auto bytes = Bytes(n);
    if (!bytes.ok()) return bytes.status();
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>((*bytes)[i]);
    return v;
  }

  // rdbLoadLenByRef: a length, or (encoded) one of the special string encodings.
  absl::Status Len(uint64_t* len, bool* encoded) {
    auto first = Byte();
    if (!first.ok()) return first.status();
    *encoded = false;
    switch (*first >> 6) {
      case 0:
        *len = *first & 0x3F;
        return absl::OkStatus();
      case 1: {
        auto second = Byte();
        if (!second.ok()) return second.status();
        *len = (uint64_t{*first & 0x3Fu} << 8) | *second;
        return absl::OkStatus();
      }
      case 2: {
        if (*first == 0x80) {
          auto v = BigEndian(4);
          if (!v.ok()) return v.status();
          *len = *v;
          return absl::OkStatus();
        }
        if (*first == 0x81) {
          auto v = BigEndian(8);
          if (!v.ok()) return v.status();
          *len = *v;
          return absl::OkStatus();
        }
        return Bad("unknown length encoding");
      }
      default:
        *encoded = true;
        *len = *first & 0x3F;
        return absl::OkStatus();
    }
  }
  absl::StatusOr<uint64_t> Count() {
    uint64_t len = 0;
    bool encoded = false;
    if (absl::Status s = Len(&len, &encoded); !s.ok()) return s;
    if (encoded) return Bad("an encoded length");
    if (len > kMaxElements || len > rest_.size()) return Bad("a count beyond the payload");
    return len;
  }
  absl::StatusOr<std::string> String();

 private:
  absl::string_view rest_;
};

// lzf_decompress: exactly `out_len` bytes or an error.
absl::StatusOr<std::string> LzfDecompress(absl::string_view in, uint64_t out_len) {
  if (out_len == 0 || out_len > (uint64_t{1} << 32)) return Bad("LZF length");
  // A byte of input expands to at most ~ 264/2 bytes of output: refuse impossible claims
  // before allocating.
  if (out_len > in.size() * 264) return Bad("LZF length");
  std::string out;
  out.reserve(out_len);
  size_t ip = 0;
  while (ip < in.size()) {
    uint32_t ctrl = static_cast<uint8_t>(in[ip++]);
    if (ctrl < (1u << 5)) {
      const size_t run = ctrl + 1;
      if (ip + run > in.size() || out.size() + run > out_len) return Bad("LZF literal");
      out.append(in.data() + ip, run);
      ip += run;
      continue;
    }
    size_t len = ctrl >> 5;
    if (len == 7) {
      if (ip >= in.size()) return Bad("LZF truncated");
      len += static_cast<uint8_t>(in[ip++]);
    }
    if (ip >= in.size()) return Bad("LZF truncated");
    const size_t back = ((ctrl & 0x1f) << 8) + static_cast<uint8_t>(in[ip++]) + 1;
    len += 2;
    if (back > out.size() || out.size() + len > out_len) return Bad("LZF reference");
    size_t ref = out.size() - back;
    for (size_t i = 0; i < len; ++i) out.push_back(out[ref + i]);
  }
  if (out.size() != out_len) return Bad("LZF length");
  return out;
}

absl::StatusOr<std::string> Reader::String() {
  uint64_t len = 0;
  bool encoded = false;
  if (absl::Status s = Len(&len, &encoded); !s.ok()) return s;
  if (!encoded) {
    auto bytes = Bytes(len);
    if (!bytes.ok()) return bytes.status();
    return std::string(*bytes);
  }
  switch (len) {
    case 0:
    case 1:
    case 2: {
      const int n = len == 0 ? 1 : len == 1 ? 2 : 4;
      auto raw = LittleEndian(n);
      if (!raw.ok()) return raw.status();
      const int shift = 64 - 8 * n;
      const int64_t value = static_cast<int64_t>(*raw << shift) >> shift;
      return absl::StrCat(value);
    }
    case 3: {
      uint64_t clen = 0;
      uint64_t ulen = 0;
      if (absl::Status s = Len(&clen, &encoded); !s.ok() || encoded) return Bad("LZF header");
      if (absl::Status s = Len(&ulen, &encoded); !s.ok() || encoded) return Bad("LZF header");
      auto compressed = Bytes(clen);
      if (!compressed.ok()) return compressed.status();
      return LzfDecompress(*compressed, ulen);
    }
    default:
      return Bad("unknown string encoding");
  }
}

int64_t SignExtend(uint64_t raw, int bits) {
  const int shift = 64 - bits;
  return static_cast<int64_t>(raw << shift) >> shift;
}

// Every entry of a listpack blob, as strings.
absl::StatusOr<std::vector<std::string>> ListpackEntries(absl::string_view lp) {
  if (lp.size() < 7) return Bad("listpack header");
  Reader header(lp);
  const uint64_t total = *header.LittleEndian(4);
  const uint64_t count = *header.LittleEndian(2);
  if (total != lp.size() || static_cast<uint8_t>(lp.back()) != 0xFF) return Bad("listpack size");
  Reader r(lp.substr(6, lp.size() - 7));
  std::vector<std::string> out;
  while (!r.empty()) {
    const size_t before = r.left();
    auto b = r.Byte();
    std::string entry;
    if ((*b & 0x80) == 0) {
      entry = absl::StrCat(*b & 0x7F);
    } else if ((*b & 0xC0) == 0x80) {
      auto s = r.Bytes(*b & 0x3F);
      if (!s.ok()) return s.status();
      entry = std::string(*s);
    } else if ((*b & 0xE0) == 0xC0) {
      auto lo = r.Byte();
      if (!lo.ok()) return lo.status();
      entry = absl::StrCat(SignExtend((uint64_t{*b & 0x1Fu} << 8) | *lo, 13));
    } else if ((*b & 0xF0) == 0xE0) {
      auto lo = r.Byte();
      if (!lo.ok()) return lo.status();
      auto s = r.Bytes((uint64_t{*b & 0x0Fu} << 8) | *lo);
      if (!s.ok()) return s.status();
      entry = std::string(*s);
    } else if (*b == 0xF0) {
      auto len = r.LittleEndian(4);
      if (!len.ok()) return len.status();
      auto s = r.Bytes(*len);
      if (!s.ok()) return s.status();
      entry = std::string(*s);
    } else if (*b >= 0xF1 && *b <= 0xF4) {
      const int bytes = *b == 0xF1 ? 2 : *b == 0xF2 ? 3 : *b == 0xF3 ? 4 : 8;
      auto raw = r.LittleEndian(bytes);
      if (!raw.ok()) return raw.status();
      entry = absl::StrCat(SignExtend(*raw, 8 * bytes));
    } else {
      return Bad("listpack entry encoding");
    }
    const uint64_t entry_size = before - r.left();
    if (!r.Bytes(BacklenSize(entry_size)).ok()) return Bad("listpack backlen");
    out.push_back(std::move(entry));
  }
  if (count != 65535 && count != out.size()) return Bad("listpack count");
  return out;
}

// Every entry of a ziplist blob (Redis < 7 payloads), as strings.
absl::StatusOr<std::vector<std::string>> ZiplistEntries(absl::string_view zl) {
  if (zl.size() < 11) return Bad("ziplist header");
  Reader header(zl);
  const uint64_t total = *header.LittleEndian(4);
  (void)*header.LittleEndian(4);
  const uint64_t count = *header.LittleEndian(2);
  if (total != zl.size() || static_cast<uint8_t>(zl.back()) != 0xFF) return Bad("ziplist size");
  Reader r(zl.substr(10, zl.size() - 11));
  std::vector<std::string> out;
  while (!r.empty()) {
    auto prev = r.Byte();
    if (*prev == 0xFE && !r.Bytes(4).ok()) return Bad("ziplist prevlen");
    if (*prev == 0xFF) return Bad("ziplist prevlen");
    auto b = r.Byte();
    if (!b.ok()) return b.status();
    std::string entry;
    const uint8_t top = *b & 0xC0;
    if (top == 0x00 || top == 0x40 || top == 0x80) {
      uint64_t len = *b & 0x3F;
      if (top == 0x40) {
        auto lo = r.Byte();
        if (!lo.ok()) return lo.status();
        len = (len << 8) | *lo;
      } else if (top == 0x80) {
        auto big = r.BigEndian(4);
        if (!big.ok()) return big.status();
        len = *big;
      }
      auto s = r.Bytes(len);
      if (!s.ok()) return s.status();
      entry = std::string(*s);
    } else if (*b == 0xC0 || *b == 0xD0 || *b == 0xE0 || *b == 0xF0 || *b == 0xFE) {
      const int bytes = *b == 0xC0 ? 2 : *b == 0xD0 ? 4 : *b == 0xE0 ? 8 : *b == 0xF0 ? 3 : 1;
      auto raw = r.LittleEndian(bytes);
      if (!raw.ok()) return raw.status();
      entry = absl::StrCat(SignExtend(*raw, 8 * bytes));
    } else if (*b >= 0xF1 && *b <= 0xFD) {
      entry = absl::StrCat((*b & 0x0F) - 1);
    } else {
      return Bad("ziplist entry encoding");
    }
    out.push_back(std::move(entry));
  }
  if (count != 65535 && count != out.size()) return Bad("ziplist count");
  return out;
}

absl::StatusOr<std::vector<std::string>> IntsetEntries(absl::string_view is) {
  Reader r(is);
  auto width = r.LittleEndian(4);
  auto count = r.LittleEndian(4);
  if (!width.ok() || !count.ok() || (*width != 2 && *width != 4 && *width != 8) ||
      *count * *width + 8 != is.size() || *count == 0) {
    return Bad("intset");
  }
  std::vector<std::string> out;
  std::optional<int64_t> previous;
  for (uint64_t i = 0; i < *count; ++i) {
    const int64_t value = SignExtend(*r.LittleEndian(static_cast<int>(*width)), 8 * *width);
    // Redis 7.0 checks neither order nor duplicates without sanitize-dump-payload; ekv
    // refuses a descending pair (Redis's binary search could not find such members) and
    // lets a repeat through (DecodeObject keeps one).
    if (previous.has_value() && value < *previous) return Bad("intset order");
    previous = value;
    out.push_back(absl::StrCat(value));
  }
  return out;
}

absl::Status NoDuplicates(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) return Bad("duplicates");
  return absl::OkStatus();
}

// How a blob's duplicate keys are taken. Redis 7.0 RESTOREs (sanitize-dump-payload no, its
// default) a listpack hash or sorted set and an intset without looking for duplicates and
// answers OK, keeping a value that holds them (HGET and ZSCORE then find the first); ekv
// cannot store a field twice and keeps that first one. Every other form is refused with
// "Bad data format", as Redis refuses it.
enum class Duplicates { kRefused, kFirstKept };

absl::Status FillPairs(const std::vector<std::string>& flat, RdbValue* value,
                       Duplicates duplicates = Duplicates::kRefused) {
  if (flat.empty() || flat.size() % 2 != 0) return Bad("pairs");
  std::vector<std::string> keys;
  std::set<std::string> seen;
  for (size_t i = 0; i < flat.size(); i += 2) {
    if (duplicates == Duplicates::kFirstKept && !seen.insert(flat[i]).second) continue;
    value->pairs.emplace_back(flat[i], flat[i + 1]);
    keys.push_back(flat[i]);
  }
  return NoDuplicates(std::move(keys));
}

absl::Status FillScored(const std::vector<std::string>& flat, RdbValue* value,
                        Duplicates duplicates = Duplicates::kRefused) {
  if (flat.empty() || flat.size() % 2 != 0) return Bad("pairs");
  std::vector<std::string> members;
  std::set<std::string> seen;
  for (size_t i = 0; i < flat.size(); i += 2) {
    std::optional<double> score = ParseScore(flat[i + 1]);
    if (!score.has_value()) return Bad("score");
    if (duplicates == Duplicates::kFirstKept && !seen.insert(flat[i]).second) continue;
    value->scored.emplace_back(flat[i], *score);
    members.push_back(flat[i]);
  }
  return NoDuplicates(std::move(members));
}

absl::StatusOr<RdbValue> DecodeObject(Reader& r) {
  auto type = r.Byte();
  if (!type.ok()) return type.status();
  RdbValue value;
  switch (*type) {
    case kRdbString: {
      auto s = r.String();
      if (!s.ok()) return s.status();
      value.type = Type::kString;
      value.string_value = *std::move(s);
      return value;
    }
    case kRdbList:
    case kRdbSet: {
      auto count = r.Count();
      if (!count.ok()) return count.status();
      for (uint64_t i = 0; i < *count; ++i) {
        auto s = r.String();
        if (!s.ok()) return s.status();
        value.elements.push_back(*std::move(s));
      }
      if (value.elements.empty()) return Bad("empty");
      value.type = *type == kRdbList ? Type::kList : Type::kSet;
      if (value.type == Type::kSet) {
        if (absl::Status s = NoDuplicates(value.elements); !s.ok()) return s;
      }
      return value;
    }
    case kRdbZset:
    case kRdbZset2: {
      auto count = r.Count();
      if (!count.ok()) return count.status();
      std::vector<std::string> members;
      for (uint64_t i = 0; i < *count; ++i) {
        auto member = r.String();
        if (!member.ok()) return member.status();
        double score = 0;
        if (*type == kRdbZset2) {
          auto bits = r.LittleEndian(8);
          if (!bits.ok()) return bits.status();
          const uint64_t raw = *bits;
          std::memcpy(&score, &raw, sizeof(score));
        } else {
          auto len = r.Byte();
          if (!len.ok()) return len.status();
          if (*len == 253) return Bad("NaN score");
          if (*len == 254 || *len == 255) {
            score = *len == 254 ? std::numeric_limits<double>::infinity()
                                : -std::numeric_limits<double>::infinity();
          } else {
            auto text = r.Bytes(*len);
            if (!text.ok()) return text.status();
            std::optional<double> parsed = ParseScore(*text);
            if (!parsed.has_value()) return Bad("score");
            score = *parsed;
          }
        }
        if (std::isnan(score)) return Bad("NaN score");
        members.push_back(*member);
        value.scored.emplace_back(*std::move(member), score);
      }
      if (value.scored.empty()) return Bad("empty");
      if (absl::Status s = NoDuplicates(std::move(members)); !s.ok()) return s;
      value.type = Type::kZset;
      return value;
    }
    case kRdbHash: {
      auto count = r.Count();
      if (!count.ok()) return count.status();
      std::vector<std::string> flat;
      for (uint64_t i = 0; i < 2 * *count; ++i) {
        auto s = r.String();
        if (!s.ok()) return s.status();
        flat.push_back(*std::move(s));
      }
      if (absl::Status s = FillPairs(flat, &value); !s.ok()) return s;
      value.type = Type::kHash;
      return value;
    }
    case kRdbSetIntset:
    case kRdbListZiplist:
    case kRdbZsetZiplist:
    case kRdbHashZiplist:
    case kRdbHashListpack:
    case kRdbZsetListpack: {
      auto blob = r.String();
      if (!blob.ok()) return blob.status();
      absl::StatusOr<std::vector<std::string>> entries =
          *type == kRdbSetIntset                                     ? IntsetEntries(*blob)
          : (*type == kRdbHashListpack || *type == kRdbZsetListpack) ? ListpackEntries(*blob)
                                                                     : ZiplistEntries(*blob);
      if (!entries.ok()) return entries.status();
      if (entries->empty()) return Bad("empty");
      const Duplicates duplicates =
          *type == kRdbSetIntset || *type == kRdbHashListpack || *type == kRdbZsetListpack
              ? Duplicates::kFirstKept
              : Duplicates::kRefused;
      if (*type == kRdbSetIntset) {
        value.type = Type::kSet;
        std::set<std::string> seen;
        for (std::string& e : *entries) {
          if (seen.insert(e).second) value.elements.push_back(std::move(e));
        }
      } else if (*type == kRdbListZiplist) {
        value.type = Type::kList;
        value.elements = *std::move(entries);
      } else if (*type == kRdbHashZiplist || *type == kRdbHashListpack) {
        value.type = Type::kHash;
        if (absl::Status s = FillPairs(*entries, &value, duplicates); !s.ok()) return s;
      } else {
        value.type = Type::kZset;
        if (absl::Status s = FillScored(*entries, &value, duplicates); !s.ok()) return s;
      }
      return value;
    }
    case kRdbListQuicklist:
    case kRdbListQuicklist2: {
      auto nodes = r.Count();
      if (!nodes.ok()) return nodes.status();
      for (uint64_t i = 0; i < *nodes; ++i) {
        uint64_t container = 2;  // packed
        if (*type == kRdbListQuicklist2) {
          auto c = r.Count();
          if (!c.ok()) return c.status();
          container = *c;
          if (container != 1 && container != 2) return Bad("quicklist container");
        }
        auto blob = r.String();
        if (!blob.ok()) return blob.status();
        if (container == 1) {
          value.elements.push_back(*std::move(blob));
          continue;
        }
        absl::StatusOr<std::vector<std::string>> entries =
            *type == kRdbListQuicklist2 ? ListpackEntries(*blob) : ZiplistEntries(*blob);
        if (!entries.ok()) return entries.status();
        if (entries->empty()) return Bad("empty quicklist node");
        for (std::string& e : *entries) value.elements.push_back(std::move(e));
      }
      if (value.elements.empty()) return Bad("empty");
      value.type = Type::kList;
      return value;
    }
    default:
      return Bad(absl::StrCat("unsupported object type ", *type));
  }
}

struct CrcTable {
  uint64_t entries[256];
  CrcTable() {
    // CRC-64/Jones: polynomial 0xad93d23594c935a9, reflected in and out, init 0.
    uint64_t reflected = 0;
    const uint64_t poly = 0xad93d23594c935a9ULL;
    for (int i = 0; i < 64; ++i) {
      if (poly & (uint64_t{1} << i)) reflected |= uint64_t{1} << (63 - i);
    }
    for (uint64_t i = 0; i < 256; ++i) {
      uint64_t crc = i;
      for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ reflected : crc >> 1;
      entries[i] = crc;
    }
  }
};

}  // namespace

uint64_t Crc64Jones(uint64_t crc, absl::string_view bytes) {
  static const CrcTable* table = new CrcTable();
  for (char c : bytes) {
    crc = table->entries[(crc ^ static_cast<uint8_t>(c)) & 0xff] ^ (crc >> 8);
  }
  return crc;
}

std::string EncodeDumpPayload(const RdbValue& value) {
  std::string out;
  switch (value.type) {
    case Type::kString:
      out.push_back(static_cast<char>(kRdbString));
      SaveString(&out, value.string_value);
      break;
    case Type::kList: {
      out.push_back(static_cast<char>(kRdbListQuicklist2));
      // The nodes an RPUSH of the elements in order leaves (quicklist.c
      // _quicklistNodeAllowInsert: the element joins the tail node while the node's bytes
      // plus its length plus 8 stay within 8 KB), so a list built by RPUSH
      // DUMPs as Redis's. (Redis's nodes also depend on how the list was built: LPUSH
      // fills from the head.)
      std::vector<std::pair<size_t, size_t>> nodes;  // [first, last) of each node
      size_t node_bytes = 0;
      for (size_t i = 0; i < value.elements.size(); ++i) {
        const size_t sz = value.elements[i].size();
        const size_t overhead = 8;  // quicklist.c SIZE_ESTIMATE_OVERHEAD
        std::string entry;
        ListpackAppend(&entry, value.elements[i]);
        if (!nodes.empty() && node_bytes + sz + overhead <= kQuicklistNodeBytes &&
            nodes.back().second - nodes.back().first < kQuicklistNodeMaxEntries) {
          nodes.back().second = i + 1;
          node_bytes += entry.size();
        } else {
          nodes.emplace_back(i, i + 1);
          node_bytes = 7 + entry.size();  // header (6) and end byte
        }
      }
      SaveLen(&out, nodes.size());
      for (const auto& [first, last] : nodes) {
        SaveLen(&out, 2);  // QUICKLIST_NODE_CONTAINER_PACKED
        SaveString(&out, Listpack(std::vector<std::string>(value.elements.begin() + first,
                                                           value.elements.begin() + last)));
      }
      break;
    }
    case Type::kSet: {
      std::vector<int64_t> ints;
      bool all_ints = value.elements.size() <= kIntsetMaxEntries;
      for (const std::string& e : value.elements) {
        if (!all_ints) break;
        std::optional<int64_t> v = StrictInt64(e);
        if (!v.has_value()) all_ints = false;
        if (v.has_value()) ints.push_back(*v);
      }
      if (all_ints) {
        std::sort(ints.begin(), ints.end());
        int width = 2;
        for (int64_t v : ints) {
          if (v < -32768 || v > 32767) width = std::max(width, 4);
          if (v < -2147483648LL || v > 2147483647LL) width = 8;
        }
        std::string blob;
        AppendLittleEndian(&blob, width, 4);
        AppendLittleEndian(&blob, ints.size(), 4);
        for (int64_t v : ints) AppendLittleEndian(&blob, static_cast<uint64_t>(v), width);
        out.push_back(static_cast<char>(kRdbSetIntset));
        SaveString(&out, blob);
      } else {
        out.push_back(static_cast<char>(kRdbSet));
        SaveLen(&out, value.elements.size());
        for (const std::string& e : value.elements) SaveString(&out, e);
      }
      break;
    }
    case Type::kHash: {
      bool small = value.pairs.size() <= kListpackMaxEntries;
      for (const auto& [field, v] : value.pairs) {
        small = small && FitsListpack(field) && FitsListpack(v);
      }
      if (value.compact.has_value()) small = *value.compact;
      if (small) {
        std::vector<std::string> flat;
        for (const auto& [field, v] : value.pairs) {
          flat.push_back(field);
          flat.push_back(v);
        }
        out.push_back(static_cast<char>(kRdbHashListpack));
        SaveString(&out, Listpack(flat));
      } else {
        out.push_back(static_cast<char>(kRdbHash));
        SaveLen(&out, value.pairs.size());
        for (const auto& [field, v] : value.pairs) {
          SaveString(&out, field);
          SaveString(&out, v);
        }
      }
      break;
    }
    case Type::kZset: {
      // In score order (then member), as Redis keeps them.
      std::vector<std::pair<std::string, double>> sorted = value.scored;
      std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second < b.second : a.first < b.first;
      });
      bool small = sorted.size() <= kListpackMaxEntries;
      for (const auto& entry : sorted) small = small && FitsListpack(entry.first);
      if (value.compact.has_value()) small = *value.compact;
      if (small) {
        std::vector<std::string> flat;
        for (const auto& [member, score] : sorted) {
          flat.push_back(member);
          flat.push_back(ListpackScore(score));
        }
        out.push_back(static_cast<char>(kRdbZsetListpack));
        SaveString(&out, Listpack(flat));
      } else {
        // Redis saves a skiplist from the tail, so loading inserts at the head.
        out.push_back(static_cast<char>(kRdbZset2));
        SaveLen(&out, sorted.size());
        for (auto it = sorted.rbegin(); it != sorted.rend(); ++it) {
          SaveString(&out, it->first);
          SaveBinaryDouble(&out, it->second);
        }
      }
      break;
    }
    case Type::kNone:
    case Type::kStream:  // not encoded (CmdDump refuses streams)
      break;
  }
  AppendLittleEndian(&out, kRdbVersion, 2);
  AppendLittleEndian(&out, Crc64Jones(0, out), 8);
  return out;
}

void AppendRdbString(std::string* out, absl::string_view s) { SaveString(out, s); }

absl::StatusOr<std::string> ReadRdbString(absl::string_view* input) {
  Reader reader(*input);
  absl::StatusOr<std::string> s = reader.String();
  if (s.ok()) input->remove_prefix(input->size() - reader.left());
  return s;
}

bool VerifyDumpPayload(absl::string_view payload) {
  if (payload.size() < 10) return false;
  const absl::string_view footer = payload.substr(payload.size() - 10);
  const uint16_t version = static_cast<uint8_t>(footer[0]) | (static_cast<uint8_t>(footer[1]) << 8);
  if (version > kRdbVersion) return false;
  uint64_t stored = 0;
  for (int i = 7; i >= 0; --i) stored = (stored << 8) | static_cast<uint8_t>(footer[2 + i]);
  return Crc64Jones(0, payload.substr(0, payload.size() - 8)) == stored;
}

absl::StatusOr<RdbValue> DecodeDumpPayload(absl::string_view payload) {
  if (payload.size() < 10) return Bad("short");
  // As Redis's rioInitWithBuffer: the object may run into the footer's bytes.
  Reader reader(payload);
  return DecodeObject(reader);
}

}  // namespace ekv::redis_core
