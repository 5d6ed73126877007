// Test fixture owning one ProcessCluster; prints every node's log when a test fails.
#pragma once

#include <iostream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/process_cluster.h"

namespace ekv::integration {

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
