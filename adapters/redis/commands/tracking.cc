// CLIENT TRACKING, CLIENT CACHING, CLIENT GETREDIR, CLIENT TRACKINGINFO: Redis 7.0's
// client-side caching switches (networking.c clientCommand), with its checks in its order
// and its error words. The connection keeps its own switches (ConnectionState::tracking);
// the server keeps what it must find by key or prefix (TrackingTable) and sends the
// invalidations (redis_server.cc).
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/redis/command_table.h"
#include "adapters/redis/resp_parser.h"
#include "adapters/redis/resp_writer.h"
#include "adapters/redis/server_control.h"
#include "core/util/assert.h"

namespace ekv::redis {
namespace {

// Redis's stringCheckPrefix: one is a prefix of the other.
bool Overlap(absl::string_view a, absl::string_view b) {
  return absl::StartsWith(a, b) || absl::StartsWith(b, a);
}

// checkPrefixCollisionsOrReply: empty when the new prefixes overlap neither the
// connection's nor each other.
std::string PrefixCollision(const std::set<std::string>& existing,
                            const std::vector<std::string>& prefixes) {
  for (size_t i = 0; i < prefixes.size(); ++i) {
    for (const std::string& old : existing) {
      if (Overlap(old, prefixes[i])) {
        return absl::StrCat("ERR Prefix '", prefixes[i], "' overlaps with an existing prefix '",
                            old, "'. Prefixes for a single client must not overlap.");
      }
    }
    for (size_t j = i + 1; j < prefixes.size(); ++j) {
      if (Overlap(prefixes[i], prefixes[j])) {
        return absl::StrCat("ERR Prefix '", prefixes[i],
                            "' overlaps with another provided prefix '", prefixes[j],
                            "'. Prefixes for a single client must not overlap.");
      }
    }
  }
  return "";
}

bool ConnectionExists(const ServerControl* server, uint64_t id) {
  if (server == nullptr) return false;
  for (const ConnectionState* other : server->Connections()) {
    if (other->id == id) return true;
  }
  return false;
}

void TrackingOnOff(CommandContext context) {
  const std::vector<std::string>& args = context.args;
  ConnectionState& c = *context.connection;
  ConnectionState::Tracking& t = c.tracking;
  long long redirect = 0;
  bool bcast = false, optin = false, optout = false, noloop = false;
  std::vector<std::string> prefixes;
  for (size_t j = 3; j < args.size(); ++j) {
    const bool more = j + 1 < args.size();
    const std::string option = absl::AsciiStrToLower(args[j]);
    if (option == "redirect" && more) {
      ++j;
      if (redirect != 0) {
        return context.reply(ErrorReply("ERR A client can only redirect to a single other client"));
      }
      if (!ParseRedisInt64(args[j], &redirect)) {
        return context.reply(ErrorReply("ERR value is not an integer or out of range"));
      }
      // Redis requires it to exist now (it may go later: then "broken_redirect").
      if (redirect <= 0 || !ConnectionExists(c.server, static_cast<uint64_t>(redirect))) {
        return context.reply(ErrorReply("ERR The client ID you want redirect to does not exist"));
      }
    } else if (option == "bcast") {
      bcast = true;
    } else if (option == "optin") {
      optin = true;
    } else if (option == "optout") {
      optout = true;
    } else if (option == "noloop") {
      noloop = true;
    } else if (option == "prefix" && more) {
      prefixes.push_back(args[++j]);
    } else {
      return context.reply(ErrorReply("ERR syntax error"));
    }
  }
  const std::string mode = absl::AsciiStrToLower(args[2]);
  if (mode == "off") {
    DisableTracking(c);
    return context.reply(SimpleStringReply("OK"));
  }
  if (mode != "on") return context.reply(ErrorReply("ERR syntax error"));
  if (!bcast && !prefixes.empty()) {
    return context.reply(ErrorReply("ERR PREFIX option requires BCAST mode to be enabled"));
  }
  if (t.on && t.bcast != bcast) {
    return context.reply(
        ErrorReply("ERR You can't switch BCAST mode on/off before disabling tracking for this "
                   "client, and then re-enabling it with a different mode."));
  }
  if (bcast && (optin || optout)) {
    return context.reply(ErrorReply("ERR OPTIN and OPTOUT are not compatible with BCAST"));
  }
  if (optin && optout) {
    return context.reply(ErrorReply("ERR You can't specify both OPTIN mode and OPTOUT mode"));
  }
  if ((optin && t.optout) || (optout && t.optin)) {
    return context.reply(
        ErrorReply("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this "
                   "client, and then re-enabling it with a different mode."));
  }
  if (bcast) {
    if (std::string collision = PrefixCollision(t.prefixes, prefixes); !collision.empty()) {
      return context.reply(ErrorReply(collision));
    }
  }
  if (c.server == nullptr)
    return context.reply(ErrorReply("ERR CLIENT TRACKING needs a running server"));
  // enableTracking: the switches are set again (CACHING and the prefixes stay).
  t.on = true;
  t.broken_redirect = false;
  t.redirect = static_cast<uint64_t>(redirect);
  t.bcast = bcast;
  t.optin = optin;
  t.optout = optout;
  t.noloop = noloop;
  std::vector<std::string> added;
  if (bcast) {
    if (prefixes.empty()) prefixes.push_back("");
    for (std::string& prefix : prefixes) {
      if (t.prefixes.insert(prefix).second) added.push_back(std::move(prefix));
    }
  }
  c.server->TrackingEnabled(c, added,
                            [reply = std::move(context.reply)] { reply(SimpleStringReply("OK")); });
}

void Caching(CommandContext context) {
  ConnectionState::Tracking& t = context.connection->tracking;
  if (!t.on) {
    return context.reply(
        ErrorReply("ERR CLIENT CACHING can be called only when the client is in tracking mode "
                   "with OPTIN or OPTOUT mode enabled"));
  }
  const std::string opt = absl::AsciiStrToLower(context.args[2]);
  if (opt == "yes") {
    if (!t.optin) {
      return context.reply(ErrorReply(
          "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."));
    }
  } else if (opt == "no") {
    if (!t.optout) {
      return context.reply(ErrorReply(
          "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."));
    }
  } else {
    return context.reply(ErrorReply("ERR syntax error"));
  }
  t.caching = true;
  context.reply(SimpleStringReply("OK"));
}

void TrackingInfo(CommandContext context) {
  const ConnectionState& c = *context.connection;
  const ConnectionState::Tracking& t = c.tracking;
  std::vector<absl::string_view> flags{t.on ? "on" : "off"};
  if (t.bcast) flags.push_back("bcast");
  if (t.optin) {
    flags.push_back("optin");
    if (t.caching) flags.push_back("caching-yes");
  }
  if (t.optout) {
    flags.push_back("optout");
    if (t.caching) flags.push_back("caching-no");
  }
  if (t.noloop) flags.push_back("noloop");
  if (t.broken_redirect) flags.push_back("broken_redirect");
  RespWriter writer(c.protocol);
  writer.MapHeader(3);
  writer.Bulk("flags");
  writer.SetHeader(flags.size());
  for (absl::string_view flag : flags) writer.Bulk(flag);
  writer.Bulk("redirect");
  writer.Integer(t.on ? static_cast<int64_t>(t.redirect) : -1);
  writer.Bulk("prefixes");
  writer.ArrayHeader(t.prefixes.size());
  for (const std::string& prefix : t.prefixes) writer.Bulk(prefix);
  context.reply(writer.Take());
}

}  // namespace

void DisableTracking(ConnectionState& c) {
  if (!c.tracking.on) return;
  if (c.server != nullptr) c.server->TrackingDisabled(c);
  c.tracking = ConnectionState::Tracking{};
}

void ClientTrackingCommand(CommandContext context, const std::string& sub) {
  const size_t argc = context.args.size();
  auto arity = [&](bool ok) {
    if (!ok) {
      context.reply(
          ErrorReply(absl::StrCat("ERR wrong number of arguments for 'client|", sub, "' command")));
    }
    return ok;
  };
  if (sub == "tracking") {
    if (!arity(argc >= 3)) return;
    return TrackingOnOff(std::move(context));
  }
  if (sub == "caching") {
    if (!arity(argc == 3)) return;
    return Caching(std::move(context));
  }
  if (sub == "getredir") {
    if (!arity(argc == 2)) return;
    const ConnectionState::Tracking& t = context.connection->tracking;
    return context.reply(
        absl::StrCat(":", t.on ? static_cast<int64_t>(t.redirect) : int64_t{-1}, "\r\n"));
  }
  EKV_ASSERT(sub == "trackinginfo", "not a tracking subcommand: ", sub);
  if (!arity(argc == 2)) return;
  TrackingInfo(std::move(context));
}

}  // namespace ekv::redis
