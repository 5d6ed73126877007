// Little binary encoding helpers for kv record and key formats.
//
// Writers append to a std::string; `ByteReader` consumes a borrowed buffer and reports
// truncation or malformed input as absl::DataLossError, because every caller decodes
// bytes that came back from storage or from the wire, where a bad byte means corruption.
//
//   fixed64 big-endian: 8 bytes, most significant first, so byte order equals numeric order
//                       (used inside keys, where memcmp order matters).
//   varint64:           LEB128, 7 bits per byte, low groups first, at most 10 bytes
//                       (used inside values, where size matters).
//   length-prefixed:    varint64 length, then that many bytes.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ekv::kv {

inline constexpr size_t kMaxVarint64Bytes = 10;

void AppendFixed64BigEndian(std::string* dst, uint64_t value);
void AppendVarint64(std::string* dst, uint64_t value);
void AppendLengthPrefixed(std::string* dst, absl::string_view bytes);
void AppendByte(std::string* dst, uint8_t byte);

// Decodes 8 big-endian bytes; `bytes` must hold exactly 8 bytes.
uint64_t DecodeFixed64BigEndian(absl::string_view bytes);

// Sequential decoder over bytes it does not own; the caller keeps them alive while the
// reader and any string_view it returned are in use.
class ByteReader {
 public:
  explicit ByteReader(absl::string_view input) : rest_(input) {}

  absl::StatusOr<uint8_t> ReadByte();
  absl::StatusOr<uint64_t> ReadFixed64BigEndian();
  absl::StatusOr<uint64_t> ReadVarint64();
  absl::StatusOr<absl::string_view> ReadLengthPrefixed();
  // Everything not yet consumed; the reader is empty afterwards.
  absl::string_view ReadRest();

  bool empty() const { return rest_.empty(); }
  size_t remaining() const { return rest_.size(); }
  // DataLossError naming `what` unless every byte was consumed.
  absl::Status ExpectEnd(absl::string_view what) const;

 private:
  absl::string_view rest_;
};

}  // namespace ekv::kv
