#include "core/kv/memory_engine.h"

#include "absl/strings/str_cat.h"
#include "core/util/assert.h"

namespace ekv::kv {
namespace {

using Map = MemoryEngine::Map;

class MemoryIterator final : public EngineIterator {
 public:
  MemoryIterator(std::shared_ptr<const Map> map, const IterOptions& options)
      : map_(std::move(map)),
        lower_(options.lower_bound),
        upper_(options.upper_bound),
        it_(map_->end()) {}

  bool Valid() const override { return valid_; }

  void SeekToFirst() override { Seek(lower_); }

  void SeekToLast() override {
    it_ = upper_.empty() ? map_->end() : map_->lower_bound(upper_);
    StepBack();
  }

  void Seek(absl::string_view target) override {
    it_ = map_->lower_bound(target < lower_ ? absl::string_view(lower_) : target);
    CheckUpper();
  }

  void SeekForPrev(absl::string_view target) override {
    if (!upper_.empty() && target >= upper_) {
      it_ = map_->lower_bound(upper_);
    } else {
      it_ = map_->upper_bound(target);
    }
    StepBack();
  }

  void Next() override {
    EKV_ASSERT(valid_, "Next on an invalid iterator");
    ++it_;
    CheckUpper();
  }

  void Prev() override {
    EKV_ASSERT(valid_, "Prev on an invalid iterator");
    StepBack();
  }

  absl::string_view key() const override {
    EKV_ASSERT(valid_, "key() on an invalid iterator");
    return it_->first;
  }
  absl::string_view value() const override {
    EKV_ASSERT(valid_, "value() on an invalid iterator");
    return it_->second;
  }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  // Valid iff it_ points at a key below the upper bound (lower bound already ensured).
  void CheckUpper() { valid_ = it_ != map_->end() && (upper_.empty() || it_->first < upper_); }
  // Moves to the entry before it_, if it is >= the lower bound.
  void StepBack() {
    if (it_ == map_->begin()) {
      valid_ = false;
      return;
    }
    --it_;
    valid_ = it_->first >= lower_;
  }

  const std::shared_ptr<const Map> map_;  // pins the version this iterator reads
  const std::string lower_;
  const std::string upper_;
  Map::const_iterator it_;
  bool valid_ = false;
};

class MemorySnapshot final : public EngineSnapshot {
 public:
  explicit MemorySnapshot(std::shared_ptr<const Map> map) : map_(std::move(map)) {}

  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const override {
    auto it = map_->find(key);
    if (it == map_->end()) return std::nullopt;
    return it->second;
  }
  std::unique_ptr<EngineIterator> NewIterator(const IterOptions& options) const override {
    return std::make_unique<MemoryIterator>(map_, options);
  }

 private:
  const std::shared_ptr<const Map> map_;
};

}  // namespace

MemoryEngine::MemoryEngine() : current_(std::make_shared<Map>()) {}

absl::StatusOr<std::optional<std::string>> MemoryEngine::Get(absl::string_view key) const {
  auto it = current_->find(key);
  if (it == current_->end()) return std::nullopt;
  return it->second;
}

std::unique_ptr<EngineIterator> MemoryEngine::NewIterator(const IterOptions& options) const {
  return std::make_unique<MemoryIterator>(current_, options);
}

std::unique_ptr<EngineSnapshot> MemoryEngine::Snapshot() const {
  return std::make_unique<MemorySnapshot>(current_);
}

absl::Status MemoryEngine::Write(const WriteBatch& batch) {
  // Validate everything first: once mutation starts nothing may fail, or the batch would
  // be half-applied.
  for (const WriteBatch::Op& op : batch.ops()) {
    if (op.kind == WriteBatch::OpKind::kDeleteRange && op.key > op.value) {
      return absl::InvalidArgumentError(
          absl::StrCat("DeleteRange begin must be <= end; got begin of ", op.key.size(),
                       " bytes above end of ", op.value.size(), " bytes"));
    }
  }
  if (batch.empty()) return absl::OkStatus();
  if (current_.use_count() > 1) {
    // A snapshot or iterator reads the current version: write a copy instead.
    current_ = std::make_shared<Map>(*current_);
    ++copy_on_write_count_;
  }
  Map& map = *current_;
  for (const WriteBatch::Op& op : batch.ops()) {
    switch (op.kind) {
      case WriteBatch::OpKind::kPut:
        map.insert_or_assign(op.key, op.value);
        break;
      case WriteBatch::OpKind::kDelete:
        map.erase(op.key);
        break;
      case WriteBatch::OpKind::kDeleteRange:
        map.erase(map.lower_bound(op.key), map.lower_bound(op.value));
        break;
    }
  }
  return absl::OkStatus();
}

}  // namespace ekv::kv
