#include "core/redis/expiry.h"

#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/redis/numbers.h"

namespace ekv::redis_core {
namespace {

enum Flag : uint32_t {
  kNx = 1 << 0,
  kXx = 1 << 1,
  kGet = 1 << 2,
  kKeepTtl = 1 << 3,
  kEx = 1 << 4,
  kPx = 1 << 5,
  kExAt = 1 << 6,
  kPxAt = 1 << 7,
  kPersist = 1 << 8,
};

bool Is(absl::string_view arg, absl::string_view option) {
  return absl::EqualsIgnoreCase(arg, option);
}

// Redis's shared parser: `allowed` says which options the command takes.
std::optional<Reply> ParseFlags(const Args& args, size_t first, uint32_t allowed,
                                absl::string_view command, uint64_t now_ms, uint32_t* flags,
                                uint64_t* expire_ms) {
  const std::string* expire = nullptr;
  bool seconds = false;
  bool relative = false;
  for (size_t j = first; j < args.size(); ++j) {
    const std::string& opt = args[j];
    const bool has_next = j + 1 < args.size();
    if ((allowed & kNx) && Is(opt, "NX") && !(*flags & (kXx | kPersist))) {
      *flags |= kNx;
    } else if ((allowed & kXx) && Is(opt, "XX") && !(*flags & (kNx | kPersist))) {
      *flags |= kXx;
    } else if ((allowed & kGet) && Is(opt, "GET")) {
      *flags |= kGet;
    } else if ((allowed & kKeepTtl) && Is(opt, "KEEPTTL") &&
               !(*flags & (kPersist | kEx | kExAt | kPx | kPxAt))) {
      *flags |= kKeepTtl;
    } else if ((allowed & kPersist) && Is(opt, "PERSIST") &&
               !(*flags & (kEx | kExAt | kPx | kPxAt | kKeepTtl))) {
      *flags |= kPersist;
    } else if (Is(opt, "EX") && !(*flags & (kKeepTtl | kPersist | kExAt | kPx | kPxAt)) &&
               has_next) {
      *flags |= kEx;
      expire = &args[++j];
      seconds = true;
      relative = true;
    } else if (Is(opt, "PX") && !(*flags & (kKeepTtl | kPersist | kEx | kExAt | kPxAt)) &&
               has_next) {
      *flags |= kPx;
      expire = &args[++j];
      seconds = false;
      relative = true;
    } else if (Is(opt, "EXAT") && !(*flags & (kKeepTtl | kPersist | kEx | kPx | kPxAt)) &&
               has_next) {
      *flags |= kExAt;
      expire = &args[++j];
      seconds = true;
      relative = false;
    } else if (Is(opt, "PXAT") && !(*flags & (kKeepTtl | kPersist | kEx | kExAt | kPx)) &&
               has_next) {
      *flags |= kPxAt;
      expire = &args[++j];
      seconds = false;
      relative = false;
    } else {
      return SyntaxError();
    }
  }
  if (expire != nullptr) {
    std::optional<int64_t> amount = ParseInt64(*expire);
    if (!amount.has_value()) return NotIntegerError();
    std::optional<uint64_t> at = ExpireAt(*amount, seconds, relative, now_ms);
    if (!at.has_value()) {
      return Reply::Error(absl::StrCat("ERR invalid expire time in '", command, "' command"));
    }
    *expire_ms = *at;
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint64_t> ExpireAt(int64_t amount, bool seconds, bool relative, uint64_t now_ms) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (amount <= 0 || (seconds && amount > kMax / 1000)) return std::nullopt;
  int64_t ms = seconds ? amount * 1000 : amount;
  if (relative) {
    if (ms > kMax - static_cast<int64_t>(now_ms)) return std::nullopt;
    ms += static_cast<int64_t>(now_ms);
  }
  if (ms <= 0) return std::nullopt;
  return static_cast<uint64_t>(ms);
}

std::optional<Reply> ParseSetOptions(const Args& args, size_t first, absl::string_view command,
                                     uint64_t now_ms, SetOptions* options) {
  uint32_t flags = 0;
  uint64_t expire_ms = 0;
  if (std::optional<Reply> error = ParseFlags(args, first, kNx | kXx | kGet | kKeepTtl, command,
                                              now_ms, &flags, &expire_ms)) {
    return error;
  }
  options->nx = flags & kNx;
  options->xx = flags & kXx;
  options->get = flags & kGet;
  options->keep_ttl = flags & kKeepTtl;
  options->expire_ms = expire_ms;
  return std::nullopt;
}

std::optional<Reply> ParseGetExOptions(const Args& args, uint64_t now_ms, GetExOptions* options) {
  uint32_t flags = 0;
  uint64_t expire_ms = 0;
  if (std::optional<Reply> error =
          ParseFlags(args, 2, kPersist, "getex", now_ms, &flags, &expire_ms)) {
    return error;
  }
  options->persist = flags & kPersist;
  options->expire_ms = expire_ms;
  return std::nullopt;
}

}  // namespace ekv::redis_core
