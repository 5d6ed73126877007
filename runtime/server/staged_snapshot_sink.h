// Connects the transport's snapshot receiver to RocksDB staging: the transport knows
// nothing of storage, storage nothing of the transport; the server joins them here.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "runtime/storage/snapshot_staging.h"
#include "runtime/transport/raft_transport.h"

namespace ekv::runtime {

class StagedSnapshotSink final : public SnapshotSink {
 public:
  explicit StagedSnapshotSink(std::unique_ptr<StagedSnapshotWriter> writer)
      : writer_(std::move(writer)) {}
  absl::Status Add(absl::string_view key, absl::string_view value) override {
    return writer_->Add(key, value);
  }
  absl::StatusOr<std::string> Finish() override { return writer_->Finish(); }

 private:
  std::unique_ptr<StagedSnapshotWriter> writer_;
};

}  // namespace ekv::runtime
