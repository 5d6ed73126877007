#include "adapters/redis/slow_log.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/redis/monitor_feed.h"

namespace ekv::redis {

std::vector<std::string> SlowLog::EntryArgs(const std::vector<std::string>& args) {
  // Every command is logged this way while the log is on: copy no more than an entry
  // keeps (at most kMaxArgs arguments of at most kMaxArgBytes), then redact that. The words
  // redaction looks for are short, so cutting first changes none of its decisions.
  const size_t kept = std::min(args.size(), kMaxArgs);
  const bool cut_arguments = kept != args.size();
  std::vector<std::string> head;
  head.reserve(kept);
  for (size_t j = 0; j < kept; ++j) head.push_back(args[j].substr(0, kMaxArgBytes));
  std::vector<std::string> out = RedactedForMonitors(head);
  for (size_t j = 0; j < kept; ++j) {
    if (cut_arguments && j == kept - 1) {
      out[j] = absl::StrCat("... (", args.size() - kept + 1, " more arguments)");
    } else if (out[j] == head[j] && args[j].size() > kMaxArgBytes) {
      // Not redacted, and longer than an entry keeps.
      absl::StrAppend(&out[j], "... (", args[j].size() - kMaxArgBytes, " more bytes)");
    }
  }
  return out;
}

std::string SlowLog::ClientNameAfter(const std::vector<std::string>& args, std::string name_before,
                                     const std::string& reply) {
  if (args.empty() || (!reply.empty() && reply[0] == '-')) return name_before;
  if (absl::EqualsIgnoreCase(args[0], "reset")) return "";
  if (absl::EqualsIgnoreCase(args[0], "client") && args.size() == 3 &&
      absl::EqualsIgnoreCase(args[1], "setname")) {
    return args[2];
  }
  if (absl::EqualsIgnoreCase(args[0], "hello")) {
    for (size_t j = 2; j + 1 < args.size(); ++j) {
      if (absl::EqualsIgnoreCase(args[j], "setname")) return args[j + 1];
    }
  }
  return name_before;
}

bool SlowLog::enabled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slower_than_usec_ >= 0;
}

void SlowLog::Record(std::vector<std::string> entry_args, int64_t usec, std::string peer,
                     std::string client_name, int64_t unix_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  if (slower_than_usec_ < 0) return;
  if (usec >= slower_than_usec_) {
    entries_.push_front(Entry{next_id_++, unix_seconds, usec, std::move(entry_args),
                              std::move(peer), std::move(client_name)});
  }
  while (static_cast<int64_t>(entries_.size()) > max_len_) entries_.pop_back();
}

std::vector<SlowLog::Entry> SlowLog::Newest(size_t count) const {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t n = std::min(count, entries_.size());
  return std::vector<Entry>(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(n));
}

size_t SlowLog::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

void SlowLog::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
}

int64_t SlowLog::slower_than_usec() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slower_than_usec_;
}

void SlowLog::set_slower_than_usec(int64_t usec) {
  std::lock_guard<std::mutex> lock(mu_);
  slower_than_usec_ = usec;
}

int64_t SlowLog::max_len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_len_;
}

void SlowLog::set_max_len(int64_t max_len) {
  std::lock_guard<std::mutex> lock(mu_);
  max_len_ = max_len;
}

}  // namespace ekv::redis
