// ekv-load: a closed-loop gRPC load client that drives either ekv (proto.RawKV) or etcd
// (etcdserverpb.KV) with the same request pattern, so their throughput and latency can be
// compared side by side in one run. See --help.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/load/etcd_kv.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "proto/ekv.grpc.pb.h"

ABSL_FLAG(std::string, target, "ekv", "ekv (proto.RawKV) or etcd (etcdserverpb.KV).");
ABSL_FLAG(std::string, addrs, "127.0.0.1:50051,127.0.0.1:50052,127.0.0.1:50053",
          "Comma-separated gRPC addresses; requests are spread over them round-robin.");
ABSL_FLAG(std::string, op, "put", "put or get (linearizable reads on both systems).");
ABSL_FLAG(int, concurrency, 64, "Requests kept in flight at once (closed loop).");
ABSL_FLAG(int, duration_s, 10, "How long to run, in seconds (bounded to 600).");
ABSL_FLAG(int, value_size, 128, "Value size in bytes for put.");
ABSL_FLAG(int, keys, 10000, "Number of distinct keys (key_000000 ...).");
ABSL_FLAG(bool, preload, true, "For get: write every key once before measuring.");
ABSL_FLAG(int, hot_keys, 0,
          "A hot key range: the first N keys (key_000000 ...) receive --hot_percent of the "
          "requests, the other keys the rest. 0: every key equally likely.");
ABSL_FLAG(int, hot_percent, 80, "With --hot_keys: the share of requests (0-100) to the hot keys.");

namespace {

struct Stats {
  std::mutex mu;
  std::vector<uint32_t> latencies_us;
  uint64_t ok = 0;
  uint64_t errors = 0;
  std::string first_error;
};

std::string KeyName(uint64_t index) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "key_%06llu", static_cast<unsigned long long>(index));
  return buffer;
}

// The key of request number `n` (a well-mixed number): uniform over `keys`, or with a hot
// range, --hot_percent of them uniform over its first `hot_keys` and the rest over the others.
std::string KeyOf(uint64_t n, int keys, int hot_keys, int hot_percent) {
  if (hot_keys <= 0) return KeyName(n % static_cast<uint64_t>(keys));
  // splitmix64's finalizer: neighbouring request numbers land on unrelated keys.
  uint64_t h = n + 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  h ^= h >> 31;
  if (static_cast<int>(h % 100) < hot_percent) {
    return KeyName((h / 100) % static_cast<uint64_t>(hot_keys));
  }
  return KeyName(static_cast<uint64_t>(hot_keys) +
                 (h / 100) % static_cast<uint64_t>(keys - hot_keys));
}

// One in-flight request slot: issues a request, and on completion records it and issues
// the next until the deadline passes.
class Slot {
 public:
  Slot(int index, std::vector<std::unique_ptr<proto::RawKV::Stub>>* ekv,
       std::vector<std::unique_ptr<etcdserverpb::KV::Stub>>* etcd, Stats* stats,
       std::chrono::steady_clock::time_point deadline, std::atomic<int>* running,
       std::condition_variable* done_cv)
      : index_(index),
        ekv_(ekv),
        etcd_(etcd),
        stats_(stats),
        deadline_(deadline),
        running_(running),
        done_cv_(done_cv) {}

  void Start() { Issue(); }

 private:
  void Issue() {
    if (std::chrono::steady_clock::now() >= deadline_) {
      if (running_->fetch_sub(1) == 1) done_cv_->notify_all();
      return;
    }
    ++count_;
    const uint64_t n = static_cast<uint64_t>(index_) * 1000003ULL + count_ * 7919ULL;
    const std::string key = KeyOf(n, absl::GetFlag(FLAGS_keys), absl::GetFlag(FLAGS_hot_keys),
                                  absl::GetFlag(FLAGS_hot_percent));
    const bool put = absl::GetFlag(FLAGS_op) == "put";
    const size_t stubs = ekv_ ? ekv_->size() : etcd_->size();
    const size_t which = (static_cast<size_t>(index_) + count_) % stubs;
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    start_ = std::chrono::steady_clock::now();
    auto done = [this](grpc::Status status) { Complete(status); };
    if (ekv_ != nullptr) {
      if (put) {
        ekv_put_.set_key(key);
        if (ekv_put_.value().empty()) ekv_put_.set_value(value_);
        (*ekv_)[which]->async()->RawPut(context_.get(), &ekv_put_, &ekv_put_resp_, done);
      } else {
        ekv_get_.set_key(key);
        (*ekv_)[which]->async()->RawGet(context_.get(), &ekv_get_, &ekv_get_resp_, done);
      }
    } else {
      if (put) {
        etcd_put_.set_key(key);
        if (etcd_put_.value().empty()) etcd_put_.set_value(value_);
        (*etcd_)[which]->async()->Put(context_.get(), &etcd_put_, &etcd_put_resp_, done);
      } else {
        etcd_get_.set_key(key);
        (*etcd_)[which]->async()->Range(context_.get(), &etcd_get_, &etcd_get_resp_, done);
      }
    }
  }

  void Complete(const grpc::Status& status) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - start_)
                             .count();
    {
      std::lock_guard<std::mutex> lock(stats_->mu);
      if (status.ok()) {
        ++stats_->ok;
        stats_->latencies_us.push_back(
            static_cast<uint32_t>(std::min<int64_t>(elapsed, UINT32_MAX)));
      } else {
        ++stats_->errors;
        if (stats_->first_error.empty()) {
          stats_->first_error = absl::StrCat(status.error_code(), " ", status.error_message());
        }
      }
    }
    Issue();
  }

  int index_;
  std::vector<std::unique_ptr<proto::RawKV::Stub>>* ekv_;
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>>* etcd_;
  Stats* stats_;
  std::chrono::steady_clock::time_point deadline_;
  std::atomic<int>* running_;
  std::condition_variable* done_cv_;
  uint64_t count_ = 0;
  // The put payload, built once: the request loop allocates nothing per request for it.
  const std::string value_ = std::string(absl::GetFlag(FLAGS_value_size), 'v');
  std::unique_ptr<grpc::ClientContext> context_;
  std::chrono::steady_clock::time_point start_;
  proto::RawPutRequest ekv_put_;
  proto::RawPutResponse ekv_put_resp_;
  proto::RawGetRequest ekv_get_;
  proto::RawGetResponse ekv_get_resp_;
  etcdserverpb::PutRequest etcd_put_;
  etcdserverpb::PutResponse etcd_put_resp_;
  etcdserverpb::RangeRequest etcd_get_;
  etcdserverpb::RangeResponse etcd_get_resp_;
};

int Run(const std::string& op, int duration_s, Stats& stats,
        std::vector<std::unique_ptr<proto::RawKV::Stub>>* ekv,
        std::vector<std::unique_ptr<etcdserverpb::KV::Stub>>* etcd) {
  const int concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  std::atomic<int> running{concurrency};
  std::condition_variable done_cv;
  std::mutex done_mu;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(duration_s);
  std::vector<std::unique_ptr<Slot>> slots;
  for (int i = 0; i < concurrency; ++i) {
    slots.push_back(std::make_unique<Slot>(i, ekv, etcd, &stats, deadline, &running, &done_cv));
  }
  for (auto& slot : slots) slot->Start();
  std::unique_lock<std::mutex> lock(done_mu);
  done_cv.wait_for(lock, std::chrono::seconds(duration_s + 30),
                   [&running] { return running.load() == 0; });
  // Wait for the last callbacks to unwind before the slots are destroyed.
  while (running.load() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  {
    // absl's --help lists only flags defined in a file named like the program; ours live
    // in *_main.cc / main.cc, so list every flag that is not Abseil's own.
    absl::FlagsUsageConfig usage;
    usage.contains_help_flags = [](absl::string_view path) {
      return !absl::StrContains(path, "absl/");
    };
    usage.contains_helpshort_flags = usage.contains_help_flags;
    absl::SetFlagsUsageConfig(usage);
  }
  absl::SetProgramUsageMessage(
      "ekv-load: closed-loop gRPC load against ekv (proto.RawKV RawPut/RawGet) or etcd "
      "(etcdserverpb.KV Put/Range). Prints one line: target, op, ops/s, p50/p99 latency, "
      "errors.\nExample: ekv-load --target etcd --addrs 127.0.0.1:2379 --op put");
  absl::ParseCommandLine(argc, argv);
  const std::string target = absl::GetFlag(FLAGS_target);
  const std::string op = absl::GetFlag(FLAGS_op);
  if ((target != "ekv" && target != "etcd") || (op != "put" && op != "get")) {
    std::cerr << "ekv-load: --target must be ekv or etcd, --op put or get\n";
    return 2;
  }
  const int keys = absl::GetFlag(FLAGS_keys);
  const int hot_keys = absl::GetFlag(FLAGS_hot_keys);
  const int hot_percent = absl::GetFlag(FLAGS_hot_percent);
  if (keys < 1 || hot_keys < 0 || hot_keys >= keys || hot_percent < 0 || hot_percent > 100) {
    std::cerr << "ekv-load: need --keys >= 1, 0 <= --hot_keys < --keys and --hot_percent in "
                 "0..100 (got "
              << keys << ", " << hot_keys << ", " << hot_percent << ")\n";
    return 2;
  }
  const int duration_s = std::clamp(absl::GetFlag(FLAGS_duration_s), 1, 600);
  std::vector<std::unique_ptr<proto::RawKV::Stub>> ekv;
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> etcd;
  for (absl::string_view addr :
       absl::StrSplit(absl::GetFlag(FLAGS_addrs), ',', absl::SkipEmpty())) {
    // Several channels per address spread load over connections (and server threads).
    for (int c = 0; c < 4; ++c) {
      grpc::ChannelArguments args;
      args.SetInt("ekv.load.channel", c);  // distinct args -> distinct connections
      auto channel =
          grpc::CreateCustomChannel(std::string(addr), grpc::InsecureChannelCredentials(), args);
      if (target == "ekv") {
        ekv.push_back(proto::RawKV::NewStub(channel));
      } else {
        etcd.push_back(etcdserverpb::KV::NewStub(channel));
      }
    }
  }
  if (ekv.empty() && etcd.empty()) {
    std::cerr << "ekv-load: --addrs is empty\n";
    return 2;
  }
  auto* ekv_ptr = target == "ekv" ? &ekv : nullptr;
  auto* etcd_ptr = target == "etcd" ? &etcd : nullptr;
  if (op == "get" && absl::GetFlag(FLAGS_preload)) {
    // Every key exists before reads are measured; the preload is not counted.
    Stats preload;
    const int seconds = std::max(2, keys / 2000);
    absl::SetFlag(&FLAGS_op, "put");
    Run("put", seconds, preload, ekv_ptr, etcd_ptr);
    absl::SetFlag(&FLAGS_op, "get");
  }
  Stats stats;
  Run(op, duration_s, stats, ekv_ptr, etcd_ptr);
  std::sort(stats.latencies_us.begin(), stats.latencies_us.end());
  auto percentile = [&stats](double p) -> double {
    if (stats.latencies_us.empty()) return 0;
    const size_t i =
        std::min(stats.latencies_us.size() - 1,
                 static_cast<size_t>(p * static_cast<double>(stats.latencies_us.size())));
    return stats.latencies_us[i] / 1000.0;
  };
  std::printf("target=%s op=%s ops_per_sec=%.0f p50_ms=%.2f p99_ms=%.2f ok=%llu errors=%llu%s%s\n",
              target.c_str(), op.c_str(), static_cast<double>(stats.ok) / duration_s,
              percentile(0.50), percentile(0.99), static_cast<unsigned long long>(stats.ok),
              static_cast<unsigned long long>(stats.errors),
              stats.first_error.empty() ? "" : " first_error=", stats.first_error.c_str());
  return stats.ok > 0 ? 0 : 1;
}
