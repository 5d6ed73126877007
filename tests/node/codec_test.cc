#include "core/node/codec.h"

#include "core/node/command.h"
#include "core/node/map_state_machine.h"
#include "gtest/gtest.h"

namespace ekv::node {
namespace {

TEST(CommandTest, RoundTrips) {
  Command command{3, 7, 42, OpKind::kCas, "key", "new", std::string("old")};
  absl::StatusOr<Command> decoded = DecodeCommand(EncodeCommand(command));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, command);
  command.expected.reset();
  command.kind = OpKind::kDelete;
  decoded = DecodeCommand(EncodeCommand(command));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, command);
}

TEST(CommandTest, RejectsTruncatedData) {
  std::string data = EncodeCommand(Command{1, 1, 1, OpKind::kPut, "k", "v", std::nullopt});
  for (size_t size = 0; size < data.size(); ++size) {
    EXPECT_FALSE(DecodeCommand(data.substr(0, size)).ok()) << size;
  }
}

TEST(MapStateMachineTest, AppliesPutDeleteCas) {
  MapStateMachine machine;
  EXPECT_TRUE(machine.Apply(1, {1, 1, 1, OpKind::kPut, "a", "1", std::nullopt}).ok);
  EXPECT_EQ(machine.Read("a"), "1");
  // CAS with the wrong expectation has no effect and reports the current value.
  ApplyResult failed = machine.Apply(2, {1, 1, 2, OpKind::kCas, "a", "2", std::string("0")});
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.value, "1");
  EXPECT_EQ(machine.Read("a"), "1");
  EXPECT_TRUE(machine.Apply(3, {1, 1, 3, OpKind::kCas, "a", "2", std::string("1")}).ok);
  EXPECT_EQ(machine.Read("a"), "2");
  // CAS expecting absence.
  EXPECT_TRUE(machine.Apply(4, {1, 1, 4, OpKind::kCas, "b", "x", std::nullopt}).ok);
  EXPECT_FALSE(machine.Apply(5, {1, 1, 5, OpKind::kCas, "b", "y", std::nullopt}).ok);
  EXPECT_TRUE(machine.Apply(6, {1, 1, 6, OpKind::kDelete, "a", "", std::nullopt}).ok);
  EXPECT_EQ(machine.Read("a"), std::nullopt);
  machine.Skip(7);
  EXPECT_EQ(machine.applied_index(), 7u);
}

TEST(MapStateMachineTest, SnapshotRestoresIdenticalState) {
  MapStateMachine machine;
  machine.Apply(1, {1, 1, 1, OpKind::kPut, "a", "1", std::nullopt});
  machine.Apply(2, {1, 1, 2, OpKind::kPut, "b", "2", std::nullopt});
  MapStateMachine copy;
  ASSERT_TRUE(copy.Restore(machine.SnapshotImage(), machine.applied_index()).ok());
  EXPECT_EQ(copy.data(), machine.data());
  EXPECT_EQ(copy.Digest(), machine.Digest());
  EXPECT_EQ(copy.applied_index(), 2u);
  EXPECT_FALSE(copy.Restore("\x05", 3).ok());
}

}  // namespace
}  // namespace ekv::node
