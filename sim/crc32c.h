// CRC-32C (Castagnoli), the checksum of the simulated disk's records.
//
// Debian 12's Abseil (20220623) predates absl/crc, so the simulator carries this small
// table-driven version; the value matches absl::ComputeCrc32c and RocksDB's crc32c.
#pragma once

#include <cstdint>
#include <string_view>

namespace ekv::sim {

uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace ekv::sim
