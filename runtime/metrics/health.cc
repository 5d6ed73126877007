#include "runtime/metrics/health.h"

#include "absl/strings/str_cat.h"

namespace ekv::runtime::metrics {

absl::Status NodeLoopHealth(const NodeLoopStats& stats, std::chrono::steady_clock::time_point now,
                            std::chrono::milliseconds max_round_age) {
  if (stats.rounds == 0) return absl::UnavailableError("node loop has not run yet");
  const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - stats.last_round_at);
  if (age > max_round_age) {
    return absl::UnavailableError(absl::StrCat("node loop has not finished a round for ",
                                               age.count(), " ms (limit ", max_round_age.count(),
                                               " ms)"));
  }
  return absl::OkStatus();
}

MetricsHttpServer::HealthCheck NodeLoopHealthCheck(const NodeLoop* loop,
                                                   std::chrono::milliseconds max_round_age) {
  return [loop, max_round_age] {
    return NodeLoopHealth(loop->stats(), std::chrono::steady_clock::now(), max_round_age);
  };
}

}  // namespace ekv::runtime::metrics
