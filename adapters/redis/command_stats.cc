#include "adapters/redis/command_stats.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ekv::redis {
namespace {

bool IsError(absl::string_view reply) { return !reply.empty() && reply[0] == '-'; }

// Redis's error code: the reply's first word ("-WRONGTYPE Operation..." -> "WRONGTYPE").
absl::string_view ErrorPrefix(absl::string_view reply) {
  reply.remove_prefix(1);
  const size_t end = reply.find_first_of(" \r\n");
  return reply.substr(0, end);
}

}  // namespace

void CommandStats::CountErrorLocked(absl::string_view reply) {
  if (!IsError(reply)) return;
  ++total_errors_;
  const absl::string_view prefix = ErrorPrefix(reply);
  auto it = errors_.find(prefix);
  if (it != errors_.end()) {
    ++it->second;
  } else if (errors_.size() < kMaxErrorPrefixes) {
    errors_.emplace(std::string(prefix), 1);
  }
}

void CommandStats::RecordCall(absl::string_view name, int64_t usec, absl::string_view reply) {
  std::lock_guard<std::mutex> lock(mu_);
  Counts& counts = commands_[std::string(name)];
  ++counts.calls;
  counts.usec += static_cast<uint64_t>(usec < 0 ? 0 : usec);
  if (IsError(reply)) ++counts.failed;
  CountErrorLocked(reply);
}

void CommandStats::RecordBlocked(absl::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  ++commands_[std::string(name)].calls;
}

void CommandStats::RecordUnblocked(absl::string_view name, int64_t usec, absl::string_view reply,
                                   bool unblocked) {
  std::lock_guard<std::mutex> lock(mu_);
  Counts& counts = commands_[std::string(name)];
  counts.usec += static_cast<uint64_t>(usec < 0 ? 0 : usec);
  if (IsError(reply) || unblocked) ++counts.failed;
  CountErrorLocked(reply);
}

void CommandStats::RecordFailure(absl::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  ++commands_[std::string(name)].failed;
}

void CommandStats::RecordRejected(absl::string_view name, absl::string_view reply) {
  std::lock_guard<std::mutex> lock(mu_);
  ++commands_[std::string(name)].rejected;
  CountErrorLocked(reply);
}

void CommandStats::RecordError(absl::string_view reply) {
  std::lock_guard<std::mutex> lock(mu_);
  CountErrorLocked(reply);
}

std::string CommandStats::CommandSection() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out = "# Commandstats\r\n";
  for (const auto& [name, counts] : commands_) {
    const double per_call =
        counts.calls == 0 ? 0
                          : static_cast<double>(counts.usec) / static_cast<double>(counts.calls);
    absl::StrAppend(&out, "cmdstat_", name, ":calls=", counts.calls, ",usec=", counts.usec,
                    ",usec_per_call=", absl::StrFormat("%.2f", per_call),
                    ",rejected_calls=", counts.rejected, ",failed_calls=", counts.failed, "\r\n");
  }
  return out;
}

std::string CommandStats::ErrorSection() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out = "# Errorstats\r\n";
  for (const auto& [prefix, count] : errors_) {
    absl::StrAppend(&out, "errorstat_", prefix, ":count=", count, "\r\n");
  }
  return out;
}

uint64_t CommandStats::total_error_replies() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_errors_;
}

void CommandStats::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  commands_.clear();
  errors_.clear();
  total_errors_ = 0;
}

}  // namespace ekv::redis
