#include "core/node/route_load.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/kv/codec.h"

namespace ekv::node {
namespace {

constexpr uint8_t kReportsFormat = 1;
// Bounds a decoder accepts: far above what a counter produces (route_load_counter.h).
constexpr uint64_t kMaxReports = 1 << 20;
constexpr uint64_t kMaxSamplesPerReport = 1 << 12;

absl::Status Corrupt(absl::string_view why) {
  return absl::DataLossError(absl::StrCat("route load reports: ", why));
}

}  // namespace

std::string EncodeRouteLoadReports(const std::vector<RouteLoadReport>& reports) {
  std::string out;
  kv::AppendByte(&out, kReportsFormat);
  kv::AppendVarint64(&out, reports.size());
  for (const RouteLoadReport& report : reports) {
    const RouteLoad& load = report.load;
    kv::AppendVarint64(&out, load.route_id);
    kv::AppendLengthPrefixed(&out, load.start);
    kv::AppendLengthPrefixed(&out, load.end);
    kv::AppendVarint64(&out, load.reads);
    kv::AppendVarint64(&out, load.writes);
    kv::AppendVarint64(&out, load.read_bytes);
    kv::AppendVarint64(&out, load.write_bytes);
    kv::AppendVarint64(&out, report.key_samples.size());
    for (const auto& [key, count] : report.key_samples) {
      kv::AppendLengthPrefixed(&out, key);
      kv::AppendVarint64(&out, count);
    }
  }
  return out;
}

absl::StatusOr<std::vector<RouteLoadReport>> DecodeRouteLoadReports(absl::string_view bytes) {
  kv::ByteReader reader(bytes);
  auto format = reader.ReadByte();
  if (!format.ok() || *format != kReportsFormat) return Corrupt("unknown format");
  auto count = reader.ReadVarint64();
  if (!count.ok() || *count > kMaxReports) return Corrupt("bad report count");
  std::vector<RouteLoadReport> reports;
  for (uint64_t i = 0; i < *count; ++i) {
    RouteLoadReport report;
    RouteLoad& load = report.load;
    auto route_id = reader.ReadVarint64();
    auto start = reader.ReadLengthPrefixed();
    auto end = reader.ReadLengthPrefixed();
    auto reads = reader.ReadVarint64();
    auto writes = reader.ReadVarint64();
    auto read_bytes = reader.ReadVarint64();
    auto write_bytes = reader.ReadVarint64();
    auto samples = reader.ReadVarint64();
    if (!route_id.ok() || !start.ok() || !end.ok() || !reads.ok() || !writes.ok() ||
        !read_bytes.ok() || !write_bytes.ok() || !samples.ok() || *samples > kMaxSamplesPerReport) {
      return Corrupt("truncated report");
    }
    load.route_id = *route_id;
    load.start = std::string(*start);
    load.end = std::string(*end);
    load.reads = *reads;
    load.writes = *writes;
    load.read_bytes = *read_bytes;
    load.write_bytes = *write_bytes;
    for (uint64_t j = 0; j < *samples; ++j) {
      auto key = reader.ReadLengthPrefixed();
      auto weight = reader.ReadVarint64();
      if (!key.ok() || !weight.ok()) return Corrupt("truncated key sample");
      report.key_samples.emplace_back(std::string(*key), *weight);
    }
    reports.push_back(std::move(report));
  }
  if (absl::Status s = reader.ExpectEnd("route load reports"); !s.ok()) return s;
  return reports;
}

}  // namespace ekv::node
