// Test fixture owning one ProcessCluster; prints every node's log when a test fails.
#pragma once

#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/process_cluster.h"

namespace ekv::integration {

// How long a test polls the cluster for a state it waits for (a move done, a group
// created): generous, for a loaded 2-core machine.
inline constexpr std::chrono::milliseconds kPollBudget{60000};

inline std::string Describe(const grpc::Status& status) {
  return status.ok()
             ? std::string("OK")
             : std::to_string(static_cast<int>(status.error_code())) + " " + status.error_message();
}

class ClusterTest : public ::testing::Test {
 protected:
  void StartCluster(ClusterOptions options = {}) {
    cluster_ = std::make_unique<ProcessCluster>(options);
    absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }

  void TearDown() override {
    if (HasFailure() && cluster_ != nullptr) {
      std::cout << "==== server logs (" << cluster_->temp_dir() << ") ====\n"
                << cluster_->Logs() << std::flush;
    }
    cluster_.reset();
  }

  ProcessCluster& cluster() { return *cluster_; }

  std::unique_ptr<ProcessCluster> cluster_;
};

}  // namespace ekv::integration
