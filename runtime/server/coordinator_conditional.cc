// Coordinator::CompareAndSet: core's apply-time kv::CompareAndSetCommand made reachable
// for front doors that need an atomic read-modify-write of one key (the DynamoDB
// adapter's conditional writes and UpdateItem). Kept out of coordinator.cc, which other
// work edits; it uses only the routed-command path every RawKV write uses.
#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/kv/kv_command.h"
#include "runtime/server/coordinator.h"

namespace ekv::runtime {

absl::StatusOr<CasOutcome> Coordinator::CompareAndSet(std::string key,
                                                      std::optional<std::string> expected,
                                                      std::optional<std::string> new_value) {
  if (key.empty()) return absl::InvalidArgumentError("key must not be empty");
  const Deadline deadline = NewDeadline();
  kv::CompareAndSetCommand command;
  command.key = key;
  command.expected = std::move(expected);
  command.new_value = std::move(new_value);
  // commit_ts stays 0: the group assigns it at apply from its own sequence, so the
  // comparison and the write happen at one point of the group's log.
  const std::string encoded = kv::EncodeKvCommand(command);
  for (int attempt = 0; std::chrono::steady_clock::now() < deadline; ++attempt) {
    absl::StatusOr<GroupReply> reply = KvCommand(key, encoded, deadline);
    if (!reply.ok()) return reply.status();
    if (!reply->result.key_errors.empty()) {
      // A transaction's lock on the key: the command had no effect. Resolve and retry.
      absl::StatusOr<bool> resolved = ResolveLock(reply->result.key_errors.front(), deadline);
      if (!resolved.ok()) return resolved.status();
      if (!*resolved) {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(10 * (attempt + 1), 100)));
      }
      continue;
    }
    const absl::Status status = reply->result.status();
    if (!status.ok() && status.code() != absl::StatusCode::kFailedPrecondition) return status;
    CasOutcome outcome;
    outcome.applied = status.ok();
    outcome.current = std::move(reply->result.old_value);
    outcome.index = reply->index;
    return outcome;
  }
  return absl::DeadlineExceededError(
      absl::StrCat("compare-and-set: the key stayed locked until the deadline"));
}

}  // namespace ekv::runtime
