// The records of a key range, for cross-group range moves (docs/architecture.md "Range
// moves (group side)"): which engine keys belong to the user keys of [start, end), an
// export of them in chunks, and the batches that ingest a chunk into another group's
// engine or drop the range after the cut-over.
//
// A range's records are every engine record keyed by one of its user keys (key_codec.h,
// core/redis/layout.h), carried as raw (engine key, engine value) pairs so the target
// holds them byte for byte:
//   'd' versions, 'l' locks, 's' commit/rollback records, 'x' expiries (MVCC namespaces,
//       keyed by EncodeUserKey(key)...: one contiguous span each);
//   'r' 'M' / 'r' 'T' Redis metadata and WATCH touch records (raw key: one span each);
//   'r' 'E' Redis collection elements, keyed by u32 key length first: one span per key
//       length present in the engine (the keys of one length in [start, end) are
//       contiguous).
// Meta records ('m': applied index, HLC ceiling, GC safe point, read floor, the group's
// own records) belong to the group, not to a range, and never travel.
//
// Cursors are engine keys: an export resumes at its cursor (inclusive); "" = the start.
// A chunk read from cursor `from` that stopped at `next` holds exactly the range's records
// in [from, next) (next "" = to the end) as the source held them when it was read.
// Ingesting a chunk *replaces* the target's records of the range in that same span, so a
// second ingest of a chunk changes nothing, and a later, fresher export pass over the
// whole range (the final one under the write fence) also removes what the source removed
// since an earlier pass (a resolved lock, a collected version).
//
// How an orchestrator (core/coord) moves route R [start, end) from group S to group T
// with these pieces; every step is idempotent, so a crashed move resumes at its step:
//   1. Catalog: StartMove{R, T} (version v1). Push the catalog (GroupCommandOp::
//      kOwnership) to T and S; T accepts chunks only once it has applied it.
//   2. Copy: export S from cursor "" until next_cursor is "", ingesting every chunk into
//      T as kIngestRange{R, move_catalog_version = v1, start, end, from = the cursor sent,
//      to = next_cursor, records}. S keeps taking writes; repeat passes to catch up.
//   3. Fence: SetRouteState WRITE_FENCED (v2); push it to S and wait until S applied it
//      (S then refuses writes of R; reads go on).
//   4. Final copy: one more full pass as in 2, started after 3. T now equals S on R.
//   5. Cut-over: ReassignRoute{R, T} (v3); push it to S and wait until S applied it (S
//      stops serving R), then to T (T serves reads of R, still fenced).
//   6. Floors: take a fresh oracle timestamp F (issued after 5 on S, so above every read
//      timestamp S served for R) and propose on T kTimestampFloor{max(F, M)}, M the `ts`
//      the final pass's export answered (S's largest timestamp: Redis collection versions
//      and touch stamps are not among the timestamps ingest observes), and the kv
//      AdvanceReadFloorCommand{F}: later one-phase commits and server-chosen timestamps
//      on T then land above every read S served and every version S wrote. (Ingest
//      already raised T's sequence above the versions, locks and commit records it
//      received.) If T's GC safe point is below S's, raise it too (a GcCommand at S's
//      safe point), or T would serve reads below S's safe point from a collected history.
//   7. Activate: SetRouteState ACTIVE (v4); push to T (and S).
//   8. Cleanup: kDeleteRange{start, end, v3 or later} on S.
// Abort before 5: SetRouteState ACTIVE on S (clears the target), push it to S and T, then
// kDeleteRange on T. A chunk of an aborted move is refused by a later move's target
// (its move version is older than the new incoming_since).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kv/engine.h"
#include "core/kv/mvcc_batch.h"
#include "core/kv/timestamp.h"

namespace ekv::node {

// A chunk answers with at least one record and otherwise at most max_bytes of keys and
// values; max_bytes must be in 1..kMaxRangeChunkBytes.
inline constexpr uint64_t kMaxRangeChunkBytes = 8 * 1024 * 1024;

using RawRecord = std::pair<std::string, std::string>;  // engine key, engine value

// One half-open span of engine keys; `end` is never empty.
struct EngineKeySpan {
  std::string begin;
  std::string end;
  friend bool operator==(const EngineKeySpan&, const EngineKeySpan&) = default;
};

// The disjoint spans, in key order, that hold every record of the user keys in [start,
// end) (end empty = +inf) in `engine` (the Redis element spans depend on its contents).
absl::StatusOr<std::vector<EngineKeySpan>> RangeRecordSpans(const kv::EngineReader& engine,
                                                            absl::string_view start,
                                                            absl::string_view end);
// True iff `engine_key` is a record of a user key in [start, end).
bool IsRangeRecord(absl::string_view engine_key, absl::string_view start, absl::string_view end);

// GroupQueryOp::kExportRange payload: lp start, lp end, lp cursor, varint max_bytes.
struct ExportRangeRequest {
  std::string start;
  std::string end;  // empty = +inf
  std::string cursor;
  uint64_t max_bytes = 0;
  friend bool operator==(const ExportRangeRequest&, const ExportRangeRequest&) = default;
};
std::string EncodeExportRange(const ExportRangeRequest& request);
absl::StatusOr<ExportRangeRequest> DecodeExportRange(absl::string_view bytes);

struct RangeChunk {
  std::string from_cursor;
  std::string next_cursor;         // "" = the export is complete
  std::vector<RawRecord> records;  // key order
};
// Reads the next chunk of the range's records from `engine` (the applied state).
absl::StatusOr<RangeChunk> ExportRangeChunk(const kv::EngineReader& engine,
                                            const ExportRangeRequest& request);

// GroupCommandOp::kIngestRange payload: varint route_id, varint move_catalog_version,
// lp start, lp end, lp from_cursor, lp to_cursor, varint n, n x (lp key, lp value).
// `move_catalog_version`: the catalog version at which the orchestrator saw the move
// (>= the StartMove's version); see GroupOwnership::CheckIngest.
struct IngestRangeRequest {
  uint64_t route_id = 0;
  uint64_t move_catalog_version = 0;
  std::string start;
  std::string end;
  std::string from_cursor;  // the export request's cursor
  std::string to_cursor;    // the export's next_cursor ("" = to the end of the range)
  std::vector<RawRecord> records;
  friend bool operator==(const IngestRangeRequest&, const IngestRangeRequest&) = default;
};
std::string EncodeIngestRange(const IngestRangeRequest& request);
absl::StatusOr<IngestRangeRequest> DecodeIngestRange(absl::string_view bytes);

// The batch that makes the range's records of `engine` in [from_cursor, to_cursor) equal
// to request.records; InvalidArgument for a chunk whose records are unsorted, outside
// its span or not records of the range. `max_ts` receives the largest commit/start
// timestamp the records carry (0 if none), which the target must observe so it never
// assigns a timestamp below a version it now holds.
absl::StatusOr<kv::MvccBatch> BuildIngestBatch(const kv::EngineReader& engine,
                                               const IngestRangeRequest& request,
                                               kv::Timestamp* max_ts);

// GroupCommandOp::kDeleteRange payload: lp start, lp end, varint decided_catalog_version.
struct DeleteRangeRequest {
  std::string start;
  std::string end;
  uint64_t decided_catalog_version = 0;
  friend bool operator==(const DeleteRangeRequest&, const DeleteRangeRequest&) = default;
};
std::string EncodeDeleteRange(const DeleteRangeRequest& request);
absl::StatusOr<DeleteRangeRequest> DecodeDeleteRange(absl::string_view bytes);
// Drops every record of [start, end) from `engine`: one engine range delete per span.
absl::StatusOr<kv::MvccBatch> BuildDeleteRangeBatch(const kv::EngineReader& engine,
                                                    absl::string_view start, absl::string_view end);

}  // namespace ekv::node
