// Test helper: a durable kv::Engine whose "disk" (a MemoryEngine the test owns) outlives
// the state machines built on it, so a test can restart them, plus the copies a driver
// would have staged for snapshot installs, by ref.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/kv/engine.h"
#include "core/kv/memory_engine.h"
#include "gtest/gtest.h"

namespace ekv::node {

struct Disk {
  kv::MemoryEngine engine;
  std::map<std::string, const kv::MemoryEngine*> staged;
  std::vector<std::string> discarded;
};

inline void CopyInto(const kv::Engine& from, kv::Engine* to) {
  kv::WriteBatch batch;
  batch.DeleteRange("", std::string(64, '\xff'));
  auto it = from.NewIterator({});
  for (it->SeekToFirst(); it->Valid(); it->Next()) batch.Put(it->key(), it->value());
  ASSERT_TRUE(to->Write(batch).ok());
}

class DiskEngine final : public kv::Engine {
 public:
  explicit DiskEngine(Disk* disk) : disk_(disk) {}
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const override {
    return disk_->engine.Get(key);
  }
  std::unique_ptr<kv::EngineIterator> NewIterator(const kv::IterOptions& options) const override {
    return disk_->engine.NewIterator(options);
  }
  absl::Status Write(const kv::WriteBatch& batch) override { return disk_->engine.Write(batch); }
  std::unique_ptr<kv::EngineSnapshot> Snapshot() const override { return disk_->engine.Snapshot(); }
  bool durable() const override { return true; }
  absl::Status ReplaceWithStaged(absl::string_view ref) override {
    auto it = disk_->staged.find(std::string(ref));
    if (it == disk_->staged.end()) return absl::NotFoundError("no such staged copy");
    CopyInto(*it->second, &disk_->engine);
    return absl::OkStatus();
  }
  void DiscardStaged(absl::string_view ref) override { disk_->discarded.emplace_back(ref); }

 private:
  Disk* disk_;
};

}  // namespace ekv::node
