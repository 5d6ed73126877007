#include "runtime/console/load_history.h"

#include <pthread.h>

#include <utility>

#include "absl/strings/str_format.h"

namespace ekv::runtime::console {
namespace {

// `now - before` for a cumulative counter; a counter that went down restarted from zero.
uint64_t Delta(uint64_t now, uint64_t before) { return now >= before ? now - before : now; }

uint64_t WallMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

std::string DisplayKey(const std::string& key) {
  std::string out;
  for (unsigned char c : key) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += absl::StrFormat("\\x%02x", c);
    }
  }
  return out;
}

void LoadHistory::Record(uint64_t now_ms,
                         const std::map<raft::GroupId, node::GroupStatus>& statuses) {
  std::map<RouteKey, node::RouteLoad> current;
  for (const auto& [group, status] : statuses) {
    for (const node::RouteLoad& load : status.route_loads) {
      current[{group, load.route_id}] = load;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (has_baseline_) {
    LoadFrame frame;
    frame.end_ms = now_ms;
    frame.duration_ms = now_ms > last_ms_ ? now_ms - last_ms_ : 0;
    for (const auto& [key, load] : current) {
      RouteDelta delta;
      delta.group = std::get<0>(key);
      delta.route_id = load.route_id;
      delta.start = load.start;
      delta.end = load.end;
      node::RouteLoad before;  // zero for a route new since the last sample
      if (auto it = last_.find(key); it != last_.end()) before = it->second;
      delta.reads = Delta(load.reads, before.reads);
      delta.writes = Delta(load.writes, before.writes);
      delta.read_bytes = Delta(load.read_bytes, before.read_bytes);
      delta.write_bytes = Delta(load.write_bytes, before.write_bytes);
      frame.routes.push_back(std::move(delta));
    }
    frames_.push_back(std::move(frame));
    while (frames_.size() > options_.max_frames) frames_.pop_front();
  }
  has_baseline_ = true;
  last_ms_ = now_ms;
  last_ = std::move(current);
}

std::vector<LoadFrame> LoadHistory::Frames() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {frames_.begin(), frames_.end()};
}

nlohmann::json LoadHistory::ToJson() const {
  nlohmann::json frames = nlohmann::json::array();
  for (const LoadFrame& frame : Frames()) {
    nlohmann::json routes = nlohmann::json::array();
    for (const RouteDelta& route : frame.routes) {
      routes.push_back({{"group", route.group},
                        {"route_id", route.route_id},
                        {"start", DisplayKey(route.start)},
                        {"end", DisplayKey(route.end)},
                        {"reads", route.reads},
                        {"writes", route.writes},
                        {"read_bytes", route.read_bytes},
                        {"write_bytes", route.write_bytes}});
    }
    frames.push_back(
        {{"end_ms", frame.end_ms}, {"duration_ms", frame.duration_ms}, {"routes", routes}});
  }
  return {{"resolution_ms", options_.resolution.count()}, {"frames", frames}};
}

LoadSampler::LoadSampler(LoadHistory* history, Statuses statuses)
    : history_(history), statuses_(std::move(statuses)) {}

LoadSampler::~LoadSampler() { Stop(); }

void LoadSampler::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ekv-load");
    Run();
  });
}

void LoadSampler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LoadSampler::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    history_->Record(WallMs(), statuses_());
    lock.lock();
    wake_.wait_for(lock, history_->options().resolution, [this] { return stopping_; });
  }
}

}  // namespace ekv::runtime::console
