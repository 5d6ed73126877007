// The member directory: its codec, its rules, and its life in the catalog group's state
// machine (applied, queried, snapshotted in images and recovered from a durable engine).
#include "core/node/member_directory.h"

#include <memory>
#include <string>

#include "core/node/group_protocol.h"
#include "core/node/group_state_machine.h"
#include "gtest/gtest.h"
#include "tests/node/disk_engine.h"

namespace ekv::node {
namespace {

MemberAddresses Addresses(std::string raft, std::string grpc, std::string redis = "") {
  MemberAddresses addresses;
  addresses.raft_address = std::move(raft);
  addresses.grpc_address = std::move(grpc);
  addresses.redis_address = std::move(redis);
  return addresses;
}
MemberChange Upsert(raft::NodeId node, std::string raft, std::string grpc = "") {
  return {MemberChangeKind::kUpsert, node, Addresses(std::move(raft), std::move(grpc))};
}
MemberChange Remove(raft::NodeId node) { return {MemberChangeKind::kRemove, node, {}}; }

TEST(MemberDirectoryTest, ChangesAndDirectoriesRoundTrip) {
  for (const MemberChange& change : {Upsert(4, "10.0.0.4:50061", "10.0.0.4:50051"), Remove(9)}) {
    absl::StatusOr<MemberChange> decoded = DecodeMemberChange(EncodeMemberChange(change));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, change);
  }
  MemberDirectory directory{{1, Addresses("a:1", "a:2", "a:3")}, {3, Addresses("c:1", "")}};
  directory[3].metrics_address = "c:9";
  absl::StatusOr<MemberDirectory> decoded = DecodeMemberDirectory(EncodeMemberDirectory(directory));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, directory);
}

TEST(MemberDirectoryTest, MalformedBytesAreDataLossNeverACrash) {
  const std::string change = EncodeMemberChange(Upsert(4, "h:1", "h:2"));
  for (size_t cut = 0; cut < change.size(); ++cut) {
    EXPECT_EQ(DecodeMemberChange(change.substr(0, cut)).status().code(),
              absl::StatusCode::kDataLoss)
        << "cut at " << cut;
  }
  EXPECT_FALSE(DecodeMemberChange(change + "x").ok()) << "trailing bytes";
  std::string unknown_kind = change;
  unknown_kind[1] = 3;
  EXPECT_FALSE(DecodeMemberChange(unknown_kind).ok());
  // Node ids must increase: a repeated id would make replicas disagree on which wins.
  MemberDirectory two{{1, Addresses("a", "")}, {2, Addresses("b", "")}};
  std::string bytes = EncodeMemberDirectory(two);
  const size_t second = bytes.find('\x02', 2);
  ASSERT_NE(second, std::string::npos);
  bytes[second] = '\x01';
  EXPECT_EQ(DecodeMemberDirectory(bytes).status().code(), absl::StatusCode::kDataLoss);
}

TEST(MemberDirectoryTest, ValidatesAndAppliesIdempotently) {
  EXPECT_FALSE(ValidateMemberChange(Upsert(0, "h:1")).ok());
  EXPECT_FALSE(ValidateMemberChange(Upsert(4, "")).ok());
  EXPECT_FALSE(ValidateMemberChange(Upsert(4, std::string(kMaxMemberAddressBytes + 1, 'h'))).ok());
  EXPECT_TRUE(ValidateMemberChange(Remove(4)).ok());

  MemberDirectory directory;
  EXPECT_TRUE(ApplyMemberChange(Upsert(4, "h:1"), &directory));
  EXPECT_FALSE(ApplyMemberChange(Upsert(4, "h:1"), &directory)) << "same addresses: no change";
  EXPECT_TRUE(ApplyMemberChange(Upsert(4, "h:9"), &directory)) << "a moved node";
  EXPECT_EQ(directory.at(4).raft_address, "h:9");
  EXPECT_TRUE(ApplyMemberChange(Remove(4), &directory));
  EXPECT_FALSE(ApplyMemberChange(Remove(4), &directory));
  EXPECT_TRUE(directory.empty());
}

route::RouteCatalog DemoCatalog() {
  absl::StatusOr<route::RouteCatalog> catalog =
      route::RouteCatalog::Bootstrap({{"", "m", 1}, {"m", "", 2}});
  EXPECT_TRUE(catalog.ok());
  return *catalog;
}

GroupResult ApplyChange(GroupStateMachine& machine, raft::Index index, const MemberChange& change) {
  GroupCommand command;
  command.op = GroupCommandOp::kMembers;
  command.payload = EncodeMemberChange(change);
  Command out;
  out.kind = OpKind::kApply;
  out.value = EncodeGroupCommand(command);
  ApplyResult applied = machine.Apply(index, out);
  absl::StatusOr<GroupResult> result = DecodeGroupResult(applied.value.value_or(""));
  EXPECT_TRUE(result.ok());
  return *result;
}

MemberDirectory QueryMembers(const GroupStateMachine& machine) {
  GroupQuery query;
  query.op = GroupQueryOp::kMembers;
  std::optional<std::string> answer = machine.Query(EncodeGroupQuery(query));
  EXPECT_TRUE(answer.has_value());
  absl::StatusOr<GroupResult> result = DecodeGroupResult(answer.value_or(""));
  EXPECT_TRUE(result.ok() && result->code == absl::StatusCode::kOk);
  absl::StatusOr<MemberDirectory> directory = DecodeMemberDirectory(result->blob);
  EXPECT_TRUE(directory.ok());
  return directory.value_or(MemberDirectory{});
}

TEST(GroupMembersTest, TheCatalogGroupAppliesChangesAndTellsItsListener) {
  GroupStateMachine machine(1, DemoCatalog());
  std::vector<size_t> heard;
  machine.SetMembersListener([&heard](const MemberDirectory& d) { heard.push_back(d.size()); });
  EXPECT_EQ(heard, std::vector<size_t>{0}) << "told at once what it holds";
  const uint64_t empty_digest = machine.Digest();

  EXPECT_EQ(ApplyChange(machine, 1, Upsert(1, "h1:1", "h1:2")).code, absl::StatusCode::kOk);
  EXPECT_EQ(ApplyChange(machine, 2, Upsert(4, "h4:1", "h4:2")).code, absl::StatusCode::kOk);
  EXPECT_EQ(ApplyChange(machine, 3, Upsert(4, "h4:1", "h4:2")).code, absl::StatusCode::kOk);
  EXPECT_EQ(heard, (std::vector<size_t>{0, 1, 2})) << "a no-op change is not announced";
  EXPECT_EQ(QueryMembers(machine).size(), 2u);
  EXPECT_NE(machine.Digest(), empty_digest);

  // An invalid change is refused, changes nothing, and still marks its entry applied.
  GroupResult refused = ApplyChange(machine, 4, Upsert(0, "h:1"));
  EXPECT_EQ(refused.code, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(machine.applied_index(), 4u);
  EXPECT_EQ(ApplyChange(machine, 5, Remove(1)).code, absl::StatusCode::kOk);
  EXPECT_EQ(machine.members().count(1), 0u);

  // Other groups do not hold the directory.
  GroupStateMachine other(2, std::nullopt, DemoCatalog());
  EXPECT_EQ(ApplyChange(other, 1, Upsert(4, "h4:1")).code, absl::StatusCode::kFailedPrecondition);
}

TEST(GroupMembersTest, AnImageCarriesTheDirectory) {
  GroupStateMachine leader(1, DemoCatalog());
  ApplyChange(leader, 1, Upsert(2, "h2:1", "h2:2"));
  GroupStateMachine follower(1, DemoCatalog());
  MemberDirectory heard;
  follower.SetMembersListener([&heard](const MemberDirectory& d) { heard = d; });
  ASSERT_TRUE(follower.Restore(leader.SnapshotImage(), 1).ok());
  EXPECT_EQ(follower.members(), leader.members());
  EXPECT_EQ(heard, leader.members()) << "a restore is announced";
  EXPECT_EQ(follower.Digest(), leader.Digest());

  // A group without members writes the image it always wrote (older replicas read it).
  GroupStateMachine plain(1, DemoCatalog());
  EXPECT_EQ(plain.SnapshotImage()[0], 2) << "format with ownership, no members";
}

TEST(GroupMembersTest, ADurableGroupRecoversTheDirectoryFromItsEngine) {
  Disk disk;
  uint64_t digest = 0;
  {
    GroupStateMachine machine(1, DemoCatalog(), DemoCatalog(), std::make_unique<DiskEngine>(&disk));
    ApplyChange(machine, 1, Upsert(3, "h3:1", "h3:2"));
    ApplyChange(machine, 2, Upsert(5, "h5:1", "h5:2"));
    digest = machine.Digest();
  }
  GroupStateMachine reopened(1, DemoCatalog(), DemoCatalog(), std::make_unique<DiskEngine>(&disk));
  EXPECT_EQ(reopened.applied_index(), 2u);
  EXPECT_EQ(reopened.members().size(), 2u);
  EXPECT_EQ(reopened.members().at(5).grpc_address, "h5:2");
  EXPECT_EQ(reopened.Digest(), digest);
}

}  // namespace
}  // namespace ekv::node
