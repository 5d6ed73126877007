// CreateGroup / RetireGroup: the catalog's groups (core/route/catalog.h "Groups"), their
// refusals, the commands' encoding and the catalog image with groups (format 3).
#include <string>
#include <vector>

#include "core/route/catalog.h"
#include "core/route/catalog_command.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/route/test_catalogs.h"

namespace ekv::route {
namespace {

using ::ekv::route::testing::DemoCatalog;
using ::testing::HasSubstr;

TEST(CatalogGroupsTest, CreatesAGroupAboveEveryKnownOneAndListsIt) {
  RouteCatalog catalog = DemoCatalog();  // routes on groups 1 and 2, no group listed
  EXPECT_EQ(catalog.MaxKnownGroupId(), 2u);
  absl::StatusOr<CatalogDelta> delta = catalog.Apply({CreateGroup{1, 3, {1, 2, 4}}});
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_EQ(delta->version, 2u);
  EXPECT_TRUE(delta->removed_route_ids.empty());
  EXPECT_TRUE(delta->upserted_routes.empty());
  ASSERT_NE(catalog.FindGroup(3), nullptr);
  EXPECT_EQ(*catalog.FindGroup(3), (GroupDescriptor{3, {1, 2, 4}, false, {}, {}, {}}));
  EXPECT_EQ(catalog.FindGroup(1), nullptr);  // initial groups are not listed
  EXPECT_EQ(catalog.MaxKnownGroupId(), 3u);
  catalog.CheckInvariants();
}

TEST(CatalogGroupsTest, RefusesIdsThatAreNotNewAndBadVoters) {
  RouteCatalog catalog = DemoCatalog();
  EXPECT_THAT(catalog.AddGroup({1, 2, {1, 2, 3}}).status().message(),
              HasSubstr("is not above 2"));  // group 2 holds a route
  EXPECT_EQ(catalog.AddGroup({7, 3, {1, 2, 3}}).status().code(),
            absl::StatusCode::kFailedPrecondition);  // stale version
  EXPECT_EQ(catalog.AddGroup({1, 3, {}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.AddGroup({1, 3, {2, 1}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.AddGroup({1, 3, {1, 1}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.AddGroup({1, 3, {0, 1}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.AddGroup({1, 3, {1, 2, 3, 4, 5, 6, 7, 8}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.version(), 1u);  // nothing changed
  ASSERT_TRUE(catalog.AddGroup({1, 5, {1}}).ok());
  // Retired or live, a listed id is never given out again.
  EXPECT_EQ(catalog.AddGroup({2, 5, {2}}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(catalog.AddGroup({2, 4, {2}}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(CatalogGroupsTest, RetiresOnlyAnEmptyCreatedGroupAndNeverRoutesToItAgain) {
  RouteCatalog catalog = DemoCatalog();
  ASSERT_TRUE(catalog.AddGroup({1, 3, {1, 2, 3}}).ok());
  // Route 2 moves to group 3.
  ASSERT_TRUE(catalog.BeginMove({2, 2, 3}).ok());
  EXPECT_THAT(catalog.Retire({3, 3}).status().message(), HasSubstr("is moving to group 3"));
  ASSERT_TRUE(catalog.SetState({3, 2, RouteState::kWriteFenced}).ok());
  ASSERT_TRUE(catalog.Reassign({4, 2, 3}).ok());
  EXPECT_THAT(catalog.Retire({5, 3}).status().message(), HasSubstr("is on group 3"));
  EXPECT_EQ(catalog.Retire({5, 1}).status().code(), absl::StatusCode::kNotFound);  // initial
  // And back to group 2: now group 3 is empty.
  ASSERT_TRUE(catalog.SetState({5, 2, RouteState::kActive}).ok());
  ASSERT_TRUE(catalog.BeginMove({6, 2, 2}).ok());
  ASSERT_TRUE(catalog.SetState({7, 2, RouteState::kWriteFenced}).ok());
  ASSERT_TRUE(catalog.Reassign({8, 2, 2}).ok());
  absl::StatusOr<GroupDescriptor> retired = catalog.Retire({9, 3});
  ASSERT_TRUE(retired.ok()) << retired.status();
  EXPECT_TRUE(retired->retired);
  EXPECT_EQ(catalog.version(), 10u);
  EXPECT_EQ(catalog.Retire({10, 3}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(catalog.BeginMove({10, 2, 3}).status().message(), HasSubstr("retired"));
  catalog.CheckInvariants();
}

TEST(CatalogGroupsTest, ImageWithGroupsRoundTripsAndOlderImagesStayByteForByte) {
  RouteCatalog catalog = DemoCatalog();
  const std::string before = catalog.Encode();
  EXPECT_EQ(before[0], static_cast<char>(kCatalogFormat));  // no group: the old format
  ASSERT_TRUE(catalog.AddGroup({1, 3, {1, 2, 3}}).ok());
  ASSERT_TRUE(catalog.AddGroup({2, 4, {2, 4, 5}}).ok());
  ASSERT_TRUE(catalog.Retire({3, 4}).ok());
  const std::string image = catalog.Encode();
  EXPECT_EQ(image[0], static_cast<char>(kCatalogFormatWithGroups));
  absl::StatusOr<RouteCatalog> decoded = RouteCatalog::Decode(image);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, catalog);
  EXPECT_EQ(decoded->Digest(), catalog.Digest());
  // Every truncation is refused, never asserted on.
  for (size_t n = 0; n < image.size(); ++n) {
    EXPECT_FALSE(RouteCatalog::Decode(image.substr(0, n)).ok()) << "prefix of " << n << " bytes";
  }
}

TEST(CatalogGroupsTest, CommandsRoundTripThroughTheirEncoding) {
  for (const CatalogCommand& command :
       {CatalogCommand{CreateGroup{4, 9, {1, 3, 5}}}, CatalogCommand{RetireGroup{5, 9}}}) {
    absl::StatusOr<CatalogCommand> decoded = CatalogCommand::Decode(command.Encode());
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, command) << FormatCommand(command);
  }
  EXPECT_EQ(FormatCommand({CreateGroup{4, 9, {1, 3, 5}}}),
            "CreateGroup{expected_version=4 group=9 voters=1,3,5}");
  // A voter count above the bound is refused before anything is allocated.
  std::string bad = CatalogCommand{CreateGroup{4, 9, {1}}}.Encode();
  bad[bad.size() - 2] = 100;
  EXPECT_EQ(CatalogCommand::Decode(bad).status().code(), absl::StatusCode::kDataLoss);
}

TEST(CatalogGroupsTest, RecordsReplicaMovesAndRefusesWhatCannotBe) {
  RouteCatalog catalog = DemoCatalog();
  ASSERT_TRUE(catalog.AddGroup({1, 3, {1, 2, 3}}).ok());
  using RC = ReplicaChange;
  // Node 4 joins, node 1 leaves: a move of 1's replica to 4.
  absl::StatusOr<CatalogDelta> delta = catalog.Apply({ChangeGroupReplica{2, 3, 4, RC::kAdd}});
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_EQ(delta->version, 3u);
  EXPECT_TRUE(delta->upserted_routes.empty());
  ASSERT_TRUE(catalog.ChangeReplica({3, 3, 1, RC::kRemove}).ok());
  const GroupDescriptor& group = *catalog.FindGroup(3);
  EXPECT_EQ(group.voters, (std::vector<uint64_t>{1, 2, 3}));  // the bootstrap voters stay
  EXPECT_EQ(group.joined, (std::vector<uint64_t>{4}));
  EXPECT_EQ(group.removed, (std::vector<uint64_t>{1}));
  EXPECT_EQ(group.Replicas(), (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_TRUE(group.WasRemoved(1));
  EXPECT_FALSE(group.IsReplica(1));
  catalog.CheckInvariants();
  // Refusals: each leaves the catalog as it was.
  const uint64_t v = catalog.version();
  EXPECT_THAT(catalog.ChangeReplica({v, 3, 4, RC::kAdd}).status().message(),
              HasSubstr("already hosts it"));
  EXPECT_THAT(catalog.ChangeReplica({v, 3, 1, RC::kAdd}).status().message(),
              HasSubstr("joined again with an empty data dir"));
  EXPECT_THAT(catalog.ChangeReplica({v, 3, 1, RC::kRemove}).status().message(),
              HasSubstr("does not host it"));
  EXPECT_EQ(catalog.ChangeReplica({v - 1, 3, 5, RC::kAdd}).status().code(),
            absl::StatusCode::kFailedPrecondition);  // stale version
  EXPECT_EQ(catalog.ChangeReplica({v, 1, 5, RC::kAdd}).status().code(),
            absl::StatusCode::kNotFound);  // an initial group
  EXPECT_EQ(catalog.ChangeReplica({v, 3, 0, RC::kAdd}).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(catalog.ChangeReplica({v, 3, 2, RC::kRemove}).ok());
  ASSERT_TRUE(catalog.ChangeReplica({v + 1, 3, 3, RC::kRemove}).ok());
  EXPECT_THAT(catalog.ChangeReplica({v + 2, 3, 4, RC::kRemove}).status().message(),
              HasSubstr("last replica"));
  EXPECT_EQ(catalog.version(), v + 2);
  catalog.CheckInvariants();
}

TEST(CatalogGroupsTest, ReplicaRecordsSurviveTheImageAndTheCommandEncoding) {
  RouteCatalog catalog = DemoCatalog();
  ASSERT_TRUE(catalog.AddGroup({1, 3, {1, 2, 3}}).ok());
  // No replica change yet: still format 3, byte for byte.
  EXPECT_EQ(catalog.Encode()[0], static_cast<char>(kCatalogFormatWithGroups));
  ASSERT_TRUE(catalog.ChangeReplica({2, 3, 5, ReplicaChange::kAdd}).ok());
  ASSERT_TRUE(catalog.ChangeReplica({3, 3, 2, ReplicaChange::kRemove}).ok());
  const std::string image = catalog.Encode();
  EXPECT_EQ(image[0], static_cast<char>(kCatalogFormatWithReplicas));
  absl::StatusOr<RouteCatalog> decoded = RouteCatalog::Decode(image);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, catalog);
  for (size_t cut = 0; cut < image.size(); ++cut) {
    EXPECT_FALSE(RouteCatalog::Decode(image.substr(0, cut)).ok()) << cut;
  }
  const CatalogCommand command{ChangeGroupReplica{4, 3, 6, ReplicaChange::kRemove}};
  absl::StatusOr<CatalogCommand> round_trip = CatalogCommand::Decode(command.Encode());
  ASSERT_TRUE(round_trip.ok()) << round_trip.status();
  EXPECT_EQ(*round_trip, command);
  EXPECT_EQ(FormatCommand(command), "ChangeGroupReplica{expected_version=4 group=3 remove=6}");
  std::string bad = command.Encode();
  bad.back() = 7;  // not a change
  EXPECT_FALSE(CatalogCommand::Decode(bad).ok());
}

TEST(CatalogGroupsTest, AReadmittedNodeMayJoinAgainButNeverBootstraps) {
  RouteCatalog catalog = DemoCatalog();
  ASSERT_TRUE(catalog.AddGroup({1, 3, {1, 2, 3}}).ok());
  using RC = ReplicaChange;
  // Bootstrap voter 1 and joined node 4 are both moved off (drained, then removed).
  ASSERT_TRUE(catalog.ChangeReplica({2, 3, 4, RC::kAdd}).ok());
  ASSERT_TRUE(catalog.ChangeReplica({3, 3, 5, RC::kAdd}).ok());
  ASSERT_TRUE(catalog.ChangeReplica({4, 3, 1, RC::kRemove}).ok());
  ASSERT_TRUE(catalog.ChangeReplica({5, 3, 4, RC::kRemove}).ok());
  EXPECT_EQ(catalog.FindGroup(3)->Replicas(), (std::vector<uint64_t>{2, 3, 5}));
  // Only a removed node is readmitted.
  EXPECT_THAT(catalog.ChangeReplica({6, 3, 2, RC::kReadmit}).status().message(),
              HasSubstr("was not removed from it"));
  ASSERT_TRUE(catalog.ChangeReplica({6, 3, 1, RC::kReadmit}).ok());
  ASSERT_TRUE(catalog.ChangeReplica({7, 3, 4, RC::kReadmit}).ok());
  {
    const GroupDescriptor& group = *catalog.FindGroup(3);
    EXPECT_EQ(group.voters, (std::vector<uint64_t>{1, 2, 3}));  // never changes
    EXPECT_EQ(group.readmitted, (std::vector<uint64_t>{1}));    // 1 never bootstraps again
    EXPECT_EQ(group.joined, (std::vector<uint64_t>{5}));        // 4 forgotten
    EXPECT_TRUE(group.removed.empty());
    EXPECT_EQ(group.Replicas(), (std::vector<uint64_t>{2, 3, 5}));  // readmitted: not a replica
    EXPECT_FALSE(group.Bootstraps(1));
    EXPECT_TRUE(group.Bootstraps(2));
  }
  EXPECT_THAT(catalog.ChangeReplica({8, 3, 1, RC::kReadmit}).status().message(),
              HasSubstr("was not removed from it"));
  // Both may be added again; node 1 then joins (it is listed as joined, not bootstrapping).
  ASSERT_TRUE(catalog.ChangeReplica({8, 3, 1, RC::kAdd}).ok());
  ASSERT_TRUE(catalog.ChangeReplica({9, 3, 4, RC::kAdd}).ok());
  EXPECT_EQ(catalog.FindGroup(3)->joined, (std::vector<uint64_t>{1, 4, 5}));
  EXPECT_EQ(catalog.FindGroup(3)->Replicas(), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  catalog.CheckInvariants();
  // Removed again (down, say): barred again until the next rejoin.
  ASSERT_TRUE(catalog.ChangeReplica({10, 3, 1, RC::kRemove}).ok());
  EXPECT_THAT(catalog.ChangeReplica({11, 3, 1, RC::kAdd}).status().message(),
              HasSubstr("joined again with an empty data dir"));
  ASSERT_TRUE(catalog.ChangeReplica({11, 3, 1, RC::kReadmit}).ok());
  EXPECT_EQ(catalog.FindGroup(3)->readmitted, (std::vector<uint64_t>{1}));
  EXPECT_EQ(catalog.FindGroup(3)->joined, (std::vector<uint64_t>{4, 5}));
  catalog.CheckInvariants();
  // Format 5 while a voter is readmitted; the image and the command round-trip.
  const std::string image = catalog.Encode();
  EXPECT_EQ(image[0], static_cast<char>(kCatalogFormatWithReadmits));
  absl::StatusOr<RouteCatalog> decoded = RouteCatalog::Decode(image);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, catalog);
  for (size_t cut = 0; cut < image.size(); ++cut) {
    EXPECT_FALSE(RouteCatalog::Decode(image.substr(0, cut)).ok()) << cut;
  }
  const CatalogCommand command{ChangeGroupReplica{4, 3, 6, RC::kReadmit}};
  absl::StatusOr<CatalogCommand> round_trip = CatalogCommand::Decode(command.Encode());
  ASSERT_TRUE(round_trip.ok()) << round_trip.status();
  EXPECT_EQ(*round_trip, command);
  EXPECT_EQ(FormatCommand(command), "ChangeGroupReplica{expected_version=4 group=3 readmit=6}");
}

}  // namespace
}  // namespace ekv::route
