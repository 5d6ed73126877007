// Terse builders for hand-written histories in checker tests: one call per operation,
// recording both its invocation and its completion.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

#include "sim/checkers/history.h"

namespace ekv::checkers::testing {

inline constexpr Operation::Outcome kOk = Operation::Outcome::kOk;
inline constexpr Operation::Outcome kFailed = Operation::Outcome::kFailed;
inline constexpr Operation::Outcome kUnknown = Operation::Outcome::kUnknown;

inline uint64_t Write(History& history, uint64_t client, absl::string_view key,
                      std::optional<std::string> value, uint64_t invoke_time,
                      uint64_t complete_time, Operation::Outcome outcome = kOk) {
  const uint64_t id = history.InvokeWrite(client, key, std::move(value), invoke_time);
  history.Complete(id, outcome, complete_time);
  return id;
}

// A write whose client crashed: it never completes.
inline uint64_t CrashedWrite(History& history, uint64_t client, absl::string_view key,
                             std::optional<std::string> value, uint64_t invoke_time) {
  return history.InvokeWrite(client, key, std::move(value), invoke_time);
}

inline uint64_t Read(History& history, uint64_t client, absl::string_view key,
                     std::optional<std::string> result, uint64_t invoke_time,
                     uint64_t complete_time) {
  const uint64_t id = history.InvokeRead(client, key, invoke_time);
  history.Complete(id, kOk, complete_time, std::move(result));
  return id;
}

inline uint64_t Cas(History& history, uint64_t client, absl::string_view key,
                    std::optional<std::string> expected, std::optional<std::string> new_value,
                    uint64_t invoke_time, uint64_t complete_time,
                    Operation::Outcome outcome = kOk) {
  const uint64_t id =
      history.InvokeCas(client, key, std::move(expected), std::move(new_value), invoke_time);
  history.Complete(id, outcome, complete_time);
  return id;
}

}  // namespace ekv::checkers::testing
