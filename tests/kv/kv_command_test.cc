#include "core/kv/kv_command.h"

#include <string>
#include <vector>

#include "core/kv/mvcc_reader.h"
#include "core/util/rng.h"
#include "gtest/gtest.h"

namespace ekv::kv {
namespace {

std::vector<KvCommand> OneOfEach() {
  return {
      RawWriteCommand{{Mutation::Put("a", "1"), Mutation::Delete(std::string("b\0c", 3))}, 7},
      SetHlcCeilingCommand{123456},
      PrewriteCommand{{Mutation::Put("k", "v"), Mutation::Delete("d")}, "k", 10, 3000},
      CommitCommand{{"k", "d"}, 10, 20},
      RollbackCommand{{"k"}, 10},
      CheckTxnStatusCommand{"k", 10, 99},
      ResolveLockCommand{{"x", "y"}, 10, 0},
      OnePhaseCommitCommand{{Mutation::Put("k", "")}, 10, 11},
      CompareAndSetCommand{"k", std::nullopt, "new", 5},
      CompareAndSetCommand{"k", "old", std::nullopt, 5},
      ConditionalWriteCommand{Mutation::Put("k", "v"), {ConditionKind::kEquals, "old"}, 5},
      ConditionalWriteCommand{Mutation::Delete("k"), {ConditionKind::kExists, ""}, 5},
      IncrementCommand{"n", -42, 5},
      IncrementCommand{"n", INT64_MIN, 5},
      AppendCommand{"s", "tail", 5},
      PutWithTtlCommand{"t", "v", 1000, 5},
      GcCommand{MakeTimestamp(1700000000000, 3), std::string("k\0x", 3), 1000},
      GcCommand{1, "", 1},
  };
}

TEST(KvCommandTest, EveryCommandRoundTrips) {
  for (const KvCommand& command : OneOfEach()) {
    std::string bytes = EncodeKvCommand(command);
    absl::StatusOr<KvCommand> decoded = DecodeKvCommand(bytes);
    ASSERT_TRUE(decoded.ok()) << KvCommandName(command) << ": " << decoded.status();
    EXPECT_EQ(*decoded, command) << KvCommandName(command);
  }
}

TEST(KvCommandTest, EveryTruncationAndTrailingByteIsRejected) {
  for (const KvCommand& command : OneOfEach()) {
    const std::string bytes = EncodeKvCommand(command);
    for (size_t length = 0; length < bytes.size(); ++length) {
      EXPECT_FALSE(DecodeKvCommand(bytes.substr(0, length)).ok())
          << KvCommandName(command) << " truncated to " << length;
    }
    EXPECT_FALSE(DecodeKvCommand(bytes + "x").ok()) << KvCommandName(command);
  }
}

TEST(KvCommandTest, UnknownFormatTypeAndEnumsAreRejected) {
  std::string bytes = EncodeKvCommand(SetHlcCeilingCommand{5});
  bytes[0] = 2;  // format
  EXPECT_EQ(DecodeKvCommand(bytes).status().code(), absl::StatusCode::kDataLoss);
  bytes = EncodeKvCommand(SetHlcCeilingCommand{5});
  bytes[1] = 99;  // type
  EXPECT_EQ(DecodeKvCommand(bytes).status().code(), absl::StatusCode::kDataLoss);
  bytes = EncodeKvCommand(RawWriteCommand{{Mutation::Put("a", "1")}, 7});
  bytes[3] = 9;  // mutation kind (after format, type, count)
  EXPECT_EQ(DecodeKvCommand(bytes).status().code(), absl::StatusCode::kDataLoss);
  bytes = EncodeKvCommand(
      ConditionalWriteCommand{Mutation::Delete("k"), {ConditionKind::kExists, ""}, 5});
  bytes[5] = 7;  // condition kind (format, type, kind, len, 'k')
  EXPECT_EQ(DecodeKvCommand(bytes).status().code(), absl::StatusCode::kDataLoss);
  bytes = EncodeKvCommand(CompareAndSetCommand{"k", std::nullopt, std::nullopt, 5});
  bytes[4] = 2;  // presence byte
  EXPECT_EQ(DecodeKvCommand(bytes).status().code(), absl::StatusCode::kDataLoss);
}

TEST(KvCommandTest, GcMaxKeysOutsideItsBoundIsRejected) {
  EXPECT_EQ(DecodeKvCommand(EncodeKvCommand(GcCommand{5, "a", 0})).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      DecodeKvCommand(EncodeKvCommand(GcCommand{5, "a", kMaxGcKeysPerPass + 1})).status().code(),
      absl::StatusCode::kDataLoss);
  EXPECT_TRUE(DecodeKvCommand(EncodeKvCommand(GcCommand{5, "a", kMaxGcKeysPerPass})).ok());
}

TEST(KvCommandTest, KeyCountAboveTheLimitIsRejectedBeforeAllocating) {
  CommitCommand command;
  command.start_ts = 1;
  command.commit_ts = 2;
  for (size_t i = 0; i <= kMaxKeysPerCommand; ++i) command.keys.push_back("k");
  absl::StatusOr<KvCommand> decoded = DecodeKvCommand(EncodeKvCommand(command));
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  // A forged huge count with no data behind it.
  std::string forged = {1, 4, '\xff', '\xff', '\xff', '\xff', '\x0f'};
  EXPECT_FALSE(DecodeKvCommand(forged).ok());
}

TEST(KvCommandTest, RandomGarbageNeverCrashesAndMutatedCommandsDecodeOrFail) {
  Rng rng(20240611);
  const std::vector<KvCommand> commands = OneOfEach();
  for (int round = 0; round < 20000; ++round) {
    std::string bytes;
    if (rng.Chance(0.5)) {
      const size_t length = rng.Uniform(40);
      for (size_t i = 0; i < length; ++i) bytes.push_back(static_cast<char>(rng.Uniform(256)));
    } else {
      bytes = EncodeKvCommand(commands[rng.Uniform(commands.size())]);
      bytes[rng.Uniform(bytes.size())] = static_cast<char>(rng.Uniform(256));
    }
    absl::StatusOr<KvCommand> decoded = DecodeKvCommand(bytes);
    // Whatever decodes survives a round trip of its own.
    if (decoded.ok()) {
      EXPECT_EQ(DecodeKvCommand(EncodeKvCommand(*decoded)).value(), *decoded);
    }
  }
}

TEST(KvCommandTest, KeyErrorStatusFollowsRetryability) {
  LockRecord lock{"p", 5, 100, MutationKind::kPut, "v"};
  KeyError locked = KeyIsLockedError("k", lock);
  EXPECT_TRUE(locked.retryable);
  EXPECT_EQ(locked.lock, lock);
  EXPECT_EQ(KeyErrorStatus(locked).code(), absl::StatusCode::kUnavailable);
  KeyError conflict = WriteConflictError("k", 5, 9);
  EXPECT_FALSE(conflict.retryable);
  EXPECT_EQ(conflict.conflict_commit_ts, 9u);
  EXPECT_EQ(KeyErrorStatus(conflict).code(), absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace ekv::kv
