// A group's Raft snapshot image arrives from the network: decoding arbitrary bytes as one
// (an in-memory image, or a reference for a durable group) must fail cleanly or restore
// a state whose own image restores again to the same state; a durable group restores a
// reference only with a staged copy, and takes over an in-memory image (a data dir from
// before durable state machines) exactly as an in-memory group restores it. Never a crash.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/kv/memory_engine.h"
#include "core/node/group_state_machine.h"
#include "core/node/snapshot_reference.h"
#include "core/util/assert.h"

namespace {

// A durable engine with nothing staged: every staged ref is unknown.
class NoStagingEngine final : public ekv::kv::Engine {
 public:
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const override {
    return memory_.Get(key);
  }
  std::unique_ptr<ekv::kv::EngineIterator> NewIterator(
      const ekv::kv::IterOptions& options) const override {
    return memory_.NewIterator(options);
  }
  absl::Status Write(const ekv::kv::WriteBatch& batch) override { return memory_.Write(batch); }
  std::unique_ptr<ekv::kv::EngineSnapshot> Snapshot() const override { return memory_.Snapshot(); }
  bool durable() const override { return true; }
  absl::Status ReplaceWithStaged(absl::string_view ref) override {
    return absl::NotFoundError("nothing staged");
  }

 private:
  ekv::kv::MemoryEngine memory_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint64_t index = data[0];
  const std::string image(reinterpret_cast<const char*>(data + 1), size - 1);

  ekv::node::GroupStateMachine in_memory(2, std::nullopt);
  const bool in_memory_restored = in_memory.Restore(image, index).ok();
  if (in_memory_restored) {
    EKV_ASSERT(in_memory.applied_index() == index, "restored to another index than asked");
    ekv::node::GroupStateMachine again(2, std::nullopt);
    absl::Status restored = again.Restore(in_memory.SnapshotImage(), index);
    EKV_ASSERT(restored.ok(),
               "a restored state's own image does not restore: ", restored.ToString());
    EKV_ASSERT(again.Digest() == in_memory.Digest(), "image round trip changed the state");
  }

  (void)ekv::node::DecodeSnapshotReference(image);
  ekv::node::GroupStateMachine durable(2, std::nullopt, std::nullopt,
                                       std::make_unique<NoStagingEngine>());
  const absl::Status status = durable.Restore(image, index);
  if (ekv::node::IsSnapshotReference(image)) {
    // An empty durable group is at index 0: only a snapshot at 0 needs nothing staged.
    EKV_ASSERT(!status.ok() || index == 0, "a durable group restored without a staged copy");
  } else if (status.ok() && index != 0) {
    // An in-memory image from before durable state machines (an upgrade) is taken over
    // exactly: the same state an in-memory group restores from it.
    EKV_ASSERT(durable.applied_index() == index, "durable takeover at another index");
    EKV_ASSERT(in_memory_restored, "a durable group took over an image an in-memory one refuses");
    EKV_ASSERT(durable.max_timestamp() == in_memory.max_timestamp(),
               "durable takeover changed the timestamp sequence");
  }
  return 0;
}
