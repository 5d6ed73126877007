// ReadRestart: how a snapshot read that met a version in its uncertainty window
// (core/kv/kv_state_machine.h, "Uncertainty") reaches whoever chose its timestamp.
//
// The coordinator retries such a read itself when it drew the timestamp; a caller that
// passed its own (a transaction's start_ts, a DynamoDB snapshot, a client's RawGet at ts)
// gets this Aborted status and must take a new timestamp above ReadRestartAbove (the
// coordinator's StartGetTimestamp(at_least)) and read everything again at it.
#pragma once

#include <cstdint>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace ekv::coord {

// Aborted, carrying `above` (> 0) for ReadRestartAbove; `message` says which read met what.
absl::Status ReadRestartError(uint64_t above, absl::string_view message);
// The timestamp a ReadRestart asks the next snapshot to be above; 0 for any other status.
uint64_t ReadRestartAbove(const absl::Status& status);

}  // namespace ekv::coord
