#include "sim/disk.h"

#include "absl/strings/str_cat.h"
#include "sim/crc32c.h"

namespace ekv::sim {
namespace {

void PutFixed32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint32_t GetFixed32(std::string_view in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return value;
}

}  // namespace

absl::Status SimDisk::Append(std::string_view payload) {
  if (rng_.Chance(write_error_probability_)) {
    return absl::UnavailableError("simulated disk: write I/O error");
  }
  AppendReliably(payload);
  return absl::OkStatus();
}

void SimDisk::AppendReliably(std::string_view payload) {
  std::string header;
  PutFixed32(header, static_cast<uint32_t>(payload.size()));
  PutFixed32(header, Crc32c(payload));
  PutFixed32(header, Crc32c(header));
  data_.append(header);
  data_.append(payload);
  ++records_appended_;
}

void SimDisk::Crash() {
  uint64_t keep = synced_size_;
  const uint64_t unsynced = data_.size() - synced_size_;
  if (unsynced > 0 && rng_.Chance(torn_write_probability_)) keep += rng_.Uniform(unsynced);
  data_.resize(keep);
  synced_size_ = keep;
}

void SimDisk::CorruptSyncedBit() {
  if (synced_size_ == 0) return;
  const uint64_t offset = rng_.Uniform(synced_size_);
  data_[offset] = static_cast<char>(data_[offset] ^ (1 << rng_.Uniform(8)));
}

void SimDisk::Wipe() {
  data_.clear();
  synced_size_ = 0;
}

absl::StatusOr<SimDisk::Recovered> SimDisk::Recover() {
  Recovered recovered;
  std::string_view rest(data_);
  uint64_t offset = 0;
  while (!rest.empty()) {
    if (rest.size() < kRecordHeaderBytes) {
      recovered.truncated_torn_tail = true;
      break;
    }
    const uint32_t length = GetFixed32(rest.substr(0, 4));
    const uint32_t payload_crc = GetFixed32(rest.substr(4, 4));
    const uint32_t header_crc = GetFixed32(rest.substr(8, 4));
    if (Crc32c(rest.substr(0, 8)) != header_crc) {
      return absl::DataLossError(
          absl::StrCat("simulated disk: record header checksum mismatch at offset ", offset));
    }
    if (rest.size() - kRecordHeaderBytes < length) {
      recovered.truncated_torn_tail = true;
      break;
    }
    std::string_view payload = rest.substr(kRecordHeaderBytes, length);
    if (Crc32c(payload) != payload_crc) {
      return absl::DataLossError(
          absl::StrCat("simulated disk: record payload checksum mismatch at offset ", offset));
    }
    recovered.records.emplace_back(payload);
    rest.remove_prefix(kRecordHeaderBytes + length);
    offset += kRecordHeaderBytes + length;
  }
  if (recovered.truncated_torn_tail) {
    data_.resize(offset);
    synced_size_ = offset;
  }
  return recovered;
}

}  // namespace ekv::sim
