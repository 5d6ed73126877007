#include "core/kv/codec.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::kv {

void AppendFixed64BigEndian(std::string* dst, uint64_t value) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  dst->append(buf, sizeof(buf));
}

void AppendVarint64(std::string* dst, uint64_t value) {
  char buf[kMaxVarint64Bytes];
  size_t n = 0;
  while (value >= 0x80) {
    buf[n++] = static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  buf[n++] = static_cast<char>(value);
  dst->append(buf, n);
}

void AppendLengthPrefixed(std::string* dst, absl::string_view bytes) {
  AppendVarint64(dst, bytes.size());
  dst->append(bytes.data(), bytes.size());
}

void AppendByte(std::string* dst, uint8_t byte) { dst->push_back(static_cast<char>(byte)); }

uint64_t DecodeFixed64BigEndian(absl::string_view bytes) {
  EKV_ASSERT(bytes.size() == 8, "fixed64 needs exactly 8 bytes, got ", bytes.size());
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<uint8_t>(c);
  return value;
}

absl::StatusOr<uint8_t> ByteReader::ReadByte() {
  if (rest_.empty()) return absl::DataLossError("truncated input: expected 1 byte, got 0");
  uint8_t byte = static_cast<uint8_t>(rest_[0]);
  rest_.remove_prefix(1);
  return byte;
}

absl::StatusOr<uint64_t> ByteReader::ReadFixed64BigEndian() {
  if (rest_.size() < 8) {
    return absl::DataLossError(
        absl::StrCat("truncated fixed64: expected 8 bytes, got ", rest_.size()));
  }
  uint64_t value = DecodeFixed64BigEndian(rest_.substr(0, 8));
  rest_.remove_prefix(8);
  return value;
}

absl::StatusOr<uint64_t> ByteReader::ReadVarint64() {
  uint64_t value = 0;
  for (size_t i = 0; i < kMaxVarint64Bytes && i < rest_.size(); ++i) {
    uint64_t byte = static_cast<uint8_t>(rest_[i]);
    // The 10th byte may only carry the top bit of a uint64.
    if (i == kMaxVarint64Bytes - 1 && byte > 1) {
      return absl::DataLossError("varint64 overflows 64 bits");
    }
    value |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      rest_.remove_prefix(i + 1);
      return value;
    }
  }
  return absl::DataLossError(rest_.size() < kMaxVarint64Bytes ? "truncated varint64"
                                                              : "varint64 longer than 10 bytes");
}

absl::StatusOr<absl::string_view> ByteReader::ReadLengthPrefixed() {
  absl::StatusOr<uint64_t> length = ReadVarint64();
  if (!length.ok()) return length.status();
  if (*length > rest_.size()) {
    return absl::DataLossError(absl::StrCat("truncated length-prefixed bytes: expected ", *length,
                                            " bytes, got ", rest_.size()));
  }
  absl::string_view bytes = rest_.substr(0, *length);
  rest_.remove_prefix(*length);
  return bytes;
}

absl::string_view ByteReader::ReadRest() {
  absl::string_view rest = rest_;
  rest_ = absl::string_view();
  return rest;
}

absl::Status ByteReader::ExpectEnd(absl::string_view what) const {
  if (rest_.empty()) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat(what, ": ", rest_.size(), " unexpected trailing bytes after the last field"));
}

}  // namespace ekv::kv
