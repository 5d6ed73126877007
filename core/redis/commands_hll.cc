// HyperLogLog: PFADD, PFCOUNT, PFMERGE (Redis 7.0 hyperloglog.c). An HLL is a string holding
// Redis's own representation, byte for byte, so GET, DUMP and SETRANGE see what Redis would:
// a 16-byte header ("HYLL", encoding, 3 zero bytes, the cached cardinality little-endian
// with bit 63 set when stale) and either 16384 6-bit registers packed little-endian (dense,
// 12,304 bytes) or runs of ZERO (00xxxxxx), XZERO (01xxxxxx yyyyyyyy) and VAL (1vvvvvxx)
// opcodes (sparse, what a new HLL starts as; promoted to dense past 3,000 bytes, Redis's
// hll-sparse-max-bytes, or for a register above 32). Every step is Redis's, so the sparse
// opcodes a sequence of adds leaves, and the estimate (Ertl's estimator over the register
// histogram), are the same bytes and numbers. PFCOUNT of one key stores the estimate in the
// header as Redis does, so it is a replicated write.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "core/kv/status_macros.h"
#include "core/redis/string_lookup.h"
#include "core/util/assert.h"

namespace ekv::redis_core {
namespace {

constexpr int kP = 14;
constexpr int kQ = 64 - kP;
constexpr int kRegisters = 1 << kP;
constexpr int kRegisterMax = 63;
constexpr size_t kHeaderBytes = 16;
constexpr size_t kDenseBytes = kHeaderBytes + (kRegisters * 6 + 7) / 8;
constexpr uint8_t kDense = 0;
constexpr uint8_t kSparse = 1;
constexpr size_t kEncodingByte = 4;
constexpr size_t kCardByte = 8;
constexpr int kSparseValMaxValue = 32;
constexpr int kSparseValMaxLen = 4;
constexpr int kSparseZeroMaxLen = 64;
constexpr int kSparseXZeroMaxLen = 16384;
constexpr size_t kSparseMaxBytes = 3000;  // hll-sparse-max-bytes, Redis 7.0's default

using Registers = std::array<uint8_t, kRegisters>;

Reply NotAnHll() { return Reply::Error("WRONGTYPE Key is not a valid HyperLogLog string value."); }
Reply Corrupted() { return Reply::Error("INVALIDOBJ Corrupted HLL object detected"); }

uint8_t At(const std::string& s, size_t i) {
  // Past the end reads 0, as Redis reads the string's terminator.
  return i < s.size() ? static_cast<uint8_t>(s[i]) : 0;
}

bool IsZero(uint8_t op) { return (op & 0xc0) == 0; }
bool IsXZero(uint8_t op) { return (op & 0xc0) == 0x40; }
bool IsVal(uint8_t op) { return (op & 0x80) != 0; }
int ZeroLen(uint8_t op) { return (op & 0x3f) + 1; }
int XZeroLen(uint8_t op, uint8_t next) { return (((op & 0x3f) << 8) | next) + 1; }
int ValValue(uint8_t op) { return ((op >> 2) & 0x1f) + 1; }
int ValLen(uint8_t op) { return (op & 0x3) + 1; }
char ValOp(int value, int len) { return static_cast<char>(((value - 1) << 2 | (len - 1)) | 0x80); }
char ZeroOp(int len) { return static_cast<char>(len - 1); }
void AppendXZero(std::string* out, int len) {
  out->push_back(static_cast<char>(((len - 1) >> 8) | 0x40));
  out->push_back(static_cast<char>((len - 1) & 0xff));
}
void AppendZeros(std::string* out, int len) {
  if (len > kSparseZeroMaxLen) {
    AppendXZero(out, len);
  } else {
    out->push_back(ZeroOp(len));
  }
}

// Redis's MurmurHash64A (64-bit, little-endian words), seed 0xadc83b19.
uint64_t Murmur64A(absl::string_view key) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  const int len = static_cast<int>(key.size());
  uint64_t h = 0xadc83b19ULL ^ (static_cast<uint64_t>(len) * m);
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  const uint8_t* end = data + (len - (len & 7));
  while (data != end) {
    uint64_t k = 0;
    for (int i = 7; i >= 0; --i) k = (k << 8) | data[i];
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
    data += 8;
  }
  switch (len & 7) {
    case 7:
      h ^= static_cast<uint64_t>(data[6]) << 48;
      [[fallthrough]];
    case 6:
      h ^= static_cast<uint64_t>(data[5]) << 40;
      [[fallthrough]];
    case 5:
      h ^= static_cast<uint64_t>(data[4]) << 32;
      [[fallthrough]];
    case 4:
      h ^= static_cast<uint64_t>(data[3]) << 24;
      [[fallthrough]];
    case 3:
      h ^= static_cast<uint64_t>(data[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint64_t>(data[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint64_t>(data[0]);
      h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

// The register an element lands in and the length of its "00..1" pattern (1..Q+1).
int PatternLength(absl::string_view element, int* index) {
  uint64_t hash = Murmur64A(element);
  *index = static_cast<int>(hash & (kRegisters - 1));
  hash >>= kP;
  hash |= uint64_t{1} << kQ;
  int count = 1;
  for (uint64_t bit = 1; (hash & bit) == 0; bit <<= 1) ++count;
  return count;
}

int DenseGet(const std::string& s, int index) {
  const size_t byte = kHeaderBytes + static_cast<size_t>(index) * 6 / 8;
  const unsigned fb = (static_cast<unsigned>(index) * 6) & 7;
  const unsigned b0 = At(s, byte);
  const unsigned b1 = At(s, byte + 1);
  return static_cast<int>(((b0 >> fb) | (b1 << (8 - fb))) & kRegisterMax);
}

void DenseSetRaw(std::string* s, int index, int value) {
  const size_t byte = kHeaderBytes + static_cast<size_t>(index) * 6 / 8;
  const unsigned fb = (static_cast<unsigned>(index) * 6) & 7;
  auto& b0 = reinterpret_cast<uint8_t&>((*s)[byte]);
  b0 = static_cast<uint8_t>((b0 & ~(kRegisterMax << fb)) | (value << fb));
  if (byte + 1 < s->size()) {
    auto& b1 = reinterpret_cast<uint8_t&>((*s)[byte + 1]);
    b1 = static_cast<uint8_t>((b1 & ~(kRegisterMax >> (8 - fb))) | (value >> (8 - fb)));
  }
}

// 1 when the register grew.
int DenseSet(std::string* s, int index, int count) {
  if (count <= DenseGet(*s, index)) return 0;
  DenseSetRaw(s, index, count);
  return 1;
}

void InvalidateCache(std::string* s) { (*s)[kCardByte + 7] = static_cast<char>(At(*s, 15) | 0x80); }
bool CacheValid(const std::string& s) { return (At(s, kCardByte + 7) & 0x80) == 0; }

std::string NewHll() {
  std::string s(kHeaderBytes, '\0');
  std::memcpy(s.data(), "HYLL", 4);
  s[kEncodingByte] = static_cast<char>(kSparse);
  for (int left = kRegisters; left > 0;) {
    const int run = std::min(left, kSparseXZeroMaxLen);
    AppendXZero(&s, run);
    left -= run;
  }
  return s;
}

bool IsHll(const std::string& s) {
  if (s.size() < kHeaderBytes || s.compare(0, 4, "HYLL") != 0) return false;
  const uint8_t encoding = At(s, kEncodingByte);
  if (encoding > kSparse) return false;
  return encoding != kDense || s.size() == kDenseBytes;
}

// Sparse to dense in place; false when the sparse opcodes do not cover exactly the
// registers (a corrupted value).
bool SparseToDense(std::string* s) {
  if (At(*s, kEncodingByte) == kDense) return true;
  std::string dense(kDenseBytes, '\0');
  std::memcpy(dense.data(), s->data(), kHeaderBytes);  // magic and cached cardinality
  dense[kEncodingByte] = static_cast<char>(kDense);
  int index = 0;
  for (size_t p = kHeaderBytes; p < s->size();) {
    const uint8_t op = At(*s, p);
    if (IsZero(op)) {
      index += ZeroLen(op);
      p += 1;
    } else if (IsXZero(op)) {
      index += XZeroLen(op, At(*s, p + 1));
      p += 2;
    } else {
      const int run = ValLen(op);
      const int value = ValValue(op);
      if (run + index > kRegisters) break;
      for (int i = 0; i < run; ++i) DenseSetRaw(&dense, index++, value);
      p += 1;
    }
  }
  if (index != kRegisters) return false;
  *s = std::move(dense);
  return true;
}

// Redis's hllSparseSet: 1 when the register grew (the opcodes split in place, adjacent
// equal VALs merged, or the whole HLL promoted to dense), 0 when not, -1 when corrupted.
int SparseSet(std::string* s, int index, int count) {
  bool promote = count > kSparseValMaxValue;
  size_t prev = 0;
  bool has_prev = false;
  if (!promote) {
    size_t p = kHeaderBytes;
    const size_t end = s->size();
    int first = 0;
    int span = 0;
    while (p < end) {
      const uint8_t op = At(*s, p);
      size_t oplen = 1;
      if (IsZero(op)) {
        span = ZeroLen(op);
      } else if (IsVal(op)) {
        span = ValLen(op);
      } else {
        span = XZeroLen(op, At(*s, p + 1));
        oplen = 2;
      }
      if (index <= first + span - 1) break;
      prev = p;
      has_prev = true;
      p += oplen;
      first += span;
    }
    if (span == 0 || p >= end) return -1;
    const uint8_t op = At(*s, p);
    const bool is_zero = IsZero(op), is_xzero = IsXZero(op), is_val = IsVal(op);
    const int runlen = is_zero ? ZeroLen(op) : is_xzero ? XZeroLen(op, At(*s, p + 1)) : ValLen(op);
    bool done = false;
    if (is_val) {
      if (ValValue(op) >= count) return 0;
      if (runlen == 1) {
        (*s)[p] = ValOp(count, 1);
        done = true;
      }
    }
    if (!done && is_zero && runlen == 1) {
      (*s)[p] = ValOp(count, 1);
      done = true;
    }
    if (!done) {
      // Split the opcode covering `index` into up to three.
      std::string seq;
      const int last = first + span - 1;
      if (is_zero || is_xzero) {
        if (index != first) AppendZeros(&seq, index - first);
        seq.push_back(ValOp(count, 1));
        if (index != last) AppendZeros(&seq, last - index);
      } else {
        const int value = ValValue(op);
        if (index != first) seq.push_back(ValOp(value, index - first));
        seq.push_back(ValOp(count, 1));
        if (index != last) seq.push_back(ValOp(value, last - index));
      }
      const size_t oldlen = is_xzero ? 2 : 1;
      if (seq.size() > oldlen && s->size() + (seq.size() - oldlen) > kSparseMaxBytes) {
        promote = true;
      } else {
        s->replace(p, oldlen, seq);
      }
    }
    if (!promote) {
      // Merge adjacent VALs of one value, scanning up to 5 opcodes from the previous one.
      size_t q = has_prev ? prev : kHeaderBytes;
      int scanlen = 5;
      while (q < s->size() && scanlen--) {
        const uint8_t here = At(*s, q);
        if (IsXZero(here)) {
          q += 2;
          continue;
        }
        if (IsZero(here)) {
          q += 1;
          continue;
        }
        if (q + 1 < s->size() && IsVal(At(*s, q + 1))) {
          const uint8_t there = At(*s, q + 1);
          if (ValValue(here) == ValValue(there)) {
            const int len = ValLen(here) + ValLen(there);
            if (len <= kSparseValMaxLen) {
              (*s)[q + 1] = ValOp(ValValue(here), len);
              s->erase(q, 1);
              continue;
            }
          }
        }
        q += 1;
      }
      InvalidateCache(s);
      return 1;
    }
  }
  if (!SparseToDense(s)) return -1;
  const int set = DenseSet(s, index, count);
  EKV_ASSERT(set == 1, "a promotion to dense always grows the register");
  return set;
}

int Add(std::string* s, absl::string_view element) {
  int index = 0;
  const int count = PatternLength(element, &index);
  switch (At(*s, kEncodingByte)) {
    case kDense:
      return DenseSet(s, index, count);
    case kSparse:
      return SparseSet(s, index, count);
    default:
      return -1;
  }
}

// max[i] = max(max[i], register i); false for corrupted sparse opcodes.
bool MergeInto(const std::string& s, Registers* max) {
  if (At(s, kEncodingByte) == kDense) {
    for (int i = 0; i < kRegisters; ++i) {
      (*max)[i] = std::max<uint8_t>((*max)[i], static_cast<uint8_t>(DenseGet(s, i)));
    }
    return true;
  }
  int i = 0;
  for (size_t p = kHeaderBytes; p < s.size();) {
    const uint8_t op = At(s, p);
    if (IsZero(op)) {
      i += ZeroLen(op);
      p += 1;
    } else if (IsXZero(op)) {
      i += XZeroLen(op, At(s, p + 1));
      p += 2;
    } else {
      const int run = ValLen(op);
      const int value = ValValue(op);
      if (run + i > kRegisters) break;
      for (int k = 0; k < run; ++k, ++i) {
        (*max)[i] = std::max<uint8_t>((*max)[i], static_cast<uint8_t>(value));
      }
      p += 1;
    }
  }
  return i == kRegisters;
}

double Sigma(double x) {
  if (x == 1.) return INFINITY;
  double z_prime;
  double y = 1;
  double z = x;
  do {
    x *= x;
    z_prime = z;
    z += x * y;
    y += y;
  } while (z_prime != z);
  return z;
}

double Tau(double x) {
  if (x == 0. || x == 1.) return 0.;
  double z_prime;
  double y = 1.0;
  double z = 1 - x;
  do {
    x = std::sqrt(x);
    z_prime = z;
    y *= 0.5;
    z -= std::pow(1 - x, 2) * y;
  } while (z_prime != z);
  return z / 3;
}

// Ertl's estimator over the register histogram (hllCount).
uint64_t Estimate(const std::array<int, 64>& histogram) {
  const double m = kRegisters;
  double z = m * Tau((m - histogram[kQ + 1]) / m);
  for (int j = kQ; j >= 1; --j) {
    z += histogram[j];
    z *= 0.5;
  }
  z += m * Sigma(histogram[0] / m);
  constexpr double kAlphaInf = 0.721347520444481703680;  // 0.5 / ln(2)
  return static_cast<uint64_t>(std::llround(kAlphaInf * m * m / z));
}

// The estimate of one HLL; false for corrupted sparse opcodes.
bool Count(const std::string& s, uint64_t* out) {
  std::array<int, 64> histogram{};
  if (At(s, kEncodingByte) == kDense) {
    for (int i = 0; i < kRegisters; ++i) ++histogram[DenseGet(s, i)];
  } else {
    int index = 0;
    for (size_t p = kHeaderBytes; p < s.size();) {
      const uint8_t op = At(s, p);
      if (IsZero(op)) {
        index += ZeroLen(op);
        histogram[0] += ZeroLen(op);
        p += 1;
      } else if (IsXZero(op)) {
        const int run = XZeroLen(op, At(s, p + 1));
        index += run;
        histogram[0] += run;
        p += 2;
      } else {
        index += ValLen(op);
        histogram[ValValue(op)] += ValLen(op);
        p += 1;
      }
    }
    if (index != kRegisters) return false;
  }
  *out = Estimate(histogram);
  return true;
}

// The HLL at `key`: none (nullopt and no error), or the error Redis answers.
struct HllLookup {
  std::optional<StringValue> value;
  std::optional<Reply> error;
};
absl::StatusOr<HllLookup> LookupHll(Executor& ex, absl::string_view key) {
  EKV_KV_ASSIGN_OR_RETURN(StringLookup found, LookupString(ex, key));
  HllLookup out;
  if (found.error.has_value()) {
    out.error = std::move(found.error);
  } else if (found.value.has_value()) {
    if (!IsHll(found.value->value)) {
      out.error = NotAnHll();
    } else {
      out.value = std::move(found.value);
    }
  }
  return out;
}

}  // namespace

EKV_REDIS_HANDLER(CmdPfAdd) {
  EKV_KV_ASSIGN_OR_RETURN(HllLookup found, LookupHll(ex, args[1]));
  if (found.error.has_value()) return *found.error;
  const bool created = !found.value.has_value();
  std::string hll = created ? NewHll() : std::move(found.value->value);
  int updated = created ? 1 : 0;
  for (size_t i = 2; i < args.size(); ++i) {
    const int added = Add(&hll, args[i]);
    if (added < 0) return Corrupted();
    updated += added;
  }
  if (updated > 0) {
    InvalidateCache(&hll);
    ex.SetString(args[1], std::move(hll), created ? 0 : found.value->expire_ms);
  }
  return Reply::Integer(updated > 0 ? 1 : 0);
}

EKV_REDIS_HANDLER(CmdPfCount) {
  if (args.size() > 2) {
    // The estimate of the union; nothing is written.
    Registers max{};
    for (size_t i = 1; i < args.size(); ++i) {
      EKV_KV_ASSIGN_OR_RETURN(HllLookup found, LookupHll(ex, args[i]));
      if (found.error.has_value()) return *found.error;
      if (!found.value.has_value()) continue;
      if (!MergeInto(found.value->value, &max)) return Corrupted();
    }
    std::array<int, 64> histogram{};
    for (const uint8_t value : max) ++histogram[value];
    return Reply::Integer(static_cast<int64_t>(Estimate(histogram)));
  }
  EKV_KV_ASSIGN_OR_RETURN(HllLookup found, LookupHll(ex, args[1]));
  if (found.error.has_value()) return *found.error;
  if (!found.value.has_value()) return Reply::Integer(0);
  std::string& hll = found.value->value;
  uint64_t card = 0;
  if (CacheValid(hll)) {
    for (int i = 7; i >= 0; --i) card = (card << 8) | At(hll, kCardByte + i);
    return Reply::Integer(static_cast<int64_t>(card));
  }
  if (!Count(hll, &card)) return Corrupted();
  for (int i = 0; i < 8; ++i) hll[kCardByte + i] = static_cast<char>((card >> (8 * i)) & 0xff);
  ex.SetString(args[1], std::move(hll), found.value->expire_ms);
  return Reply::Integer(static_cast<int64_t>(card));
}

EKV_REDIS_HANDLER(CmdPfMerge) {
  Registers max{};
  bool use_dense = false;
  std::optional<StringValue> destination;
  for (size_t i = 1; i < args.size(); ++i) {
    EKV_KV_ASSIGN_OR_RETURN(HllLookup found, LookupHll(ex, args[i]));
    if (found.error.has_value()) return *found.error;
    if (!found.value.has_value()) continue;
    if (At(found.value->value, kEncodingByte) == kDense) use_dense = true;
    if (!MergeInto(found.value->value, &max)) return Corrupted();
    if (i == 1) destination = std::move(found.value);
  }
  std::string hll = destination.has_value() ? std::move(destination->value) : NewHll();
  if (use_dense && !SparseToDense(&hll)) return Corrupted();
  for (int j = 0; j < kRegisters; ++j) {
    if (max[j] == 0) continue;
    if (At(hll, kEncodingByte) == kDense) {
      DenseSet(&hll, j, max[j]);
    } else {
      SparseSet(&hll, j, max[j]);
    }
  }
  InvalidateCache(&hll);
  ex.SetString(args[1], std::move(hll), destination.has_value() ? destination->expire_ms : 0);
  return Reply::Ok();
}

}  // namespace ekv::redis_core
