// In-memory Engine on std::map with copy-on-write versions.
//
// The engine holds a shared_ptr to the current map. Snapshots and iterators share that
// map instead of copying it. A write mutates the map in place when nobody else holds it
// (O(log n) per op), and otherwise first copies it (O(n) keys and values) and swaps the
// pointer, leaving readers on the old version. So a snapshot costs O(1) to take and
// O(n) once, on the first write while it (or any iterator) is alive; hold them briefly,
// or expect one copy per write. Memory: one extra map per distinct live version.
//
// Single-threaded, like the rest of core/.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/kv/engine.h"

namespace ekv::kv {

class MemoryEngine final : public Engine {
 public:
  using Map = std::map<std::string, std::string, std::less<>>;

  MemoryEngine();

  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const override;
  std::unique_ptr<EngineIterator> NewIterator(const IterOptions& options) const override;
  absl::Status Write(const WriteBatch& batch) override;
  std::unique_ptr<EngineSnapshot> Snapshot() const override;

  // Number of keys; for tests.
  size_t size() const { return current_->size(); }
  // How many times a write had to copy the map because a reader held it; for tests and
  // for noticing long-lived snapshots.
  uint64_t copy_on_write_count() const { return copy_on_write_count_; }

 private:
  std::shared_ptr<Map> current_;
  uint64_t copy_on_write_count_ = 0;
};

}  // namespace ekv::kv
