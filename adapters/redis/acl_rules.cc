#include "adapters/redis/acl_rules.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/pubsub_hub.h"

namespace ekv::redis {
namespace {

// Redis 7.0's ACL categories (ACL CAT). A category no ekv command is in is still valid:
// `-@scripting` is a correct rule with nothing to remove here.
constexpr absl::string_view kCategories[] = {
    "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting"};

// Commands ekv serves that Redis 7 defines with subcommands: a refusal names the
// subcommand ("client|list"), as Redis's full command name does.
constexpr absl::string_view kContainerCommands[] = {"client", "command", "config", "pubsub"};

// A bound on patterns per user, so one line cannot make every command's check slow.
constexpr size_t kMaxPatterns = 1024;

bool IsContainer(absl::string_view name) {
  return std::find(std::begin(kContainerCommands), std::end(kContainerCommands), name) !=
         std::end(kContainerCommands);
}

// Key argument positions by Redis's legacy (first, last, step) triple: a negative last
// counts from the end (-1: the last argument).
std::vector<size_t> KeyPositions(const CommandSpec& spec, size_t argc) {
  std::vector<size_t> positions;
  if (spec.first_key <= 0 || spec.key_step <= 0) return positions;
  const long last = spec.last_key >= 0 ? spec.last_key : static_cast<long>(argc) + spec.last_key;
  for (long i = spec.first_key; i <= last && i < static_cast<long>(argc); i += spec.key_step) {
    positions.push_back(static_cast<size_t>(i));
  }
  return positions;
}

}  // namespace

AclPermissions AclPermissions::AllowAll() {
  AclPermissions all;
  for (absl::string_view rule : {"+@all", "~*", "&*"}) {
    absl::Status applied = all.Apply(rule);
    (void)applied;  // valid by construction
  }
  return all;
}

bool AclPermissions::AllowsEverything() const {
  return all_keys_ && all_channels_ && commands_.size() == CommandTable::Default().specs().size();
}

absl::Status AclPermissions::ApplyCommandRule(bool allow, absl::string_view rule_name) {
  const auto& specs = CommandTable::Default().specs();
  // Command and category names are case-insensitive, as in Redis.
  const std::string name = absl::AsciiStrToLower(rule_name);
  if (absl::StartsWith(name, "@")) {
    const absl::string_view category = absl::string_view(name).substr(1);
    if (category != "all" && std::find(std::begin(kCategories), std::end(kCategories), category) ==
                                 std::end(kCategories)) {
      return absl::InvalidArgumentError("an unknown ACL category");
    }
    for (const auto& [command, spec] : specs) {
      const bool in_category =
          category == "all" || std::find(spec.acl_categories.begin(), spec.acl_categories.end(),
                                         name) != spec.acl_categories.end();
      if (!in_category) continue;
      if (allow) {
        commands_.insert(command);
      } else {
        commands_.erase(command);
      }
    }
    return absl::OkStatus();
  }
  if (absl::StrContains(name, '|')) {
    return absl::InvalidArgumentError(
        "a subcommand or first-argument rule (cmd|sub): ekv allows or denies whole commands");
  }
  if (name.empty()) return absl::InvalidArgumentError("an empty command rule");
  if (!specs.contains(name)) return absl::OkStatus();  // not served: nothing to allow or deny
  if (allow) {
    commands_.insert(name);
  } else {
    commands_.erase(name);
  }
  return absl::OkStatus();
}

absl::Status AclPermissions::Apply(absl::string_view rule) {
  const std::string lower = absl::AsciiStrToLower(rule);
  if (lower == "allcommands") return ApplyCommandRule(true, "@all");
  if (lower == "nocommands") return ApplyCommandRule(false, "@all");
  if (rule.size() > 1 && (rule.front() == '+' || rule.front() == '-')) {
    return ApplyCommandRule(rule.front() == '+', rule.substr(1));
  }
  if (lower == "allkeys") rule = "~*";
  if (lower == "allchannels") rule = "&*";
  if (lower == "resetkeys") {
    all_keys_ = false;
    key_patterns_.clear();
    return absl::OkStatus();
  }
  if (lower == "resetchannels") {
    all_channels_ = false;
    channel_patterns_.clear();
    return absl::OkStatus();
  }
  if (absl::StartsWith(rule, "%")) {
    // %R~, %W~ would need each key's read/write role per command; %RW~ is plain ~.
    if (!absl::StartsWithIgnoreCase(rule, "%RW~") && !absl::StartsWithIgnoreCase(rule, "%WR~")) {
      return absl::InvalidArgumentError(
          "a read-only or write-only key pattern (%R~ or %W~): ekv supports ~pattern only");
    }
    rule.remove_prefix(3);
  }
  if (absl::StartsWith(rule, "~")) {
    // Redis refuses a pattern after ~* (it could never matter).
    if (all_keys_) {
      return absl::InvalidArgumentError(
          "a key pattern after ~* or allkeys (Redis refuses it too: use resetkeys first)");
    }
    const absl::string_view pattern = rule.substr(1);
    if (pattern == "*") {
      all_keys_ = true;
      key_patterns_.clear();
    } else {
      if (key_patterns_.size() >= kMaxPatterns) {
        return absl::InvalidArgumentError(
            absl::StrCat("more than ", kMaxPatterns, " key patterns"));
      }
      key_patterns_.emplace_back(pattern);
    }
    return absl::OkStatus();
  }
  if (absl::StartsWith(rule, "&")) {
    if (all_channels_) {
      return absl::InvalidArgumentError(
          "a channel pattern after &* or allchannels (Redis refuses it too: use resetchannels "
          "first)");
    }
    const absl::string_view pattern = rule.substr(1);
    if (pattern == "*") {
      all_channels_ = true;
      channel_patterns_.clear();
    } else {
      if (channel_patterns_.size() >= kMaxPatterns) {
        return absl::InvalidArgumentError(
            absl::StrCat("more than ", kMaxPatterns, " channel patterns"));
      }
      channel_patterns_.emplace_back(pattern);
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError("not an ACL rule ekv supports");
}

std::string AclPermissions::Check(const CommandSpec& spec,
                                  const std::vector<std::string>& args) const {
  // Redis 7.0: a user may always run the commands that need no authentication.
  if ((spec.flags & kFlagNoAuth) == 0 && !commands_.contains(spec.name)) {
    std::string full_name = spec.name;
    if (IsContainer(spec.name) && args.size() >= 2) {
      absl::StrAppend(&full_name, "|", absl::AsciiStrToLower(args[1]));
    }
    return absl::StrCat("NOPERM this user has no permissions to run the '", full_name, "' command");
  }
  if (!all_keys_) {
    for (size_t position : KeyPositions(spec, args.size())) {
      const std::string& key = args[position];
      const bool allowed =
          std::any_of(key_patterns_.begin(), key_patterns_.end(),
                      [&](const std::string& pattern) { return GlobMatch(pattern, key); });
      if (!allowed) {
        return "NOPERM this user has no permissions to access one of the keys used as arguments";
      }
    }
  }
  if (!all_channels_) {
    const bool is_pattern = spec.name == "psubscribe";
    size_t first = 0;
    size_t last = 0;  // exclusive
    if (spec.name == "publish") {
      first = 1;
      last = 2;
    } else if (spec.name == "subscribe" || is_pattern) {
      first = 1;
      last = args.size();
    }
    for (size_t i = first; i < last && i < args.size(); ++i) {
      const std::string& channel = args[i];
      const bool allowed = std::any_of(
          channel_patterns_.begin(), channel_patterns_.end(), [&](const std::string& pattern) {
            // A subscriber's pattern must be one the user was given, not one it matches.
            return is_pattern ? pattern == channel : GlobMatch(pattern, channel);
          });
      if (!allowed) {
        return "NOPERM this user has no permissions to access one of the channels used as "
               "arguments";
      }
    }
  }
  return "";
}

}  // namespace ekv::redis
