// CreateGroup / RetireGroup: the catalog's groups (core/route/catalog.h "Groups"), their
// refusals, the commands' encoding and the catalog image with groups (formats 3 to 6):
// a retired group's record is reclaimed, its id never reused.
#include <string>
#include <utility>
#include <vector>

#include "core/kv/codec.h"
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
  EXPECT_EQ(*catalog.FindGroup(3), (GroupDescriptor{3, {1, 2, 4}, {}, {}, {}}));
  EXPECT_EQ(catalog.created_group_ids(), (CreatedGroupIds{3, 3}));
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
  // Cut over but not yet activated: the move still needs its source, group 3, which no
  // route names any more (it stops serving and gives its largest timestamp first).
  absl::StatusOr<GroupDescriptor> early = catalog.Retire({9, 3});
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(early.status().message(), HasSubstr("its move still needs its source"));
  ASSERT_TRUE(catalog.SetState({9, 2, RouteState::kActive}).ok());
  absl::StatusOr<GroupDescriptor> retired = catalog.Retire({10, 3});
  ASSERT_TRUE(retired.ok()) << retired.status();
  EXPECT_EQ(*retired, (GroupDescriptor{3, {1, 2, 3}, {}, {}, {}}));  // the record as it was
  EXPECT_EQ(catalog.version(), 11u);
  EXPECT_EQ(catalog.FindGroup(3), nullptr);  // reclaimed
  EXPECT_TRUE(catalog.IsRetired(3));
  EXPECT_THAT(catalog.Retire({11, 3}).status().message(), HasSubstr("already retired"));
  EXPECT_EQ(catalog.Retire({11, 3}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(catalog.BeginMove({11, 2, 3}).status().message(), HasSubstr("retired"));
  EXPECT_THAT(catalog.ChangeReplica({11, 3, 4, ReplicaChange::kAdd}).status().message(),
              HasSubstr("is retired"));
  catalog.CheckInvariants();
}

TEST(CatalogGroupsTest, RetiringReclaimsTheRecordAndTheIdIsNeverReused) {
  RouteCatalog catalog = DemoCatalog();
  for (GroupId id : {3, 4, 5}) ASSERT_TRUE(catalog.AddGroup({catalog.version(), id, {1}}).ok());
  ASSERT_TRUE(catalog.Retire({catalog.version(), 4}).ok());
  EXPECT_EQ(catalog.groups().size(), 2u);
  EXPECT_EQ(catalog.created_group_ids(), (CreatedGroupIds{3, 5}));
  EXPECT_TRUE(catalog.IsRetired(4));
  EXPECT_FALSE(catalog.IsRetired(3));
  EXPECT_FALSE(catalog.IsRetired(1));  // initial: outside the created range
  EXPECT_FALSE(catalog.IsRetired(6));  // not created yet
  // Not listed, yet never handed out again: the range keeps it taken.
  EXPECT_THAT(catalog.AddGroup({catalog.version(), 4, {1}}).status().message(),
              HasSubstr("is not above 5"));
  ASSERT_TRUE(catalog.Retire({catalog.version(), 5}).ok());
  ASSERT_TRUE(catalog.Retire({catalog.version(), 3}).ok());
  EXPECT_TRUE(catalog.groups().empty());
  EXPECT_EQ(catalog.MaxKnownGroupId(), 5u);  // with every record gone
  EXPECT_THAT(catalog.AddGroup({catalog.version(), 5, {1}}).status().message(),
              HasSubstr("is not above 5"));
  EXPECT_EQ(catalog.Retire({catalog.version(), 6}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog.Retire({catalog.version(), 1}).status().code(), absl::StatusCode::kNotFound);
  catalog.CheckInvariants();
  // Groups created and retired for ever: the catalog stays the size of its live groups.
  const size_t image_bytes = catalog.Encode().size();
  for (GroupId id = 6; id < 1006; ++id) {
    ASSERT_TRUE(catalog.AddGroup({catalog.version(), id, {1, 2, 3}}).ok());
    ASSERT_TRUE(catalog.Retire({catalog.version(), id}).ok());
  }
  EXPECT_TRUE(catalog.groups().empty());
  EXPECT_EQ(catalog.created_group_ids(), (CreatedGroupIds{3, 1005}));
  // The version and the last id grew from one varint byte to two; nothing else.
  EXPECT_EQ(catalog.Encode().size(), image_bytes + 2);
  catalog.CheckInvariants();
}

TEST(CatalogGroupsTest, APlantedKeptRecordStaysListed) {
  RouteCatalog catalog = DemoCatalog();
  ASSERT_TRUE(catalog.AddGroup({1, 3, {1, 2, 3}}).ok());
  PlantedCatalogBugs bugs;
  bugs.keep_retired_group = true;
  ASSERT_TRUE(catalog.Apply({RetireGroup{2, 3}}, bugs).ok());
  EXPECT_EQ(catalog.version(), 3u);
  EXPECT_NE(catalog.FindGroup(3), nullptr);
  EXPECT_FALSE(catalog.IsRetired(3));
}

// The format-3 image of the demo catalog listing `groups` (id, voters), each with the
// retired byte given, spelled out byte by byte as the format has always been written.
std::string Format3Image(CatalogVersion version,
                         const std::vector<std::pair<GroupId, std::vector<uint64_t>>>& groups,
                         const std::vector<uint8_t>& retired_bytes) {
  std::string image;
  kv::AppendByte(&image, kCatalogFormatWithGroups);
  kv::AppendVarint64(&image, version);
  kv::AppendVarint64(&image, 3);  // next route id
  kv::AppendVarint64(&image, 2);  // routes
  EncodeRoute(&image, RouteDescriptor{1, "", "m", 1, RouteState::kActive, 0}, true);
  EncodeRoute(&image, RouteDescriptor{2, "m", "", 2, RouteState::kActive, 0}, true);
  kv::AppendVarint64(&image, groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    kv::AppendVarint64(&image, groups[i].first);
    kv::AppendByte(&image, retired_bytes[i]);
    kv::AppendVarint64(&image, groups[i].second.size());
    for (uint64_t voter : groups[i].second) kv::AppendVarint64(&image, voter);
  }
  return image;
}

void ExpectRoundTrip(const RouteCatalog& catalog) {
  const std::string image = catalog.Encode();
  absl::StatusOr<RouteCatalog> decoded = RouteCatalog::Decode(image);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, catalog);
  EXPECT_EQ(decoded->Digest(), catalog.Digest());
  EXPECT_EQ(decoded->Encode(), image);
  // Every truncation is refused, never asserted on.
  for (size_t n = 0; n < image.size(); ++n) {
    EXPECT_FALSE(RouteCatalog::Decode(image.substr(0, n)).ok()) << "prefix of " << n << " bytes";
  }
}

TEST(CatalogGroupsTest, ImageWithGroupsRoundTripsAndOlderImagesStayByteForByte) {
  RouteCatalog catalog = DemoCatalog();
  const std::string before = catalog.Encode();
  EXPECT_EQ(before[0], static_cast<char>(kCatalogFormat));  // no group: the old format
  ASSERT_TRUE(catalog.AddGroup({1, 3, {1, 2, 3}}).ok());
  ASSERT_TRUE(catalog.AddGroup({2, 4, {2, 4, 5}}).ok());
  ASSERT_TRUE(catalog.AddGroup({3, 5, {1}}).ok());
  EXPECT_EQ(catalog.Encode(),
            Format3Image(4, {{3, {1, 2, 3}}, {4, {2, 4, 5}}, {5, {1}}}, {0, 0, 0}));
  ExpectRoundTrip(catalog);
  // A reclaimed record between two listed ones is a gap the old format holds: still
  // format 3, the same bytes as a catalog that never listed group 4.
  ASSERT_TRUE(catalog.Retire({4, 4}).ok());
  EXPECT_EQ(catalog.Encode(), Format3Image(5, {{3, {1, 2, 3}}, {5, {1}}}, {0, 0}));
  EXPECT_EQ(catalog.created_group_ids(), (CreatedGroupIds{3, 5}));
  ExpectRoundTrip(catalog);
  absl::StatusOr<RouteCatalog> decoded = RouteCatalog::Decode(catalog.Encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->IsRetired(4));
}

TEST(CatalogGroupsTest, AnEndOfTheCreatedRangeRetiredNeedsFormat6) {
  for (GroupId retire : {3, 5}) {
    RouteCatalog catalog = DemoCatalog();
    ASSERT_TRUE(catalog.AddGroup({1, 3, {1, 2, 3}}).ok());
    ASSERT_TRUE(catalog.AddGroup({2, 4, {2, 4, 5}}).ok());
    ASSERT_TRUE(catalog.AddGroup({3, 5, {1}}).ok());
    ASSERT_TRUE(catalog.ChangeReplica({4, 4, 1, ReplicaChange::kAdd}).ok());
    ASSERT_TRUE(catalog.Retire({5, retire}).ok());
    const std::string image = catalog.Encode();
    EXPECT_EQ(image[0], static_cast<char>(kCatalogFormatWithRetired)) << retire;
    ExpectRoundTrip(catalog);
    absl::StatusOr<RouteCatalog> decoded = RouteCatalog::Decode(image);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->created_group_ids(), (CreatedGroupIds{3, 5}));
    EXPECT_TRUE(decoded->IsRetired(retire));
    EXPECT_EQ(decoded->FindGroup(4)->joined, (std::vector<uint64_t>{1}));
  }
  // Every group retired: format 6 with no group listed, the range alone.
  RouteCatalog catalog = DemoCatalog();
  ASSERT_TRUE(catalog.AddGroup({1, 3, {1, 2, 3}}).ok());
  ASSERT_TRUE(catalog.Retire({2, 3}).ok());
  EXPECT_EQ(catalog.Encode()[0], static_cast<char>(kCatalogFormatWithRetired));
  ExpectRoundTrip(catalog);
  // A range that does not hold the listed groups is refused.
  std::string bad = catalog.Encode();
  bad[bad.size() - 2] = 0;  // first = 0
  EXPECT_EQ(RouteCatalog::Decode(bad).status().code(), absl::StatusCode::kDataLoss);
  bad = catalog.Encode();
  bad[bad.size() - 2] = 4;  // first 4 > last 3
  EXPECT_EQ(RouteCatalog::Decode(bad).status().code(), absl::StatusCode::kDataLoss);
}

TEST(CatalogGroupsTest, AnImageWithATombstoneDecodesWithTheRecordReclaimed) {
  // Written before records were reclaimed: groups 3, 4 and 5 created, 3 and 5 retired
  // (retired byte 1), each kept as a tombstone.
  const std::string old_image =
      Format3Image(6, {{3, {1, 2, 3}}, {4, {2, 4, 5}}, {5, {1}}}, {1, 0, 1});
  absl::StatusOr<RouteCatalog> decoded = RouteCatalog::Decode(old_image);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->version(), 6u);
  EXPECT_EQ(decoded->groups().size(), 1u);
  EXPECT_EQ(*decoded->FindGroup(4), (GroupDescriptor{4, {2, 4, 5}, {}, {}, {}}));
  EXPECT_EQ(decoded->created_group_ids(), (CreatedGroupIds{3, 5}));
  EXPECT_TRUE(decoded->IsRetired(3));
  EXPECT_TRUE(decoded->IsRetired(5));
  EXPECT_EQ(decoded->MaxKnownGroupId(), 5u);  // 5 is never given out again
  decoded->CheckInvariants();
  ExpectRoundTrip(*decoded);
  // A retired byte other than 0 or 1 is refused.
  EXPECT_EQ(RouteCatalog::Decode(Format3Image(6, {{3, {1}}}, {2})).status().code(),
            absl::StatusCode::kDataLoss);
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
