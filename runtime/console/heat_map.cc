#include "runtime/console/heat_map.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>

namespace ekv::runtime::console {
namespace {

struct Cell {
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
};

struct Row {
  uint64_t group = 0;
  std::string start;
  std::string end;
  std::map<uint64_t, Cell> cells;  // by bucket
};

std::string Str(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

uint64_t JsonU64(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return 0;
  auto it = object.find(key);
  if (it == object.end()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer() && it->get<int64_t>() >= 0) return it->get<uint64_t>();
  return 0;
}

nlohmann::json MergeHeatMap(const std::vector<nlohmann::json>& node_loads, size_t max_buckets) {
  uint64_t resolution_ms = 0;
  for (const nlohmann::json& load : node_loads) {
    resolution_ms = std::max(resolution_ms, JsonU64(load, "resolution_ms"));
  }
  if (resolution_ms == 0) resolution_ms = 10000;
  std::map<uint64_t, Row> rows;  // by route id
  std::set<uint64_t> buckets;
  for (const nlohmann::json& load : node_loads) {
    auto frames = load.find("frames");
    if (frames == load.end() || !frames->is_array()) continue;
    // One node's frames may share a bucket (sampling jitter): within a node they add up.
    std::map<std::tuple<uint64_t, uint64_t>, Cell> mine;  // (route, bucket)
    for (const nlohmann::json& frame : *frames) {
      const uint64_t bucket = JsonU64(frame, "end_ms") / resolution_ms;
      auto routes = frame.find("routes");
      if (routes == frame.end() || !routes->is_array()) continue;
      buckets.insert(bucket);
      for (const nlohmann::json& route : *routes) {
        const uint64_t id = JsonU64(route, "route_id");
        Row& row = rows[id];
        row.group = JsonU64(route, "group");
        row.start = Str(route, "start");
        row.end = Str(route, "end");
        Cell& cell = mine[{id, bucket}];
        cell.reads += JsonU64(route, "reads");
        cell.writes += JsonU64(route, "writes");
        cell.read_bytes += JsonU64(route, "read_bytes");
        cell.write_bytes += JsonU64(route, "write_bytes");
      }
    }
    for (const auto& [key, cell] : mine) {
      Cell& merged = rows[std::get<0>(key)].cells[std::get<1>(key)];
      merged.reads += cell.reads;
      merged.read_bytes += cell.read_bytes;
      merged.writes = std::max(merged.writes, cell.writes);
      merged.write_bytes = std::max(merged.write_bytes, cell.write_bytes);
    }
  }
  // The newest `max_buckets` buckets, contiguous: a bucket no node sampled shows as zero.
  std::vector<uint64_t> times;
  if (!buckets.empty()) {
    const uint64_t last = *buckets.rbegin();
    const uint64_t first =
        std::max(*buckets.begin(), last + 1 >= max_buckets ? last + 1 - max_buckets : 0);
    for (uint64_t b = first; b <= last; ++b) times.push_back(b);
  }
  const double seconds = static_cast<double>(resolution_ms) / 1000.0;
  std::vector<std::pair<std::tuple<std::string, uint64_t>, const Row*>> ordered;
  for (const auto& [id, row] : rows) ordered.push_back({{row.start, id}, &row});
  std::sort(ordered.begin(), ordered.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  nlohmann::json out_rows = nlohmann::json::array();
  for (const auto& [key, row] : ordered) {
    nlohmann::json reads = nlohmann::json::array();
    nlohmann::json writes = nlohmann::json::array();
    nlohmann::json bytes = nlohmann::json::array();
    for (uint64_t bucket : times) {
      Cell cell;
      if (auto it = row->cells.find(bucket); it != row->cells.end()) cell = it->second;
      reads.push_back(static_cast<double>(cell.reads) / seconds);
      writes.push_back(static_cast<double>(cell.writes) / seconds);
      bytes.push_back(static_cast<double>(cell.read_bytes + cell.write_bytes) / seconds);
    }
    out_rows.push_back({{"route_id", std::get<1>(key)},
                        {"group", row->group},
                        {"start", row->start},
                        {"end", row->end},
                        {"reads", reads},
                        {"writes", writes},
                        {"bytes", bytes}});
  }
  nlohmann::json times_ms = nlohmann::json::array();
  for (uint64_t bucket : times) times_ms.push_back(bucket * resolution_ms);
  return {{"resolution_ms", resolution_ms}, {"times_ms", times_ms}, {"routes", out_rows}};
}

}  // namespace ekv::runtime::console
