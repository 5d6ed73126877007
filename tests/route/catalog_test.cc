#include "core/route/catalog.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "core/kv/codec.h"
#include "core/route/catalog_command.h"
#include "core/util/rng.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/route/test_catalogs.h"

namespace ekv::route {
namespace {

using ::ekv::route::testing::DemoCatalog;
using ::ekv::route::testing::RandomSplit;
using ::testing::HasSubstr;

TEST(RouteTest, ContainsTreatsEmptyEndAsInfinity) {
  RouteDescriptor left{1, "", "m", 1, RouteState::kActive, 0};
  RouteDescriptor right{2, "m", "", 2, RouteState::kActive, 0};
  EXPECT_TRUE(left.Contains(""));
  EXPECT_TRUE(left.Contains("lzzz"));
  EXPECT_FALSE(left.Contains("m"));
  EXPECT_TRUE(right.Contains("m"));
  EXPECT_TRUE(right.Contains("\xff\xff\xff"));
  EXPECT_FALSE(right.Contains("a"));
}

TEST(RouteTest, FormatsForHumans) {
  RouteDescriptor route{3, "", "g", 1, RouteState::kActive, 1};
  EXPECT_EQ(FormatRoute(route), "route 3 [\"\", \"g\") group 1 ACTIVE parent 1");
  route.end = "";
  route.start = "\x01z";
  route.state = RouteState::kMigratingTarget;
  EXPECT_EQ(FormatRoute(route), "route 3 [\"\\x01z\", +inf) group 1 MIGRATING_TARGET parent 1");
  EXPECT_EQ(RouteStateName(RouteState::kWriteFenced), "ROUTE_STATE_WRITE_FENCED");
}

TEST(RouteTest, StateNumbersMatchThePublicEnum) {
  EXPECT_EQ(static_cast<int>(RouteState::kUnspecified), 0);
  EXPECT_EQ(static_cast<int>(RouteState::kActive), 1);
  EXPECT_EQ(static_cast<int>(RouteState::kWriteFenced), 2);
  EXPECT_EQ(static_cast<int>(RouteState::kMigratingSource), 3);
  EXPECT_EQ(static_cast<int>(RouteState::kMigratingTarget), 4);
}

// ---- Bootstrap -------------------------------------------------------------------------

TEST(BootstrapTest, DemoTopologyIsVersionOneWithIdsOneAndTwo) {
  RouteCatalog catalog = DemoCatalog();
  EXPECT_EQ(catalog.version(), 1u);
  EXPECT_EQ(catalog.next_route_id(), 3u);
  std::vector<RouteDescriptor> routes = catalog.ListRoutes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0], (RouteDescriptor{1, "", "m", 1, RouteState::kActive, 0}));
  EXPECT_EQ(routes[1], (RouteDescriptor{2, "m", "", 2, RouteState::kActive, 0}));
}

TEST(BootstrapTest, AcceptsRangesInAnyOrderAndNumbersThemInKeyOrder) {
  auto catalog = RouteCatalog::Bootstrap({{"t", "", 3}, {"", "f", 1}, {"f", "t", 2}});
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->RouteForKey("a")->route_id, 1u);
  EXPECT_EQ(catalog->RouteForKey("g")->route_id, 2u);
  EXPECT_EQ(catalog->RouteForKey("zz")->route_id, 3u);
}

TEST(BootstrapTest, SingleRangeCoversEverything) {
  auto catalog = RouteCatalog::Bootstrap({{"", "", 7}});
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->RouteForKey("anything")->raft_group_id, 7u);
}

struct BadTopology {
  const char* name;
  std::vector<InitialRange> ranges;
  const char* message;
};

TEST(BootstrapTest, RejectsBadTopologies) {
  const std::vector<BadTopology> cases = {
      {"empty", {}, "no ranges"},
      {"missing start", {{"a", "", 1}}, "gap [\"\", \"a\")"},
      {"missing end", {{"", "m", 1}}, "gap [\"m\", +inf)"},
      {"gap", {{"", "f", 1}, {"g", "", 2}}, "gap [\"f\", \"g\")"},
      {"overlap", {{"", "g", 1}, {"f", "", 2}}, "overlap"},
      {"duplicate start", {{"", "", 1}, {"", "m", 2}}, "overlap"},
      {"two infinite ends", {{"", "", 1}, {"m", "", 2}}, "overlap"},
      {"empty range", {{"", "m", 1}, {"m", "m", 2}, {"m", "", 3}}, "is empty"},
      {"reversed range", {{"", "m", 1}, {"m", "a", 2}}, "is empty"},
      {"group zero", {{"", "", 0}}, "raft group 0"},
      {"huge key",
       {{"", std::string(kMaxRouteKeyBytes + 1, 'k'), 1},
        {std::string(kMaxRouteKeyBytes + 1, 'k'), "", 1}},
       "at most"},
  };
  for (const BadTopology& bad : cases) {
    auto catalog = RouteCatalog::Bootstrap(bad.ranges);
    ASSERT_FALSE(catalog.ok()) << bad.name;
    EXPECT_EQ(catalog.status().code(), absl::StatusCode::kInvalidArgument) << bad.name;
    EXPECT_THAT(catalog.status().message(), HasSubstr(bad.message)) << bad.name;
  }
}

// ---- SplitRange ------------------------------------------------------------------------

TEST(SplitRangeTest, ReferenceExampleSplitsRouteOneAtG) {
  RouteCatalog catalog = DemoCatalog();
  auto result = catalog.Split({1, 1, "g"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->catalog_version, 2u);
  EXPECT_EQ(result->left, (RouteDescriptor{3, "", "g", 1, RouteState::kActive, 1}));
  EXPECT_EQ(result->right, (RouteDescriptor{4, "g", "m", 1, RouteState::kActive, 1}));
  EXPECT_EQ(catalog.version(), 2u);
  EXPECT_EQ(catalog.next_route_id(), 5u);
  EXPECT_EQ(catalog.FindRoute(1), nullptr);
  std::vector<RouteDescriptor> routes = catalog.ListRoutes();
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[0].route_id, 3u);
  EXPECT_EQ(routes[1].route_id, 4u);
  EXPECT_EQ(routes[2].route_id, 2u);
  EXPECT_EQ(result->delta, (CatalogDelta{2, {1}, {result->left, result->right}}));
  catalog.CheckInvariants();
}

TEST(SplitRangeTest, IdsAreNeverReused) {
  RouteCatalog catalog = DemoCatalog();
  ASSERT_TRUE(catalog.Split({1, 1, "g"}).ok());
  auto again = catalog.Split({2, 4, "j"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->left.route_id, 5u);
  EXPECT_EQ(again->right.route_id, 6u);
  EXPECT_EQ(again->left.parent_route_id, 4u);
  EXPECT_EQ(again->catalog_version, 3u);
}

TEST(SplitRangeTest, SplitsTheInfiniteRoute) {
  RouteCatalog catalog = DemoCatalog();
  auto result = catalog.Split({1, 2, "x"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->left, (RouteDescriptor{3, "m", "x", 2, RouteState::kActive, 2}));
  EXPECT_EQ(result->right, (RouteDescriptor{4, "x", "", 2, RouteState::kActive, 2}));
}

void ExpectRefusedAndUnchanged(RouteCatalog& catalog, const SplitRange& split,
                               absl::StatusCode code, const std::string& message) {
  const std::string before = catalog.Encode();
  auto result = catalog.Split(split);
  ASSERT_FALSE(result.ok()) << FormatCommand({split});
  EXPECT_EQ(result.status().code(), code) << result.status();
  EXPECT_THAT(result.status().message(), HasSubstr(message));
  EXPECT_EQ(catalog.Encode(), before) << "a refused command must not change the catalog";
}

TEST(SplitRangeTest, VersionMismatchIsFailedPreconditionNamingBothVersions) {
  RouteCatalog catalog = DemoCatalog();
  ExpectRefusedAndUnchanged(catalog, {7, 1, "g"}, absl::StatusCode::kFailedPrecondition,
                            "expected_catalog_version is 7 but the catalog is at version 1");
  ExpectRefusedAndUnchanged(catalog, {0, 1, "g"}, absl::StatusCode::kFailedPrecondition,
                            "expected_catalog_version is 0");
}

TEST(SplitRangeTest, UnknownRouteIsNotFound) {
  RouteCatalog catalog = DemoCatalog();
  ExpectRefusedAndUnchanged(catalog, {1, 9, "g"}, absl::StatusCode::kNotFound,
                            "route 9 does not exist");
  // A split parent is gone too.
  ASSERT_TRUE(catalog.Split({1, 1, "g"}).ok());
  ExpectRefusedAndUnchanged(catalog, {2, 1, "c"}, absl::StatusCode::kNotFound,
                            "route 1 does not exist");
}

TEST(SplitRangeTest, SplitKeyMustBeStrictlyInside) {
  RouteCatalog catalog = DemoCatalog();
  ExpectRefusedAndUnchanged(catalog, {1, 1, ""}, absl::StatusCode::kInvalidArgument,
                            "not strictly inside route 1");
  ExpectRefusedAndUnchanged(catalog, {1, 1, "m"}, absl::StatusCode::kInvalidArgument,
                            "expected \"\" < split_key < \"m\"");
  ExpectRefusedAndUnchanged(catalog, {1, 1, "z"}, absl::StatusCode::kInvalidArgument,
                            "not strictly inside");
  ExpectRefusedAndUnchanged(catalog, {1, 2, "m"}, absl::StatusCode::kInvalidArgument,
                            "expected \"m\" < split_key < +inf");
  ExpectRefusedAndUnchanged(catalog, {1, 2, "a"}, absl::StatusCode::kInvalidArgument,
                            "not strictly inside");
  ExpectRefusedAndUnchanged(catalog, {1, 2, std::string(kMaxRouteKeyBytes + 1, 'x')},
                            absl::StatusCode::kInvalidArgument, "at most");
}

TEST(SplitRangeTest, OnlyActiveRoutesSplit) {
  RouteCatalog catalog = DemoCatalog();
  ASSERT_TRUE(catalog.SetState({1, 1, RouteState::kWriteFenced}).ok());
  ExpectRefusedAndUnchanged(catalog, {2, 1, "g"}, absl::StatusCode::kFailedPrecondition,
                            "ROUTE_STATE_WRITE_FENCED; expected ROUTE_STATE_ACTIVE");
}

TEST(SplitRangeTest, TwoSplitsAgainstTheSameVersionExactlyOneWins) {
  // Two coordinators read version 1 and propose conflicting splits; the log orders them.
  const CatalogCommand first{SplitRange{1, 1, "g"}};
  const CatalogCommand second{SplitRange{1, 1, "c"}};
  for (bool first_wins : {true, false}) {
    RouteCatalog catalog = DemoCatalog();
    const CatalogCommand& winner = first_wins ? first : second;
    const CatalogCommand& loser = first_wins ? second : first;
    // Replicas apply the encoded log entries.
    auto w = catalog.Apply(*CatalogCommand::Decode(winner.Encode()));
    auto l = catalog.Apply(*CatalogCommand::Decode(loser.Encode()));
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(l.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(l.status().message(),
                HasSubstr("expected_catalog_version is 1 but the catalog is at version 2"));
    EXPECT_EQ(catalog.version(), 2u);
    EXPECT_EQ(catalog.route_count(), 3u);
  }
  // Same splits against the same version on a different route: still only one wins.
  RouteCatalog catalog = DemoCatalog();
  ASSERT_TRUE(catalog.Split({1, 2, "x"}).ok());
  EXPECT_EQ(catalog.Split({1, 1, "g"}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SplitRangeTest, ReplicasApplyingTheSameLogAgree) {
  Rng rng(42);
  RouteCatalog leader = DemoCatalog();
  RouteCatalog follower = DemoCatalog();
  std::vector<std::string> log;
  for (int i = 0; i < 200; ++i) {
    const std::string key = testing::RandomKey(rng);
    const RouteDescriptor* route = leader.RouteForKey(key);
    // Some entries are stale on purpose (the version of a few commands ago).
    const CatalogVersion expected = leader.version() - (rng.Chance(0.2) ? 1 : 0);
    log.push_back(CatalogCommand{SplitRange{expected, route->route_id, key}}.Encode());
    (void)leader.Apply(*CatalogCommand::Decode(log.back()));
  }
  for (const std::string& entry : log) (void)follower.Apply(*CatalogCommand::Decode(entry));
  EXPECT_EQ(leader, follower);
  EXPECT_EQ(leader.Digest(), follower.Digest());
  leader.CheckInvariants();
}

// ---- SetRouteState / ReassignRoute -----------------------------------------------------

TEST(SetRouteStateTest, FencesAndUnfencesWithVersionChecks) {
  RouteCatalog catalog = DemoCatalog();
  auto fenced = catalog.SetState({1, 2, RouteState::kWriteFenced});
  ASSERT_TRUE(fenced.ok()) << fenced.status();
  EXPECT_EQ(fenced->state, RouteState::kWriteFenced);
  EXPECT_EQ(fenced->route_id, 2u);
  EXPECT_EQ(catalog.version(), 2u);
  EXPECT_EQ(catalog.FindRoute(2)->state, RouteState::kWriteFenced);

  EXPECT_EQ(catalog.SetState({1, 2, RouteState::kActive}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(catalog.SetState({2, 5, RouteState::kActive}).status().code(),
            absl::StatusCode::kNotFound);
  auto unspecified = catalog.SetState({2, 2, RouteState::kUnspecified});
  EXPECT_EQ(unspecified.status().code(), absl::StatusCode::kInvalidArgument);
  auto bogus = catalog.SetState({2, 2, static_cast<RouteState>(9)});
  EXPECT_EQ(bogus.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.version(), 2u);

  ASSERT_TRUE(catalog.SetState({2, 2, RouteState::kActive}).ok());
  EXPECT_EQ(catalog.version(), 3u);
}

TEST(SetRouteStateTest, TransitionTable) {
  using S = RouteState;
  EXPECT_TRUE(RouteStateTransitionAllowed(S::kActive, S::kWriteFenced));
  EXPECT_TRUE(RouteStateTransitionAllowed(S::kActive, S::kMigratingSource));
  EXPECT_FALSE(RouteStateTransitionAllowed(S::kActive, S::kActive));
  EXPECT_FALSE(RouteStateTransitionAllowed(S::kActive, S::kMigratingTarget));
  EXPECT_TRUE(RouteStateTransitionAllowed(S::kWriteFenced, S::kMigratingTarget));
  EXPECT_TRUE(RouteStateTransitionAllowed(S::kMigratingTarget, S::kActive));
  EXPECT_FALSE(RouteStateTransitionAllowed(S::kMigratingSource, S::kMigratingTarget));
  EXPECT_FALSE(RouteStateTransitionAllowed(S::kUnspecified, S::kActive));

  RouteCatalog catalog = DemoCatalog();
  auto refused = catalog.SetState({1, 1, RouteState::kMigratingTarget});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("cannot go from ROUTE_STATE_ACTIVE to ROUTE_STATE_MIGRATING_TARGET"));
}

TEST(ReassignRouteTest, MoveIsFenceReassignActivate) {
  RouteCatalog catalog = DemoCatalog();
  ASSERT_TRUE(catalog.Split({1, 1, "g"}).ok());  // v2: routes 3 ["", "g"), 4 ["g", "m")
  auto active = catalog.Reassign({2, 4, 3});
  EXPECT_EQ(active.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(active.status().message(), HasSubstr("ROUTE_STATE_ACTIVE; expected it fenced"));

  ASSERT_TRUE(catalog.SetState({2, 4, RouteState::kWriteFenced}).ok());  // v3
  EXPECT_EQ(catalog.Reassign({3, 4, 0}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.Reassign({3, 4, 1}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.Reassign({2, 4, 3}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(catalog.Reassign({3, 8, 3}).status().code(), absl::StatusCode::kNotFound);

  auto moved = catalog.Reassign({3, 4, 3});  // v4
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, (RouteDescriptor{4, "g", "m", 3, RouteState::kWriteFenced, 1}));
  ASSERT_TRUE(catalog.SetState({4, 4, RouteState::kActive}).ok());  // v5
  EXPECT_EQ(catalog.RouteForKey("h")->raft_group_id, 3u);
  EXPECT_EQ(catalog.RouteForKey("h")->state, RouteState::kActive);
  EXPECT_EQ(catalog.version(), 5u);
  catalog.CheckInvariants();
}

TEST(ApplyTest, DeltasDescribeEachCommand) {
  RouteCatalog catalog = DemoCatalog();
  auto fence = catalog.Apply({SetRouteState{1, 1, RouteState::kWriteFenced}});
  ASSERT_TRUE(fence.ok());
  EXPECT_EQ(*fence, (CatalogDelta{2, {}, {{1, "", "m", 1, RouteState::kWriteFenced, 0}}}));
  auto move = catalog.Apply({ReassignRoute{2, 1, 5}});
  ASSERT_TRUE(move.ok());
  EXPECT_EQ(*move, (CatalogDelta{3, {}, {{1, "", "m", 5, RouteState::kWriteFenced, 0}}}));
}

// ---- Encoding --------------------------------------------------------------------------

TEST(CatalogCommandTest, RoundTripsEveryKind) {
  const std::vector<CatalogCommand> commands = {
      {SplitRange{1, 1, "g"}},
      {SplitRange{1ull << 40, ~0ull, std::string("\0\xff", 2)}},
      {SetRouteState{3, 4, RouteState::kMigratingSource}},
      {ReassignRoute{5, 6, 7}},
  };
  for (const CatalogCommand& command : commands) {
    auto decoded = CatalogCommand::Decode(command.Encode());
    ASSERT_TRUE(decoded.ok()) << FormatCommand(command) << ": " << decoded.status();
    EXPECT_EQ(*decoded, command) << FormatCommand(command);
  }
  EXPECT_EQ(FormatCommand(commands[0]), "SplitRange{expected_version=1 route=1 split_key=\"g\"}");
}

TEST(CatalogCommandTest, GarbageIsAnError) {
  const std::string good = CatalogCommand{SplitRange{1, 1, "g"}}.Encode();
  std::vector<std::string> garbage = {
      "",         "\x02",     std::string("\x01", 1),
      "\x01\x09", good + "x", std::string("\x01\x02\x01\x01\x07", 5)};
  for (size_t cut = 0; cut < good.size(); ++cut) garbage.push_back(good.substr(0, cut));
  for (const std::string& bytes : garbage) {
    auto decoded = CatalogCommand::Decode(bytes);
    EXPECT_FALSE(decoded.ok()) << absl::CHexEscape(bytes);
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  }
  Rng rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes;
    const uint64_t length = rng.Uniform(24);
    for (uint64_t j = 0; j < length; ++j) bytes.push_back(static_cast<char>(rng.Uniform(256)));
    auto decoded = CatalogCommand::Decode(bytes);  // must not crash; either answer is fine
    if (decoded.ok()) {
      EXPECT_EQ(*CatalogCommand::Decode(decoded->Encode()), *decoded);
    }
  }
}

TEST(CatalogEncodingTest, RoundTripsAndDigestsAfterRandomSplits) {
  Rng rng(3);
  RouteCatalog catalog = DemoCatalog();
  for (int i = 0; i < 300; ++i) RandomSplit(catalog, rng);
  ASSERT_TRUE(catalog
                  .SetState({catalog.version(), catalog.RouteForKey("a")->route_id,
                             RouteState::kWriteFenced})
                  .ok());
  auto decoded = RouteCatalog::Decode(catalog.Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, catalog);
  EXPECT_EQ(decoded->Digest(), catalog.Digest());
  EXPECT_EQ(decoded->next_route_id(), catalog.next_route_id());
  // The decoded catalog keeps working (ids continue, no reuse).
  const RouteDescriptor* route = decoded->RouteForKey("zzzz");
  auto split = decoded->Split({decoded->version(), route->route_id, "zzzzz"});
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ(split->left.route_id, catalog.next_route_id());
  EXPECT_NE(decoded->Digest(), catalog.Digest());
}

TEST(CatalogEncodingTest, GarbageAndInconsistentImagesAreDataLoss) {
  const std::string good = DemoCatalog().Encode();
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_EQ(RouteCatalog::Decode(good.substr(0, cut)).status().code(),
              absl::StatusCode::kDataLoss)
        << cut;
  }
  EXPECT_EQ(RouteCatalog::Decode(good + std::string(1, '\0')).status().code(),
            absl::StatusCode::kDataLoss);

  // Well-formed bytes for catalogs that break invariants.
  auto image = [](CatalogVersion version, RouteId next_id, std::vector<RouteDescriptor> routes) {
    std::string out;
    kv::AppendByte(&out, kCatalogFormat);
    kv::AppendVarint64(&out, version);
    kv::AppendVarint64(&out, next_id);
    kv::AppendVarint64(&out, routes.size());
    for (const RouteDescriptor& route : routes) EncodeRoute(&out, route);
    return out;
  };
  const RouteDescriptor a{1, "", "m", 1, RouteState::kActive, 0};
  const RouteDescriptor b{2, "m", "", 2, RouteState::kActive, 0};
  ASSERT_TRUE(RouteCatalog::Decode(image(1, 3, {a, b})).ok());
  struct Case {
    const char* name;
    std::string bytes;
  };
  RouteDescriptor gap = b;
  gap.start = "n";
  RouteDescriptor same_id = b;
  same_id.route_id = 1;
  RouteDescriptor no_state = b;
  no_state.state = RouteState::kUnspecified;
  RouteDescriptor no_group = b;
  no_group.raft_group_id = 0;
  const std::vector<Case> cases = {
      {"version 0", image(0, 3, {a, b})},       {"id not below next_route_id", image(1, 2, {a, b})},
      {"gap", image(1, 3, {a, gap})},           {"duplicate id", image(1, 3, {a, same_id})},
      {"duplicate start", image(1, 3, {a, a})}, {"unspecified state", image(1, 3, {a, no_state})},
      {"group 0", image(1, 3, {a, no_group})},  {"no routes", image(1, 3, {})},
      {"missing tail", image(1, 3, {a})},
  };
  for (const Case& c : cases) {
    auto decoded = RouteCatalog::Decode(c.bytes);
    ASSERT_FALSE(decoded.ok()) << c.name;
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << c.name;
  }
}

TEST(CatalogDeltaTest, RoundTripsAndRejectsGarbage) {
  RouteCatalog catalog = DemoCatalog();
  auto split = catalog.Split({1, 1, "g"});
  ASSERT_TRUE(split.ok());
  std::string bytes;
  split->delta.Encode(&bytes);
  auto decoded = CatalogDelta::Decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, split->delta);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(CatalogDelta::Decode(bytes.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(CatalogDelta::Decode(bytes + "z").ok());
}

}  // namespace
}  // namespace ekv::route
