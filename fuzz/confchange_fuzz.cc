// Decoding arbitrary bytes as a ConfChange must either fail cleanly or round-trip.
#include <cstddef>
#include <cstdint>

#include "core/raft/confchange.h"
#include "core/util/assert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ekv::raft::ConfChange> decoded = ekv::raft::DecodeConfChange(input);
  if (!decoded.ok()) return 0;
  const std::string encoded = ekv::raft::EncodeConfChange(*decoded);
  EKV_ASSERT(encoded == input, "a decodable ConfChange must re-encode to the same bytes");
  absl::StatusOr<ekv::raft::ConfChange> again = ekv::raft::DecodeConfChange(encoded);
  EKV_ASSERT(again.ok() && *again == *decoded, "round trip changed the ConfChange");
  (void)ekv::raft::DescribeConfChange(*decoded);
  return 0;
}
