// libFuzzer target: RESTORE's payload decoder (core/redis/rdb_payload.h) on hostile bytes.
// The input is a DUMP payload without its footer; the target appends a valid version and
// CRC-64 so the fuzzer reaches the decoder instead of the checksum. Invariants: decoding
// never crashes, asserts or allocates beyond what the payload's length allows (ASan);
// VerifyDumpPayload accepts the footed payload; a value that decodes encodes to a payload
// that verifies and decodes, and encoding is a fixed point (DUMP of a RESTOREd DUMP
// answers the same bytes).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "core/redis/rdb_payload.h"
#include "core/util/assert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ekv::redis_core;
  std::string payload(reinterpret_cast<const char*>(data), size);
  payload.push_back(static_cast<char>(kRdbVersion & 0xff));
  payload.push_back(static_cast<char>(kRdbVersion >> 8));
  const uint64_t crc = Crc64Jones(0, payload);
  for (int i = 0; i < 8; ++i) payload.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  EKV_ASSERT(VerifyDumpPayload(payload), "a payload with its own version and CRC verifies");
  absl::StatusOr<RdbValue> value = DecodeDumpPayload(payload);
  if (!value.ok()) return 0;
  const std::string encoded = EncodeDumpPayload(*value);
  EKV_ASSERT(VerifyDumpPayload(encoded), "DUMP writes a payload RESTORE verifies");
  absl::StatusOr<RdbValue> again = DecodeDumpPayload(encoded);
  EKV_ASSERT(again.ok(), "DUMP writes a payload RESTORE decodes");
  EKV_ASSERT(again->type == value->type, "the type survives DUMP and RESTORE");
  EKV_ASSERT(EncodeDumpPayload(*again) == encoded, "DUMP of a RESTOREd DUMP is the same bytes");
  return 0;
}
