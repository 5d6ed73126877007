// A deterministic in-memory key-value StateMachine: put, delete and compare-and-set.
#pragma once

#include <map>

#include "core/node/state_machine.h"

namespace ekv::node {

class MapStateMachine : public StateMachine {
 public:
  ApplyResult Apply(raft::Index index, const Command& command) override;
  void Skip(raft::Index index) override;
  std::optional<std::string> Read(std::string_view key) const override;
  raft::Index applied_index() const override { return applied_index_; }
  std::string SnapshotImage() const override;
  absl::Status Restore(std::string_view image, raft::Index index) override;
  uint64_t Digest() const override;

  const std::map<std::string, std::string, std::less<>>& data() const { return data_; }

 private:
  // Ordered so that images and digests are canonical.
  std::map<std::string, std::string, std::less<>> data_;
  raft::Index applied_index_ = 0;
};

}  // namespace ekv::node
