#include "adapters/dynamo/token_sweeper.h"

#include <algorithm>
#include <set>
#include <vector>

#include "adapters/dynamo/key_codec.h"
#include "adapters/dynamo/transaction_token.h"

namespace ekv::dynamo {

Task<absl::StatusOr<size_t>> TokenSweeper::RunPass(double now_seconds) {
  const std::string first = TransactionTokenKey("");
  std::string end = first;
  ++end.back();  // the first key after every record: the prefix's last byte plus one
  const std::string start = resume_.empty() ? first : resume_;
  absl::StatusOr<uint64_t> ts = co_await store_->SnapshotTimestamp();
  if (!ts.ok()) co_return ts.status();
  absl::StatusOr<DynamoBackend::KvPairs> records =
      co_await store_->ScanRecordsAt(start, end, options_.records_per_pass, *ts);
  if (!records.ok()) co_return records.status();

  std::vector<std::string> expired;
  for (const auto& [key, bytes] : *records) {
    std::optional<TokenRecord> record = DecodeTokenRecord(bytes);
    // Bytes that are no token record are not this sweeper's to judge: they stay.
    if (record.has_value() && record->expires_seconds <= now_seconds) expired.push_back(key);
  }
  size_t deleted = 0;
  for (size_t at = 0; at < expired.size(); at += options_.deletes_per_commit) {
    const size_t stop = std::min(expired.size(), at + options_.deletes_per_commit);
    std::vector<TableStore::TxnWrite> deletes;
    for (size_t i = at; i < stop; ++i) deletes.push_back({expired[i], std::nullopt, std::nullopt});
    absl::StatusOr<DynamoBackend::CommitResult> commit = co_await store_->Commit(deletes, *ts);
    if (!commit.ok()) co_return commit.status();
    if (!commit->committed) {
      // Some records were rewritten (or are locked) since the snapshot: delete the others
      // once more; the rewritten ones are judged again by a later pass.
      const std::set<std::string> conflicts(commit->conflict_keys.begin(),
                                            commit->conflict_keys.end());
      std::vector<TableStore::TxnWrite> rest;
      for (const TableStore::TxnWrite& write : deletes) {
        if (conflicts.count(write.key) == 0) rest.push_back(write);
      }
      if (rest.empty() || rest.size() == deletes.size()) continue;
      commit = co_await store_->Commit(rest, *ts);
      if (!commit.ok()) co_return commit.status();
      if (commit->committed) deleted += rest.size();
      continue;
    }
    deleted += deletes.size();
  }
  // A full page: the next pass goes on after it; otherwise the walk starts over.
  resume_ = records->size() < options_.records_per_pass || records->empty()
                ? ""
                : records->back().first + std::string(1, '\0');
  co_return deleted;
}

}  // namespace ekv::dynamo
