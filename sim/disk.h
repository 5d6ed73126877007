// A node's simulated disk: an append-only file of checksummed records.
//
// Writes are volatile until Sync. Crash discards what was not synced, except that a torn
// write may leave a prefix of the unsynced bytes behind (possibly ending mid-record).
// Every record carries CRC-32C checksums of its header and payload, so recovery tells the
// two kinds of damage apart:
//   - an incomplete record at the very end is a torn write: it was never synced, so it is
//     dropped and the file truncated (nothing acknowledged is lost);
//   - a complete record whose checksum fails is corruption: recovery refuses it with
//     DataLossError and the node must not start from this disk.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/util/rng.h"

namespace ekv::sim {

class SimDisk {
 public:
  static constexpr size_t kRecordHeaderBytes = 12;  // length, payload crc, header crc

  explicit SimDisk(Rng rng) : rng_(rng) {}

  // Probability that an Append fails with an I/O error (the node must crash).
  void set_write_error_probability(double p) { write_error_probability_ = p; }
  // Probability that a crash leaves a torn prefix of the unsynced bytes.
  void set_torn_write_probability(double p) { torn_write_probability_ = p; }

  absl::Status Append(std::string_view payload);
  // Append without the injected write errors: for writes whose failure a real node turns
  // into an immediate abort rather than a handled error (state machine writes).
  void AppendReliably(std::string_view payload);
  void Sync() { synced_size_ = data_.size(); }
  void Crash();
  // Flips one bit of the synced data (bit rot); no-op on an empty disk.
  void CorruptSyncedBit();
  void Wipe();

  struct Recovered {
    std::vector<std::string> records;
    bool truncated_torn_tail = false;
  };
  // Reads every record back. Truncates a torn tail (and syncs the truncation); refuses
  // corrupted records.
  absl::StatusOr<Recovered> Recover();

  uint64_t size() const { return data_.size(); }
  uint64_t synced_size() const { return synced_size_; }
  uint64_t records_appended() const { return records_appended_; }

 private:
  Rng rng_;
  std::string data_;
  uint64_t synced_size_ = 0;
  uint64_t records_appended_ = 0;
  double write_error_probability_ = 0;
  double torn_write_probability_ = 0;
};

}  // namespace ekv::sim
