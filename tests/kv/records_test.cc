#include "core/kv/records.h"

#include <string>

#include "gtest/gtest.h"

namespace ekv::kv {
namespace {

TEST(RecordsTest, VersionRecordRoundTrips) {
  for (const VersionRecord& record :
       {VersionRecord{MutationKind::kPut, 0, "value"},
        VersionRecord{MutationKind::kPut, 123456789, std::string("\0\xff", 2)},
        VersionRecord{MutationKind::kPut, UINT64_MAX, ""},
        VersionRecord{MutationKind::kDelete, 42, ""}}) {
    const std::string bytes = EncodeVersionRecord(record);
    absl::StatusOr<VersionRecord> decoded = DecodeVersionRecord(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, record);
  }
}

TEST(RecordsTest, VersionRecordIsCompact) {
  // Format byte, kind byte, one-byte varint for start_ts 0, then the value.
  EXPECT_EQ(EncodeVersionRecord(VersionRecord{MutationKind::kPut, 0, "v"}).size(), 4u);
}

TEST(RecordsTest, LockRecordRoundTrips) {
  const LockRecord lock{"primary-key", 1ull << 40, 3000, MutationKind::kPut,
                        std::string("val\0ue", 6)};
  absl::StatusOr<LockRecord> decoded = DecodeLockRecord(EncodeLockRecord(lock));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, lock);
  const LockRecord del{"p", 7, 0, MutationKind::kDelete, ""};
  EXPECT_EQ(*DecodeLockRecord(EncodeLockRecord(del)), del);
}

TEST(RecordsTest, TxnStatusRecordRoundTrips) {
  for (const TxnStatusRecord& status :
       {TxnStatusRecord{TxnState::kCommitted, 99}, TxnStatusRecord{TxnState::kRolledBack, 0}}) {
    EXPECT_EQ(*DecodeTxnStatusRecord(EncodeTxnStatusRecord(status)), status);
  }
}

// Every truncation of a lock or status record is detected; a version record's value runs
// to the end, so only truncations inside its header are.
TEST(RecordsTest, TruncationIsDataLoss) {
  const std::string lock =
      EncodeLockRecord(LockRecord{"primary", 1000, 10, MutationKind::kPut, "value"});
  for (size_t n = 0; n < lock.size(); ++n) {
    EXPECT_TRUE(absl::IsDataLoss(DecodeLockRecord(lock.substr(0, n)).status())) << n;
  }
  const std::string status = EncodeTxnStatusRecord(TxnStatusRecord{TxnState::kCommitted, 1000});
  for (size_t n = 0; n < status.size(); ++n) {
    EXPECT_TRUE(absl::IsDataLoss(DecodeTxnStatusRecord(status.substr(0, n)).status())) << n;
  }
  const std::string version = EncodeVersionRecord(VersionRecord{MutationKind::kPut, 1000, "v"});
  for (size_t n = 0; n < 4; ++n) {
    EXPECT_TRUE(absl::IsDataLoss(DecodeVersionRecord(version.substr(0, n)).status())) << n;
  }
}

TEST(RecordsTest, UnknownFormatsAndKindsAreDataLoss) {
  std::string version = EncodeVersionRecord(VersionRecord{MutationKind::kPut, 1, "v"});
  version[0] = 2;  // a future format
  EXPECT_TRUE(absl::IsDataLoss(DecodeVersionRecord(version).status()));
  std::string bad_kind = EncodeVersionRecord(VersionRecord{MutationKind::kPut, 1, "v"});
  bad_kind[1] = 9;
  EXPECT_TRUE(absl::IsDataLoss(DecodeVersionRecord(bad_kind).status()));
  std::string tombstone_with_value =
      EncodeVersionRecord(VersionRecord{MutationKind::kDelete, 1, ""}) + "x";
  EXPECT_TRUE(absl::IsDataLoss(DecodeVersionRecord(tombstone_with_value).status()));
  std::string lock = EncodeLockRecord(LockRecord{"p", 1, 1, MutationKind::kPut, "v"});
  EXPECT_TRUE(absl::IsDataLoss(DecodeLockRecord(lock + "junk").status()));
  std::string committed_without_ts = EncodeTxnStatusRecord(TxnStatusRecord{});
  committed_without_ts[1] = static_cast<char>(TxnState::kCommitted);
  EXPECT_TRUE(absl::IsDataLoss(DecodeTxnStatusRecord(committed_without_ts).status()));
}

}  // namespace
}  // namespace ekv::kv
