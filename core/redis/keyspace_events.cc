#include "core/redis/keyspace_events.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "core/redis/numbers.h"

namespace ekv::redis_core {

namespace {

// Each class character and its bit, in the order keyspaceEventsFlagsToString prints the
// event classes (K, E and m, printed last, follow).
constexpr std::pair<char, uint32_t> kClasses[] = {
    {'g', kNotifyGeneric},  {'$', kNotifyString}, {'l', kNotifyList},    {'s', kNotifySet},
    {'h', kNotifyHash},     {'z', kNotifyZset},   {'x', kNotifyExpired}, {'e', kNotifyEvicted},
    {'t', kNotifyStream},   {'d', kNotifyModule}, {'n', kNotifyNew},     {'K', kNotifyKeyspace},
    {'E', kNotifyKeyevent}, {'m', kNotifyKeyMiss}};
// The first 11, which notify.c prints only without 'A' (so "KEAn" reads back "AKE").
constexpr size_t kEventClasses = 11;

}  // namespace

std::optional<uint32_t> ParseKeyspaceEvents(absl::string_view classes) {
  uint32_t flags = 0;
  for (char c : classes) {
    if (c == 'A') {
      flags |= kNotifyAll;
      continue;
    }
    const auto* found = std::find_if(std::begin(kClasses), std::end(kClasses),
                                     [c](const auto& entry) { return entry.first == c; });
    if (found == std::end(kClasses)) return std::nullopt;
    flags |= found->second;
  }
  return flags;
}

std::string KeyspaceEventsString(uint32_t flags) {
  std::string out;
  const bool all = (flags & kNotifyAll) == kNotifyAll;
  if (all) out += 'A';
  for (size_t i = 0; i < std::size(kClasses); ++i) {
    if (all && i < kEventClasses) continue;
    if (flags & kClasses[i].second) out += kClasses[i].first;
  }
  return out;
}

uint32_t RequestNotifyFlags(uint32_t flags) {
  const uint32_t classes = flags & ~(kNotifyKeyspace | kNotifyKeyevent);
  if ((flags & (kNotifyKeyspace | kNotifyKeyevent)) == 0 || classes == 0) return 0;
  return flags;
}

namespace {

class Emitter {
 public:
  Emitter(const KeyChanges& changes, uint32_t flags, std::vector<KeyEvent>* out)
      : changes_(changes), flags_(flags), out_(out) {}

  const KeyChange* Change(const std::string& key) const {
    auto it = changes_.find(key);
    return it == changes_.end() ? nullptr : &it->second;
  }
  // Redis's dbAdd announces a key it creates ("new") right before the command's first
  // event on it, whether or not that event's class is on.
  void Emit(uint32_t type, absl::string_view event, const std::string& key) {
    NewKey(key);
    if (flags_ & type) out_->push_back({std::string(event), key});
  }
  // The command's event on `key` when it wrote the key, then "del" when that emptied a
  // collection (Redis: "lpop" then "del").
  void Wrote(uint32_t type, absl::string_view event, const std::string& key) {
    const KeyChange* change = Change(key);
    if (change == nullptr) return;
    Emit(type, event, key);
    if (change->deleted && change->existed) Emit(kNotifyGeneric, "del", key);
  }
  // A STORE destination: the command's event when written, "del" when an existing key
  // was removed for an empty result (nothing when there was none).
  void Stored(uint32_t type, absl::string_view event, const std::string& key) {
    const KeyChange* change = Change(key);
    if (change == nullptr) return;
    if (!change->deleted) {
      Emit(type, event, key);
    } else if (change->existed) {
      Emit(kNotifyGeneric, "del", key);
    }
  }
  // "del" for a key the command removed.
  void Deleted(const std::string& key) {
    const KeyChange* change = Change(key);
    if (change != nullptr && change->deleted && change->existed) Emit(kNotifyGeneric, "del", key);
  }
  void NewKey(const std::string& key) {
    if ((flags_ & kNotifyNew) == 0) return;
    const KeyChange* change = Change(key);
    if (change == nullptr || change->existed || change->deleted) return;
    if (announced_.insert(key).second) out_->push_back({"new", key});
  }

 private:
  std::set<std::string> announced_;
  const KeyChanges& changes_;
  const uint32_t flags_;
  std::vector<KeyEvent>* out_;
};

bool HasWord(const std::vector<std::string>& args, size_t from,
             std::initializer_list<absl::string_view> words) {
  for (size_t i = from; i < args.size(); ++i) {
    for (absl::string_view word : words) {
      if (absl::EqualsIgnoreCase(args[i], word)) return true;
    }
  }
  return false;
}

// LMPOP/ZMPOP (numkeys at args[1]) and BLMPOP/BZMPOP (at args[2]): the keys and the word
// after them (LEFT/RIGHT, MIN/MAX).
void CountedKeys(const std::vector<std::string>& args, size_t numkeys_index,
                 std::vector<std::string>* keys, std::string* where) {
  if (numkeys_index >= args.size()) return;
  std::optional<int64_t> count = ParseInt64(args[numkeys_index]);
  if (!count.has_value() || *count <= 0) return;
  size_t i = numkeys_index + 1;
  for (int64_t n = 0; n < *count && i < args.size(); ++n, ++i) keys->push_back(args[i]);
  if (i < args.size()) *where = absl::AsciiStrToLower(args[i]);
}

}  // namespace

void AppendCommandEvents(absl::string_view name, const std::vector<std::string>& args,
                         const KeyChanges& changes, uint32_t flags, std::vector<KeyEvent>* out) {
  if (changes.empty() || args.size() < 2) return;
  Emitter e(changes, flags, out);
  // A blocked client's later runs (ekv-serve-blpop...) notify as the command they serve.
  static constexpr absl::string_view kServePrefix = "ekv-serve-";
  if (absl::StartsWith(name, kServePrefix)) name.remove_prefix(kServePrefix.size());
  const std::string& key = args[1];
  auto one = [&](uint32_t type, absl::string_view event) { e.Wrote(type, event, key); };
  // strings
  if (name == "set") {
    one(kNotifyString, "set");
    if (HasWord(args, 3, {"ex", "px", "exat", "pxat"})) e.Wrote(kNotifyGeneric, "expire", key);
  } else if (name == "setnx" || name == "getset") {
    one(kNotifyString, "set");
  } else if (name == "setex" || name == "psetex") {
    one(kNotifyString, "set");
    e.Wrote(kNotifyGeneric, "expire", key);
  } else if (name == "mset" || name == "msetnx") {
    for (size_t i = 1; i < args.size(); i += 2) e.Wrote(kNotifyString, "set", args[i]);
  } else if (name == "incr" || name == "decr" || name == "incrby" || name == "decrby") {
    one(kNotifyString, "incrby");
  } else if (name == "incrbyfloat" || name == "append" || name == "setrange" || name == "setbit") {
    one(kNotifyString, name);
  } else if (name == "pfadd" || name == "pfmerge") {
    one(kNotifyString, "pfadd");  // PFMERGE too: Redis calls it a mass add
  } else if (name == "bitfield") {
    one(kNotifyString, "setbit");
  } else if (name == "bitop") {
    if (args.size() > 2) e.Stored(kNotifyString, "set", args[2]);
  } else if (name == "getdel") {
    e.Deleted(key);
  } else if (name == "getex") {
    const KeyChange* change = e.Change(key);
    if (change != nullptr && change->deleted) {
      e.Deleted(key);
    } else if (HasWord(args, 2, {"persist"})) {
      one(kNotifyGeneric, "persist");
    } else {
      one(kNotifyGeneric, "expire");
    }
    // keys
  } else if (name == "del" || name == "unlink") {
    std::set<std::string> done;
    for (size_t i = 1; i < args.size(); ++i) {
      if (done.insert(args[i]).second) e.Deleted(args[i]);
    }
  } else if (name == "expire" || name == "pexpire" || name == "expireat" || name == "pexpireat") {
    const KeyChange* change = e.Change(key);
    if (change != nullptr && change->deleted) {
      e.Deleted(key);
    } else {
      one(kNotifyGeneric, "expire");
    }
  } else if (name == "persist" || name == "restore") {
    one(kNotifyGeneric, name);
  } else if (name == "rename" || name == "renamenx") {
    if (args.size() > 2 && e.Change(key) != nullptr && e.Change(args[2]) != nullptr) {
      e.NewKey(args[2]);  // the target is added before the source's event
      e.Emit(kNotifyGeneric, "rename_from", key);
      e.Emit(kNotifyGeneric, "rename_to", args[2]);
    }
  } else if (name == "copy") {
    if (args.size() > 2 && e.Change(args[2]) != nullptr) {
      e.Emit(kNotifyGeneric, "copy_to", args[2]);
    }
    // lists
  } else if (name == "lpush" || name == "lpushx") {
    one(kNotifyList, "lpush");
  } else if (name == "rpush" || name == "rpushx") {
    one(kNotifyList, "rpush");
  } else if (name == "lpop" || name == "rpop" || name == "linsert" || name == "lset" ||
             name == "lrem" || name == "ltrim") {
    one(kNotifyList, name);
  } else if (name == "blpop" || name == "brpop") {
    for (size_t i = 1; i + 1 < args.size(); ++i) {
      e.Wrote(kNotifyList, name == "blpop" ? "lpop" : "rpop", args[i]);
    }
  } else if (name == "lmove" || name == "blmove" || name == "rpoplpush" || name == "brpoplpush") {
    // Redis pushes onto the destination first, then notifies the pop from the source.
    if (args.size() < 3) return;
    const bool move = name == "lmove" || name == "blmove";
    const bool from_left = move && args.size() > 3 && absl::EqualsIgnoreCase(args[3], "left");
    const bool to_left = !move || (args.size() > 4 && absl::EqualsIgnoreCase(args[4], "left"));
    if (e.Change(key) == nullptr) return;
    e.Emit(kNotifyList, to_left ? "lpush" : "rpush", args[2]);
    e.Wrote(kNotifyList, from_left ? "lpop" : "rpop", key);
  } else if (name == "lmpop" || name == "blmpop" || name == "zmpop" || name == "bzmpop") {
    std::vector<std::string> keys;
    std::string where;
    CountedKeys(args, name[0] == 'b' ? 2 : 1, &keys, &where);
    const bool list = absl::EndsWith(name, "lmpop");
    for (const std::string& k : keys) {
      if (list) {
        e.Wrote(kNotifyList, where == "left" ? "lpop" : "rpop", k);
      } else {
        e.Wrote(kNotifyZset, where == "min" ? "zpopmin" : "zpopmax", k);
      }
    }
  } else if (name == "sort") {
    for (const auto& [written, change] : changes) e.Stored(kNotifyList, "sortstore", written);
    // hashes
  } else if (name == "hset" || name == "hmset" || name == "hsetnx") {
    one(kNotifyHash, "hset");
  } else if (name == "hincrby" || name == "hincrbyfloat" || name == "hdel") {
    one(kNotifyHash, name);
    // sets
  } else if (name == "sadd" || name == "srem" || name == "spop") {
    one(kNotifySet, name);
  } else if (name == "smove") {
    if (args.size() < 3) return;
    e.Wrote(kNotifySet, "srem", key);
    if (args[2] != key) e.Wrote(kNotifySet, "sadd", args[2]);
  } else if (name == "sinterstore" || name == "sunionstore" || name == "sdiffstore") {
    e.Stored(kNotifySet, name, key);
    // sorted sets
  } else if (name == "zadd") {
    bool incr = false;
    for (size_t i = 2; i < args.size(); ++i) {
      const std::string word = absl::AsciiStrToLower(args[i]);
      if (word == "incr") {
        incr = true;
      } else if (word != "nx" && word != "xx" && word != "gt" && word != "lt" && word != "ch") {
        break;
      }
    }
    one(kNotifyZset, incr ? "zincr" : "zadd");
  } else if (name == "zincrby") {
    one(kNotifyZset, "zincr");
  } else if (name == "zrem" || name == "zremrangebyscore" || name == "zremrangebyrank" ||
             name == "zremrangebylex" || name == "zpopmin" || name == "zpopmax") {
    one(kNotifyZset, name);
  } else if (name == "bzpopmin" || name == "bzpopmax") {
    for (size_t i = 1; i + 1 < args.size(); ++i) e.Wrote(kNotifyZset, name.substr(1), args[i]);
  } else if (name == "zunionstore" || name == "zinterstore" || name == "zdiffstore" ||
             name == "zrangestore") {
    e.Stored(kNotifyZset, name, key);
    // geo sets: GEOADD runs ZADD (its event), the searches' STORE destinations
  } else if (name == "geoadd") {
    one(kNotifyZset, "zadd");
  } else if (name == "georadius" || name == "georadiusbymember") {
    // Only a STORE destination is written.
    for (const auto& [written, change] : changes) e.Stored(kNotifyZset, "georadiusstore", written);
  } else if (name == "geosearchstore") {
    e.Stored(kNotifyZset, "geosearchstore", key);
    // streams
  } else if (name == "xadd" || name == "xdel" || name == "xtrim" || name == "xsetid") {
    one(kNotifyStream, name);
    if (const KeyChange* change = e.Change(key); change != nullptr) {
      for (const std::string& event : change->events) e.Emit(kNotifyStream, event, key);
    }
  } else if (name == "xgroup") {
    if (args.size() > 2) e.Wrote(kNotifyStream, "xgroup-" + absl::AsciiStrToLower(key), args[2]);
  } else if (name == "xreadgroup") {
    for (const auto& [written, change] : changes) {
      for (const std::string& event : change.events) e.Emit(kNotifyStream, event, written);
    }
  }
}

}  // namespace ekv::redis_core
