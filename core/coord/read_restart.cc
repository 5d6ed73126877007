#include "core/coord/read_restart.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::coord {
namespace {
constexpr char kPayloadType[] = "type.ekv/read_restart_above";
}  // namespace

absl::Status ReadRestartError(uint64_t above, absl::string_view message) {
  EKV_ASSERT(above != 0, "a read restart needs a timestamp to restart above");
  absl::Status status = absl::AbortedError(message);
  status.SetPayload(kPayloadType, absl::Cord(absl::StrCat(above)));
  return status;
}

uint64_t ReadRestartAbove(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kAborted) return 0;
  absl::optional<absl::Cord> payload = status.GetPayload(kPayloadType);
  uint64_t above = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &above)) return 0;
  return above;
}

}  // namespace ekv::coord
