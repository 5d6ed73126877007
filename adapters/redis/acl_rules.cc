#include "adapters/redis/acl_rules.h"

#include <algorithm>
#include <climits>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/pubsub_hub.h"

namespace ekv::redis {
namespace {

// Redis 7.0's reasons (ACLSetUserStringError), which ACL SETUSER puts after the rule.
constexpr absl::string_view kUnknownName = "Unknown command or category name in ACL";
constexpr absl::string_view kSyntaxError = "Syntax error";
constexpr absl::string_view kKeyAfterAll =
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not "
    "have any effect. Try 'resetkeys' to start with an empty list of patterns";
constexpr absl::string_view kChannelAfterAll =
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does "
    "not have any effect. Try 'resetchannels' to start with an empty list of channels";

// A bound on patterns per user, so one user cannot make every command's check slow.
constexpr size_t kMaxPatterns = 1024;

// Redis 7.0's ACLStringHasSpaces: a key or channel pattern with a space (isspace, C
// locale) or a NUL byte is a syntax error. The rules must stay one word each: Describe's
// text is split at spaces again where a script's redis.call is checked (user_acl), where
// "~x allkeys" would otherwise grant every key.
bool HasSpaces(absl::string_view pattern) {
  return std::any_of(pattern.begin(), pattern.end(), [](char c) {
    return c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
  });
}

// The catalogue id `args` runs: a container's subcommand when Redis knows it. nullopt for
// a command Redis does not have, or an unknown subcommand (Redis answers "unknown
// subcommand" before its ACL check, and so do ekv's handlers).
std::optional<size_t> CommandId(const CommandSpec& spec, const std::vector<std::string>& args,
                                bool* unknown_subcommand) {
  const AclCatalog& catalog = AclCatalog::Get();
  const std::optional<size_t> id = catalog.Find(spec.name);
  *unknown_subcommand = false;
  if (!id.has_value() || catalog.subcommands(*id).empty() || args.size() < 2) return id;
  const std::optional<size_t> sub =
      catalog.Find(absl::StrCat(spec.name, "|", absl::AsciiStrToLower(args[1])));
  if (!sub.has_value()) *unknown_subcommand = true;
  return sub;
}

}  // namespace

AclPermissions AclPermissions::AllowAll() {
  AclPermissions all;
  for (absl::string_view rule : {"+@all", "~*", "&*"}) {
    const absl::Status applied = all.Apply(rule);
    (void)applied;  // valid by construction
  }
  return all;
}

bool AclPermissions::AllowsEverything() const {
  return all_keys_ && all_channels_ && future_commands_ &&
         commands_.count() == AclCatalog::Get().size();
}

void AclPermissions::SetCommand(Bits& bits, size_t id, bool allow) {
  bits.set(id, allow);
  for (size_t sub : AclCatalog::Get().subcommands(id)) bits.set(sub, allow);
}

void AclPermissions::SetCategory(Bits& bits, size_t category, bool allow) {
  // Redis 7.0: every command in the category, a container with all its subcommands,
  // and every subcommand in the category on its own.
  for (size_t id : AclCatalog::Get().InCategory(category)) SetCommand(bits, id, allow);
}

absl::Status AclPermissions::ApplyCommandRule(bool allow, absl::string_view rule_name) {
  const AclCatalog& catalog = AclCatalog::Get();
  // Command and category names are case-insensitive, as in Redis.
  const std::string name = absl::AsciiStrToLower(rule_name);
  if (absl::StartsWith(name, "@")) {
    if (name == "@all") {
      // Only +@all (allcommands) reaches commands Redis adds later; -@all forgets that.
      future_commands_ = allow;
      commands_.reset();
      if (allow) {
        for (size_t id = 0; id < catalog.size(); ++id) commands_.set(id);
      }
      return absl::OkStatus();
    }
    const std::optional<size_t> category = AclCatalog::CategoryIndex(name.substr(1));
    if (!category.has_value()) return absl::InvalidArgumentError(kUnknownName);
    SetCategory(commands_, *category, allow);
    return absl::OkStatus();
  }
  if (const size_t bar = name.find('|'); bar != std::string::npos) {
    const std::optional<size_t> container = catalog.Find(name.substr(0, bar));
    if (!container.has_value()) return absl::InvalidArgumentError(kUnknownName);
    if (catalog.subcommands(*container).empty()) {
      // Redis 7.0 accepts +select|0 (deprecated: allow a first argument) but not -select|0.
      if (!allow) return absl::InvalidArgumentError(kUnknownName);
      return absl::InvalidArgumentError(
          "a first-argument rule (Redis 7 deprecates them): ekv allows or denies a command "
          "without subcommands whole");
    }
  }
  const std::optional<size_t> id = catalog.Find(name);
  if (!id.has_value()) return absl::InvalidArgumentError(kUnknownName);
  SetCommand(commands_, *id, allow);
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
    // %R~ and %W~ would need each key's read/write role per command, which ekv's command
    // table does not carry; %RW~ is plain ~.
    const size_t tilde = rule.find('~');
    if (tilde == absl::string_view::npos) return absl::InvalidArgumentError(kSyntaxError);
    const std::string flags = absl::AsciiStrToUpper(rule.substr(1, tilde - 1));
    if (flags.empty() || flags.find_first_not_of("RW") != std::string::npos) {
      return absl::InvalidArgumentError(kSyntaxError);
    }
    if (flags.find('R') == std::string::npos || flags.find('W') == std::string::npos) {
      return absl::InvalidArgumentError(
          "a read-only or write-only key pattern (%R~ or %W~): ekv supports ~pattern only");
    }
    rule.remove_prefix(tilde);
  }
  if (absl::StartsWith(rule, "~")) {
    if (all_keys_) return absl::InvalidArgumentError(kKeyAfterAll);
    const absl::string_view pattern = rule.substr(1);
    if (HasSpaces(pattern)) return absl::InvalidArgumentError(kSyntaxError);
    if (pattern == "*") {
      all_keys_ = true;
      key_patterns_.clear();
    } else if (std::find(key_patterns_.begin(), key_patterns_.end(), pattern) ==
               key_patterns_.end()) {
      if (key_patterns_.size() >= kMaxPatterns) {
        return absl::InvalidArgumentError(
            absl::StrCat("more than ", kMaxPatterns, " key patterns"));
      }
      key_patterns_.emplace_back(pattern);
    }
    return absl::OkStatus();
  }
  if (absl::StartsWith(rule, "&")) {
    if (all_channels_) return absl::InvalidArgumentError(kChannelAfterAll);
    const absl::string_view pattern = rule.substr(1);
    if (HasSpaces(pattern)) return absl::InvalidArgumentError(kSyntaxError);
    if (pattern == "*") {
      all_channels_ = true;
      channel_patterns_.clear();
    } else if (std::find(channel_patterns_.begin(), channel_patterns_.end(), pattern) ==
               channel_patterns_.end()) {
      if (channel_patterns_.size() >= kMaxPatterns) {
        return absl::InvalidArgumentError(
            absl::StrCat("more than ", kMaxPatterns, " channel patterns"));
      }
      channel_patterns_.emplace_back(pattern);
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(kSyntaxError);
}

bool AclPermissions::AllowsCommand(absl::string_view full_name) const {
  const std::optional<size_t> id = AclCatalog::Get().Find(full_name);
  return id.has_value() && commands_.test(*id);
}

std::optional<AclDenial> AclPermissions::Check(const CommandSpec& spec,
                                               const std::vector<std::string>& args) const {
  // Redis 7.0: a user may always run the commands that need no authentication.
  if ((spec.flags & kFlagNoAuth) == 0) {
    bool unknown_subcommand = false;
    const std::optional<size_t> id = CommandId(spec, args, &unknown_subcommand);
    // A command Redis lacks is allowed by +@all only (as a command added after the rules).
    const bool allowed =
        unknown_subcommand || (id.has_value() ? commands_.test(*id) : future_commands_);
    if (!allowed) {
      std::string full_name = id.has_value() ? AclCatalog::Get().name(*id) : spec.name;
      std::string message =
          absl::StrCat("NOPERM this user has no permissions to run the '", full_name, "' command");
      return AclDenial{"command", std::move(full_name), std::move(message)};
    }
  }
  if (!all_keys_) {
    // Every key Redis 7.0 finds (the key specs, numkeys, SORT's STORE), not only the first
    // to last key positions; none when they cannot be found (the command then answers its
    // own error).
    const std::vector<std::string> keys =
        CommandKeysOf(spec, args).value_or(std::vector<std::string>());
    for (const std::string& key : keys) {
      const bool allowed =
          std::any_of(key_patterns_.begin(), key_patterns_.end(),
                      [&](const std::string& pattern) { return GlobMatch(pattern, key); });
      if (!allowed) {
        return AclDenial{
            "key", key,
            "NOPERM this user has no permissions to access one of the keys used as arguments"};
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
        return AclDenial{"channel", channel,
                         "NOPERM this user has no permissions to access one of the channels "
                         "used as arguments"};
      }
    }
  }
  return std::nullopt;
}

std::string AclPermissions::DescribeCommands() const {
  // Redis 7.0's reconstruction (ACLDescribeSelectorCommandRules): start from +@all or
  // -@all, add the categories that fit best, then name each command or subcommand that
  // still differs. Redis names those in its hash table's order (which varies between runs);
  // ekv in name order.
  const AclCatalog& catalog = AclCatalog::Get();
  const bool additive = !future_commands_;
  std::string rules = additive ? "-@all " : "+@all ";
  Bits described;  // what the rules so far grant
  if (!additive) described.set();
  Bits remaining = commands_;  // what no category chosen so far accounts for
  std::array<bool, kAclCategories.size()> applied{};
  while (true) {
    std::optional<size_t> best;
    size_t fewest_different = SIZE_MAX;
    size_t most_same = 0;
    for (size_t category = 0; category < kAclCategories.size(); ++category) {
      if (applied[category]) continue;
      size_t on = 0;
      size_t off = 0;
      for (size_t id : catalog.InCategory(category)) (remaining.test(id) ? on : off)++;
      const size_t different = additive ? off : on;
      const size_t same = additive ? on : off;
      if (same > different &&
          (different < fewest_different || (different == fewest_different && same > most_same))) {
        best = category;
        fewest_different = different;
        most_same = same;
      }
    }
    if (!best.has_value()) break;
    SetCategory(described, *best, additive);
    SetCategory(remaining, *best, !additive);
    absl::StrAppend(&rules, additive ? "+@" : "-@", kAclCategories[*best], " ");
    applied[*best] = true;
  }
  for (size_t id = 0; id < catalog.size(); ++id) {
    if (commands_.test(id) == described.test(id)) continue;
    absl::StrAppend(&rules, commands_.test(id) ? "+" : "-", catalog.name(id), " ");
    SetCommand(described, id, commands_.test(id));
  }
  rules.pop_back();
  return rules;
}

std::string AclPermissions::DescribeKeys() const {
  if (all_keys_) return "~*";
  std::vector<std::string> words;
  for (const std::string& pattern : key_patterns_) words.push_back(absl::StrCat("~", pattern));
  return absl::StrJoin(words, " ");
}

std::string AclPermissions::DescribeChannels() const {
  if (all_channels_) return "&*";
  std::vector<std::string> words;
  for (const std::string& pattern : channel_patterns_) {
    words.push_back(absl::StrCat("&", pattern));
  }
  return absl::StrJoin(words, " ");
}

std::string AclPermissions::Describe() const {
  std::string out;
  if (const std::string keys = DescribeKeys(); !keys.empty()) absl::StrAppend(&out, keys, " ");
  if (!all_channels_) absl::StrAppend(&out, "resetchannels ");
  if (const std::string channels = DescribeChannels(); !channels.empty()) {
    absl::StrAppend(&out, channels, " ");
  }
  absl::StrAppend(&out, DescribeCommands());
  return out;
}

}  // namespace ekv::redis
