// Executor: runs Redis data commands (strings, keys, hashes, lists, sets, sorted sets)
// against one group's state at apply time (writes) or at a linearizable read point
// (read-only commands). Deterministic: the reply and the writes depend only on the
// request (request.h), the store and the time the group decided (`now_ms`), so every
// replica computes the same ones and the simulator can run it.
//
// Replies and errors are Redis 7.0's, byte for byte once encoded (adapters/redis).
// A command that fails with a Redis error writes nothing. A request that meets a
// transaction lock or an engine error fails as a whole (absl::Status) and writes nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/redis/keyspace_events.h"
#include "core/redis/layout.h"
#include "core/redis/reply.h"
#include "core/redis/request.h"
#include "core/redis/script_runner.h"
#include "core/redis/store.h"

namespace ekv::redis_core {

class Executor;
using Args = std::vector<std::string>;
using Handler = absl::StatusOr<Reply> (*)(Executor& ex, const Args& args);
// The keys of a command whose keys no fixed positions describe (SORT's STORE destination
// may stand anywhere), as Redis 7.0's getkeys_proc finds them.
using KeyFinder = std::vector<std::string> (*)(const Args& args);

// One command the executor knows. Arity and key positions follow Redis 7.0's COMMAND.
struct CommandInfo {
  const char* name;  // lower case
  int arity;         // N: exactly N args (name included); -N: at least N
  bool write;
  int first_key;  // 0: none
  int last_key;   // -1: the last argument
  int key_step;
  Handler handler;
  // Non-zero for the commands whose keys are counted by an argument (LMPOP, ZMPOP,
  // ZUNION, SINTERCARD...): args[numkeys_index] keys follow that argument. first/last/step
  // are then Redis's legacy COMMAND fields: 0, or the fixed destination key of the STORE
  // forms (ZUNIONSTORE: 1, 1, 1), which comes before the counted keys.
  int numkeys_index = 0;
  // Set for the commands Redis finds the keys of with a getkeys_proc (SORT, SORT_RO):
  // CommandKeys asks it instead of the positions (which stay Redis's legacy COMMAND fields).
  KeyFinder key_finder = nullptr;
};

// Every command, ordered by name.
const std::vector<CommandInfo>& AllCommands();
const CommandInfo* FindCommand(absl::string_view name);  // case-insensitive
// The keys a well-formed command names, in order (duplicates kept).
std::vector<std::string> CommandKeys(const CommandInfo& info, const Args& args);

// ---- scripting hook (lua): EVAL, EVALSHA, EVAL_RO and EVALSHA_RO queued in a MULTI. They
// are not in the executor's table (the front door runs them alone as script requests);
// EXEC runs them with its own executor (RunQueuedScript, script_calls.cc).
bool IsScriptCommand(absl::string_view name);       // case-insensitive
bool IsWriteScriptCommand(absl::string_view name);  // EVAL, EVALSHA
// A queued command's keys: CommandKeys for the executor's commands, KEYS (the numkeys
// arguments after numkeys, none when numkeys is not valid) for a script command, none for
// an unknown command.
std::vector<std::string> QueuedCommandKeys(const Args& args);

// Every key the request's commands name (unknown commands name none), routing key first.
std::vector<std::string> RequestKeys(const RedisRequest& request);
// The refusal of a request whose keys live in different groups. Redis Cluster's words,
// since a client that knows CROSSSLOT knows what it means.
Reply CrossSlotError();

// The name of the internal read that answers a key's WATCH stamp (never in the front
// door's table, so clients cannot send it).
inline constexpr absl::string_view kStampCommand = "ekv-stamp";
// The internal read that walks a group's keys (commands_keyspace.cc).
inline constexpr absl::string_view kKeyspaceCommand = "ekv-keys";
// The internal write that replaces Redis 7 functions' registry record when it still holds
// the version the front door read (commands_functions.cc).
inline constexpr absl::string_view kFunctionsCasCommand = "ekv-functions-cas";
// Where the front door keeps that record (adapters/redis/functions_registry.h): a string
// under this reserved key, which starts with a NUL byte as DynamoDB's reserved prefix does.
// The keyspace walk (KEYS, SCAN, DBSIZE, RANDOMKEY, FLUSHDB) passes over it.
inline constexpr absl::string_view kFunctionsRegistryKey("\0ekv:functions", 14);
// The version of a functions registry record (its decimal first line); nullopt when the
// value is not one.
std::optional<uint64_t> FunctionsRegistryVersion(absl::string_view value);

class Executor {
 public:
  // commit_ts == 0: read-only (a query); write commands are refused.
  Executor(Store* store, uint64_t now_ms, uint64_t seed, kv::Timestamp commit_ts)
      : store_(store), now_ms_(now_ms), seed_(seed), commit_ts_(commit_ts) {}

  // Runs one command (arity already checked or not: it is checked again).
  absl::StatusOr<Reply> Run(const Args& args);

  // ---- for the command handlers ----
  struct Found {
    Type type = Type::kNone;
    Meta meta;           // collections
    StringValue string;  // strings
  };
  // What `key` holds now; expired keys are absent.
  absl::StatusOr<Found> Lookup(absl::string_view key);
  // A fresh collection of `type` with a version no other collection of this key had.
  Meta NewMeta(Type type);
  // Writes a collection's metadata, or removes the key when the collection is empty (a
  // stream stays). `touch`: WATCH sees the write (Redis's signalModifiedKey); false for
  // the writes Redis 7.0 makes without it (XSETID, XGROUP on an existing stream).
  void SaveMeta(absl::string_view key, const Meta& meta, bool touch = true);
  // Removes whatever `key` holds (O(1) for collections).
  void DeleteKey(absl::string_view key, const Found& found);
  // Makes `key` the string `value` (whatever it held), expiring at expire_ms (0: never).
  void SetString(absl::string_view key, std::string value, uint64_t expire_ms);
  // Adds `event` (keyspace_events.h) to what the running write command did to `key`, after
  // the command's own event (XADD's "xtrim" when it trimmed, XREADGROUP's
  // "xgroup-createconsumer").
  void NoteEvent(absl::string_view key, std::string event);
  // The `keymiss` of a read command's second lookup of a key it found missing (Redis's
  // XREAD looks each stream up twice); nothing unless Run notes misses.
  void NoteMiss(absl::string_view key) {
    if (noting_misses_) events_.push_back({"keymiss", std::string(key)});
  }
  // Records that `key` changed (WATCH).
  void Touch(absl::string_view key);
  // max(touch record, newest MVCC version) of `key`: changes whenever the key does.
  absl::StatusOr<uint64_t> KeyStamp(absl::string_view key);
  bool Expired(uint64_t expire_ms) const { return expire_ms != 0 && now_ms_ > expire_ms; }

  std::string ElementKey(absl::string_view key, const Meta& meta, absl::string_view subkey) const;
  // All elements of a collection (subkey, value) in subkey order, up to `limit`.
  absl::StatusOr<Store::Records> Elements(absl::string_view key, const Meta& meta,
                                          absl::string_view from_subkey = "",
                                          size_t limit = SIZE_MAX, bool reverse = false);
  // The next value of the request's deterministic random sequence.
  uint64_t NextRandom();

  Store& store() { return *store_; }
  uint64_t now_ms() const { return now_ms_; }
  bool read_only() const { return commit_ts_ == 0; }

  // The keys this request may read beyond the ones it names (SORT's BY and GET patterns
  // name keys derived from the data): the group's ownership check, or, in one part of a
  // transaction over several groups, the keys that part names (its locks cover only
  // those). Without a check (tests, the simulator's single group) every key is readable.
  void set_key_access(const std::function<bool(absl::string_view)>* may_access) {
    may_access_ = may_access;
  }
  bool MayAccess(absl::string_view key) const {
    return may_access_ == nullptr || !*may_access_ || (*may_access_)(key);
  }
  // Set while a script's redis.call runs the command (Redis's CLIENT_SCRIPT: SORT then
  // sorts a set it would answer unsorted, so replicas agree).
  void set_called_from_script(bool from_script) { called_from_script_ = from_script; }
  bool called_from_script() const { return called_from_script_; }

  // Keyspace notifications (keyspace_events.h): with classes set, every write command Run
  // runs records the keys it changes (SaveMeta, DeleteKey, SetString) and, when it
  // answers no error, the events of those classes; TakeEvents hands them over in order.
  // With the `m` class, a read command's Lookup of a key that holds nothing (or holds an
  // expired value) records `keymiss`, as Redis 7.0's lookupKeyRead does.
  void set_notify_flags(uint32_t flags) { notify_flags_ = flags; }
  // With kNotifyTrackingKeys: whether a read command ran (a script's, for CLIENT TRACKING).
  bool read_ran() const { return read_ran_; }
  std::vector<KeyEvent> TakeEvents() { return std::exchange(events_, {}); }
  // Scripts' ACL refusals (ScriptCalls::NoteAclDenial), for the reply.
  void NoteAclDenial(ScriptAclDenial denial) { acl_denials_.push_back(std::move(denial)); }
  std::vector<ScriptAclDenial> TakeAclDenials() { return std::exchange(acl_denials_, {}); }

 private:
  // Notes that the running command writes `key` (deleted: it holds nothing after this
  // write), with whether it held a live value before the command.
  void NoteWrite(absl::string_view key, bool deleted);

  Store* store_;
  uint64_t now_ms_;
  uint64_t seed_;
  kv::Timestamp commit_ts_;
  uint32_t version_seq_ = 0;
  const std::function<bool(absl::string_view)>* may_access_ = nullptr;
  bool called_from_script_ = false;
  uint32_t notify_flags_ = 0;
  bool tracking_ = false;       // a write command runs with notify_flags_ set
  bool noting_misses_ = false;  // a read command runs with the `m` class set
  bool read_ran_ = false;       // with kNotifyTrackingKeys: a read command ran (scripts' KEYS)
  KeyChanges changes_;          // its written keys
  std::vector<std::string> change_order_;  // changes_'s keys, in the order first written
  std::map<std::string, bool> looked_up_;  // its first Lookup of each key: live then
  std::vector<KeyEvent> events_;
  std::vector<ScriptAclDenial> acl_denials_;
};

struct RequestOutcome {
  Reply reply;
  // Unavailable with `locked` set when a transaction's lock was in the way; other errors
  // are engine failures. Either way nothing is written.
  absl::Status status;
  std::optional<kv::KeyError> locked;
};

// Runs a whole request: one command, or an EXEC's commands after its WATCH checks.
// Writes go to `store` (flush them only when status is OK).
// ---- scripting hook (lua): a script request runs through `scripts` (script_runner.h);
// without one (or without its runner) it answers kNoScriptRunnerError.
RequestOutcome ExecuteRequest(const RedisRequest& request, Store* store, uint64_t now_ms,
                              kv::Timestamp commit_ts, const ScriptEnvironment* scripts = nullptr);
// The script half of ExecuteRequest (script_calls.cc).
// A script command of an EXEC (IsScriptCommand) run as Redis 7.0 runs it inside EXEC, its
// redis.calls through `executor`: NOSCRIPT for a SHA that is not 40 characters, numkeys
// errors, NOSCRIPT for a SHA whose body `request.script_bodies` lacks, then the script's
// reply. A failed status (a lock, an engine error) fails the whole request.
absl::StatusOr<Reply> RunQueuedScript(Executor& executor, const Args& args,
                                      const RedisRequest& request,
                                      const ScriptEnvironment* scripts);
RequestOutcome ExecuteScript(const RedisRequest& request, Store* store, uint64_t now_ms,
                             kv::Timestamp commit_ts, const ScriptEnvironment* scripts);

// Handlers, one per command, grouped by type (commands_*.cc).
#define EKV_REDIS_HANDLER(name) absl::StatusOr<Reply> name(Executor& ex, const Args& args)
// connection commands queued in a transaction
EKV_REDIS_HANDLER(CmdPing);
EKV_REDIS_HANDLER(CmdEcho);
EKV_REDIS_HANDLER(CmdUnwatch);
// strings
EKV_REDIS_HANDLER(CmdGet);
EKV_REDIS_HANDLER(CmdSet);
EKV_REDIS_HANDLER(CmdSetNx);
EKV_REDIS_HANDLER(CmdSetEx);
EKV_REDIS_HANDLER(CmdPSetEx);
EKV_REDIS_HANDLER(CmdGetSet);
EKV_REDIS_HANDLER(CmdGetDel);
EKV_REDIS_HANDLER(CmdGetEx);
EKV_REDIS_HANDLER(CmdIncr);
EKV_REDIS_HANDLER(CmdDecr);
EKV_REDIS_HANDLER(CmdIncrBy);
EKV_REDIS_HANDLER(CmdDecrBy);
EKV_REDIS_HANDLER(CmdIncrByFloat);
EKV_REDIS_HANDLER(CmdAppend);
EKV_REDIS_HANDLER(CmdStrlen);
EKV_REDIS_HANDLER(CmdGetRange);
EKV_REDIS_HANDLER(CmdSetRange);
// HyperLogLog (commands_hll.cc).
EKV_REDIS_HANDLER(CmdPfAdd);
EKV_REDIS_HANDLER(CmdPfCount);
EKV_REDIS_HANDLER(CmdPfMerge);
EKV_REDIS_HANDLER(CmdMGet);
EKV_REDIS_HANDLER(CmdMSet);
EKV_REDIS_HANDLER(CmdMSetNx);
// bits (commands_bits.cc)
EKV_REDIS_HANDLER(CmdSetBit);
EKV_REDIS_HANDLER(CmdGetBit);
EKV_REDIS_HANDLER(CmdBitCount);
EKV_REDIS_HANDLER(CmdBitPos);
EKV_REDIS_HANDLER(CmdBitOp);
EKV_REDIS_HANDLER(CmdBitfield);  // commands_bitfield.cc
EKV_REDIS_HANDLER(CmdBitfieldRo);
EKV_REDIS_HANDLER(CmdLcs);
// SORT, SORT_RO (commands_sort.cc) and their keys (Redis's sortGetKeys, sortROGetKeys)
EKV_REDIS_HANDLER(CmdSort);
EKV_REDIS_HANDLER(CmdSortRo);
std::vector<std::string> SortKeys(const Args& args);
std::vector<std::string> SortRoKeys(const Args& args);
// GEO (commands_geo.cc): sorted sets of geohash scores; GEORADIUS's and
// GEORADIUSBYMEMBER's keys (Redis's georadiusGetKeys: the source, then a STORE destination)
EKV_REDIS_HANDLER(CmdGeoAdd);
EKV_REDIS_HANDLER(CmdGeoDist);
EKV_REDIS_HANDLER(CmdGeoHash);
EKV_REDIS_HANDLER(CmdGeoPos);
EKV_REDIS_HANDLER(CmdGeoRadius);
EKV_REDIS_HANDLER(CmdGeoRadiusRo);
EKV_REDIS_HANDLER(CmdGeoRadiusByMember);
EKV_REDIS_HANDLER(CmdGeoRadiusByMemberRo);
EKV_REDIS_HANDLER(CmdGeoSearch);
EKV_REDIS_HANDLER(CmdGeoSearchStore);
std::vector<std::string> GeoRadiusKeys(const Args& args);
// copies (commands_copy.cc)
EKV_REDIS_HANDLER(CmdCopy);
// collection walks (commands_scan.cc)
EKV_REDIS_HANDLER(CmdHScan);
EKV_REDIS_HANDLER(CmdSScan);
EKV_REDIS_HANDLER(CmdZScan);
// keys
EKV_REDIS_HANDLER(CmdDel);
EKV_REDIS_HANDLER(CmdExists);
EKV_REDIS_HANDLER(CmdType);
EKV_REDIS_HANDLER(CmdExpire);
EKV_REDIS_HANDLER(CmdPExpire);
EKV_REDIS_HANDLER(CmdExpireAt);
EKV_REDIS_HANDLER(CmdPExpireAt);
EKV_REDIS_HANDLER(CmdTtl);
EKV_REDIS_HANDLER(CmdPTtl);
EKV_REDIS_HANDLER(CmdPersist);
EKV_REDIS_HANDLER(CmdExpireTime);
EKV_REDIS_HANDLER(CmdPExpireTime);
EKV_REDIS_HANDLER(CmdRename);
EKV_REDIS_HANDLER(CmdRenameNx);
EKV_REDIS_HANDLER(CmdStamp);
EKV_REDIS_HANDLER(CmdFunctionsCas);
EKV_REDIS_HANDLER(CmdKeyspace);
// whole keys between groups (commands_snapshot.cc, key_snapshot.h)
EKV_REDIS_HANDLER(CmdSnapshot);
// OBJECT and MOVE (commands_object.cc)
EKV_REDIS_HANDLER(CmdObject);
EKV_REDIS_HANDLER(CmdMove);
EKV_REDIS_HANDLER(CmdMemory);
EKV_REDIS_HANDLER(CmdRestoreSnapshot);
// DUMP and RESTORE (commands_dump.cc, rdb_payload.h)
EKV_REDIS_HANDLER(CmdDump);
EKV_REDIS_HANDLER(CmdRestore);
// hashes
EKV_REDIS_HANDLER(CmdHSet);
EKV_REDIS_HANDLER(CmdHSetNx);
EKV_REDIS_HANDLER(CmdHMSet);
EKV_REDIS_HANDLER(CmdHGet);
EKV_REDIS_HANDLER(CmdHMGet);
EKV_REDIS_HANDLER(CmdHGetAll);
EKV_REDIS_HANDLER(CmdHDel);
EKV_REDIS_HANDLER(CmdHExists);
EKV_REDIS_HANDLER(CmdHLen);
EKV_REDIS_HANDLER(CmdHKeys);
EKV_REDIS_HANDLER(CmdHVals);
EKV_REDIS_HANDLER(CmdHIncrBy);
EKV_REDIS_HANDLER(CmdHIncrByFloat);
EKV_REDIS_HANDLER(CmdHStrlen);
EKV_REDIS_HANDLER(CmdHRandField);
// lists
EKV_REDIS_HANDLER(CmdLPush);
EKV_REDIS_HANDLER(CmdRPush);
EKV_REDIS_HANDLER(CmdLPushX);
EKV_REDIS_HANDLER(CmdRPushX);
EKV_REDIS_HANDLER(CmdLPop);
EKV_REDIS_HANDLER(CmdRPop);
EKV_REDIS_HANDLER(CmdLRange);
EKV_REDIS_HANDLER(CmdLLen);
EKV_REDIS_HANDLER(CmdLIndex);
EKV_REDIS_HANDLER(CmdLSet);
EKV_REDIS_HANDLER(CmdLRem);
EKV_REDIS_HANDLER(CmdLTrim);
EKV_REDIS_HANDLER(CmdLInsert);
EKV_REDIS_HANDLER(CmdLPos);
EKV_REDIS_HANDLER(CmdLMove);
EKV_REDIS_HANDLER(CmdRPopLPush);
EKV_REDIS_HANDLER(CmdLMPop);
// the blocking forms run once, as Redis runs them inside MULTI: a nil reply means
// nothing was there (the front door then blocks the client; commands_blocking.cc)
EKV_REDIS_HANDLER(CmdBLPop);
EKV_REDIS_HANDLER(CmdBRPop);
EKV_REDIS_HANDLER(CmdBLMove);
EKV_REDIS_HANDLER(CmdBRPopLPush);
EKV_REDIS_HANDLER(CmdBLMPop);
EKV_REDIS_HANDLER(CmdBZPopMin);
EKV_REDIS_HANDLER(CmdBZPopMax);
EKV_REDIS_HANDLER(CmdBZMPop);
// their later runs for a blocked client (blocking.h ServeFormOf): a source key of another
// type counts as empty
EKV_REDIS_HANDLER(CmdServeBLPop);
EKV_REDIS_HANDLER(CmdServeBRPop);
EKV_REDIS_HANDLER(CmdServeBLMove);
EKV_REDIS_HANDLER(CmdServeBRPopLPush);
EKV_REDIS_HANDLER(CmdServeBLMPop);
EKV_REDIS_HANDLER(CmdServeBZPopMin);
EKV_REDIS_HANDLER(CmdServeBZPopMax);
EKV_REDIS_HANDLER(CmdServeBZMPop);
// sets
EKV_REDIS_HANDLER(CmdSAdd);
EKV_REDIS_HANDLER(CmdSRem);
EKV_REDIS_HANDLER(CmdSMembers);
EKV_REDIS_HANDLER(CmdSIsMember);
EKV_REDIS_HANDLER(CmdSMIsMember);
EKV_REDIS_HANDLER(CmdSCard);
EKV_REDIS_HANDLER(CmdSPop);
EKV_REDIS_HANDLER(CmdSRandMember);
EKV_REDIS_HANDLER(CmdSInter);
EKV_REDIS_HANDLER(CmdSUnion);
EKV_REDIS_HANDLER(CmdSDiff);
EKV_REDIS_HANDLER(CmdSInterStore);
EKV_REDIS_HANDLER(CmdSUnionStore);
EKV_REDIS_HANDLER(CmdSDiffStore);
EKV_REDIS_HANDLER(CmdSMove);
EKV_REDIS_HANDLER(CmdSInterCard);
// sorted sets
EKV_REDIS_HANDLER(CmdZAdd);
EKV_REDIS_HANDLER(CmdZRem);
EKV_REDIS_HANDLER(CmdZScore);
EKV_REDIS_HANDLER(CmdZMScore);
EKV_REDIS_HANDLER(CmdZIncrBy);
EKV_REDIS_HANDLER(CmdZCard);
EKV_REDIS_HANDLER(CmdZCount);
EKV_REDIS_HANDLER(CmdZRange);
EKV_REDIS_HANDLER(CmdZRangeByScore);
EKV_REDIS_HANDLER(CmdZRevRange);
EKV_REDIS_HANDLER(CmdZRevRangeByScore);
EKV_REDIS_HANDLER(CmdZRangeByLex);
EKV_REDIS_HANDLER(CmdZRevRangeByLex);
EKV_REDIS_HANDLER(CmdZRank);
EKV_REDIS_HANDLER(CmdZRevRank);
EKV_REDIS_HANDLER(CmdZPopMin);
EKV_REDIS_HANDLER(CmdZPopMax);
EKV_REDIS_HANDLER(CmdZMPop);
EKV_REDIS_HANDLER(CmdZLexCount);
EKV_REDIS_HANDLER(CmdZRemRangeByRank);
EKV_REDIS_HANDLER(CmdZRemRangeByScore);
EKV_REDIS_HANDLER(CmdZRemRangeByLex);
EKV_REDIS_HANDLER(CmdZRangeStore);
EKV_REDIS_HANDLER(CmdZRandMember);
EKV_REDIS_HANDLER(CmdZUnion);
EKV_REDIS_HANDLER(CmdZInter);
EKV_REDIS_HANDLER(CmdZInterCard);
EKV_REDIS_HANDLER(CmdZDiff);
EKV_REDIS_HANDLER(CmdZUnionStore);
EKV_REDIS_HANDLER(CmdZInterStore);
EKV_REDIS_HANDLER(CmdZDiffStore);
// streams (commands_stream.cc, commands_stream_info.cc)
EKV_REDIS_HANDLER(CmdXAdd);
EKV_REDIS_HANDLER(CmdXTrim);
EKV_REDIS_HANDLER(CmdXLen);
EKV_REDIS_HANDLER(CmdXRange);
EKV_REDIS_HANDLER(CmdXRevRange);
EKV_REDIS_HANDLER(CmdXDel);
EKV_REDIS_HANDLER(CmdXSetId);
EKV_REDIS_HANDLER(CmdXInfo);
// XREAD, its blocked client's later runs and `$`'s resolution (commands_stream_read.cc)
EKV_REDIS_HANDLER(CmdXRead);
EKV_REDIS_HANDLER(CmdServeXRead);
EKV_REDIS_HANDLER(CmdXReadLast);
// consumer groups (commands_stream_group.cc, XREADGROUP in commands_stream_read.cc)
EKV_REDIS_HANDLER(CmdXGroup);
EKV_REDIS_HANDLER(CmdXAck);
EKV_REDIS_HANDLER(CmdXPending);
EKV_REDIS_HANDLER(CmdXReadGroup);
EKV_REDIS_HANDLER(CmdServeXReadGroup);
EKV_REDIS_HANDLER(CmdXClaim);  // commands_stream_claim.cc
EKV_REDIS_HANDLER(CmdXAutoClaim);

}  // namespace ekv::redis_core
