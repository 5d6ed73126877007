// The internal commands that move a whole key between groups (key_snapshot.h):
// `ekv-snapshot key` reads it, `ekv-restore key [snapshot]` replaces it (a collection
// gets a new version with the snapshot's records; no snapshot deletes the key). Both
// touch only the key they name, so a transaction's prepare locks exactly it.
#include <string>
#include <utility>

#include "core/kv/status_macros.h"
#include "core/redis/executor.h"
#include "core/redis/key_snapshot.h"

namespace ekv::redis_core {

absl::StatusOr<std::optional<KeySnapshot>> SnapshotKey(Executor& ex, absl::string_view key) {
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(key));
  if (found.type == Type::kNone) return std::optional<KeySnapshot>();
  KeySnapshot snapshot;
  snapshot.type = found.type;
  if (found.type == Type::kString) {
    snapshot.expire_ms = found.string.expire_ms;
    snapshot.string_value = std::move(found.string.value);
    return std::optional<KeySnapshot>(std::move(snapshot));
  }
  snapshot.expire_ms = found.meta.expire_ms;
  snapshot.meta.type = found.type;
  snapshot.meta.size = found.meta.size;
  snapshot.meta.head = found.meta.head;
  snapshot.meta.tail = found.meta.tail;
  snapshot.meta.flags = found.meta.flags;
  snapshot.meta.next_seq = found.meta.next_seq;
  snapshot.meta.expire_ms = found.meta.expire_ms;
  EKV_KV_ASSIGN_OR_RETURN(snapshot.records, ex.Elements(key, found.meta));
  return std::optional<KeySnapshot>(std::move(snapshot));
}

absl::Status RestoreKey(Executor& ex, absl::string_view key,
                        const std::optional<KeySnapshot>& snapshot) {
  EKV_KV_ASSIGN_OR_RETURN(Executor::Found found, ex.Lookup(key));
  ex.DeleteKey(key, found);  // touches the key even when it was absent
  if (!snapshot.has_value()) return absl::OkStatus();
  if (snapshot->type == Type::kString) {
    ex.SetString(key, snapshot->string_value, snapshot->expire_ms);
    return absl::OkStatus();
  }
  Meta meta = ex.NewMeta(snapshot->type);
  meta.size = snapshot->meta.size;
  meta.head = snapshot->meta.head;
  meta.tail = snapshot->meta.tail;
  meta.flags = snapshot->meta.flags;
  meta.next_seq = snapshot->meta.next_seq;
  meta.expire_ms = snapshot->expire_ms;
  for (const auto& [subkey, value] : snapshot->records) {
    ex.store().Put(ex.ElementKey(key, meta, subkey), value);
  }
  ex.SaveMeta(key, meta);
  return absl::OkStatus();
}

EKV_REDIS_HANDLER(CmdSnapshot) {
  EKV_KV_ASSIGN_OR_RETURN(std::optional<KeySnapshot> snapshot, SnapshotKey(ex, args[1]));
  if (!snapshot.has_value()) return Reply::Nil();
  return Reply::Bulk(EncodeKeySnapshot(*snapshot));
}

EKV_REDIS_HANDLER(CmdRestoreSnapshot) {
  if (args.size() > 3) return SyntaxError();
  std::optional<KeySnapshot> snapshot;
  if (args.size() == 3) {
    EKV_KV_ASSIGN_OR_RETURN(snapshot, DecodeKeySnapshot(args[2]));
  }
  EKV_KV_RETURN_IF_ERROR(RestoreKey(ex, args[1], snapshot));
  return Reply::Ok();
}

}  // namespace ekv::redis_core
