#include "core/redis/detached_run.h"

#include <functional>
#include <string>
#include <utility>

#include "core/kv/codec.h"
#include "core/kv/memory_engine.h"
#include "core/kv/mvcc.h"
#include "core/kv/status_macros.h"
#include "core/redis/executor.h"
#include "core/redis/key_snapshot.h"
#include "core/redis/layout.h"

namespace ekv::redis_core {
namespace {

// The private store's "commit timestamps": the loading writes, then the command's, so a
// key's touch record tells whether the command itself wrote it.
constexpr kv::Timestamp kLoadTs = 1;
constexpr kv::Timestamp kCommandTs = 2;

}  // namespace

absl::StatusOr<DetachedResult> RunOverSnapshots(const std::vector<std::string>& command,
                                                const SnapshotMap& snapshots, uint64_t now_ms,
                                                uint64_t seed, uint32_t notify_flags) {
  kv::MemoryEngine engine;
  kv::MvccStore mvcc(&engine);
  Store store(&engine, &mvcc);
  Executor loader(&store, now_ms, seed, kLoadTs);
  for (const auto& [key, encoded] : snapshots) {
    if (!encoded.has_value()) continue;
    EKV_KV_ASSIGN_OR_RETURN(KeySnapshot snapshot, DecodeKeySnapshot(*encoded));
    EKV_KV_RETURN_IF_ERROR(RestoreKey(loader, key, snapshot));
  }
  Executor runner(&store, now_ms, seed, kCommandTs);
  // Only the keys read here exist in this store: a key derived from the data (SORT's BY
  // and GET patterns) that is not among them is refused, never read as absent.
  const std::function<bool(absl::string_view)> read_here = [&](absl::string_view key) {
    return snapshots.count(std::string(key)) != 0;
  };
  runner.set_key_access(&read_here);
  runner.set_notify_flags(notify_flags);
  DetachedResult result;
  EKV_KV_ASSIGN_OR_RETURN(result.reply, runner.Run(command));
  result.reply.set_events(runner.TakeEvents());
  std::string written_stamp;
  kv::AppendFixed64BigEndian(&written_stamp, kCommandTs);
  // A key is written back when the command touched it (WATCH's sense: even a write that
  // left it as it was), or when it is a stream the command changed without a touch (Redis's
  // XREADGROUP delivers and records pending entries without signalling the key modified).
  for (const auto& [key, encoded] : snapshots) {
    EKV_KV_ASSIGN_OR_RETURN(std::optional<std::string> touched, store.Get(TouchKey(key)));
    EKV_KV_ASSIGN_OR_RETURN(std::optional<KeySnapshot> now, SnapshotKey(runner, key));
    std::optional<std::string> now_encoded =
        now.has_value() ? std::optional<std::string>(EncodeKeySnapshot(*now)) : std::nullopt;
    const bool stream_changed =
        now.has_value() && now->type == Type::kStream && now_encoded != encoded;
    if (touched != written_stamp && !stream_changed) continue;
    result.writes[key] = std::move(now_encoded);
  }
  return result;
}

}  // namespace ekv::redis_core
