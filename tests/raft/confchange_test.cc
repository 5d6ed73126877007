// ConfChange encoding: round trips, and malformed input yields an error, never a crash.
#include "core/raft/confchange.h"

#include <string>
#include <vector>

#include "core/util/rng.h"
#include "gtest/gtest.h"

namespace ekv::raft {
namespace {

std::vector<ConfChange> Samples() {
  std::vector<ConfChange> out;
  out.push_back(ConfChange{});  // leave-joint
  out.push_back(ConfChange{ConfChangeTransition::kAuto, {{ConfChangeType::kAddVoter, 4}}, ""});
  out.push_back(ConfChange{ConfChangeTransition::kJointImplicit,
                           {{ConfChangeType::kAddVoter, 4}, {ConfChangeType::kRemoveVoter, 3}},
                           "ctx"});
  out.push_back(ConfChange{ConfChangeTransition::kJointExplicit,
                           {{ConfChangeType::kAddLearner, UINT64_MAX},
                            {ConfChangeType::kRemoveVoter, 0},
                            {ConfChangeType::kAddVoter, 1}},
                           std::string("\0binary\xff", 8)});
  return out;
}

TEST(ConfChangeCodecTest, RoundTrip) {
  for (const ConfChange& change : Samples()) {
    absl::StatusOr<ConfChange> decoded = DecodeConfChange(EncodeConfChange(change));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, change) << DescribeConfChange(change);
  }
}

TEST(ConfChangeCodecTest, EveryTruncationIsAnError) {
  for (const ConfChange& change : Samples()) {
    const std::string encoded = EncodeConfChange(change);
    for (size_t n = 0; n < encoded.size(); ++n) {
      EXPECT_FALSE(DecodeConfChange(encoded.substr(0, n)).ok()) << n;
    }
    EXPECT_FALSE(DecodeConfChange(encoded + "x").ok());  // trailing garbage
  }
}

TEST(ConfChangeCodecTest, BadFieldsAreErrors) {
  std::string encoded = EncodeConfChange(Samples()[1]);
  std::string bad_version = encoded;
  bad_version[0] = 9;
  EXPECT_FALSE(DecodeConfChange(bad_version).ok());
  std::string bad_transition = encoded;
  bad_transition[1] = 3;
  EXPECT_FALSE(DecodeConfChange(bad_transition).ok());
  std::string bad_type = encoded;
  bad_type[10] = 7;  // version, transition, 8-byte count, then the first type byte
  EXPECT_FALSE(DecodeConfChange(bad_type).ok());
  std::string huge_count = encoded;
  for (int i = 2; i < 10; ++i) huge_count[i] = '\xff';
  EXPECT_FALSE(DecodeConfChange(huge_count).ok());
  std::string huge_context = EncodeConfChange(ConfChange{});
  for (size_t i = huge_context.size() - 8; i < huge_context.size(); ++i) huge_context[i] = '\xff';
  EXPECT_FALSE(DecodeConfChange(huge_context).ok());
}

TEST(ConfChangeCodecTest, RandomGarbageNeverCrashes) {
  Rng rng(20240611);
  int decoded_ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string data(rng.Uniform(40), '\0');
    for (char& c : data) c = static_cast<char>(rng.Uniform(256));
    if (i % 2 == 0 && data.size() >= 2) {
      data[0] = 1;  // valid version, to get past the first check more often
      data[1] = static_cast<char>(rng.Uniform(3));
    }
    absl::StatusOr<ConfChange> result = DecodeConfChange(data);
    if (result.ok()) {
      ++decoded_ok;
      // Whatever decodes must re-encode to the same bytes (the format is canonical).
      EXPECT_EQ(EncodeConfChange(*result), data);
    }
  }
  SUCCEED() << decoded_ok << " random inputs happened to decode";
}

TEST(ConfChangeTest, EnterJointRules) {
  bool auto_leave = true;
  EXPECT_FALSE(Samples()[1].EnterJoint(&auto_leave));  // single change, auto: simple
  EXPECT_TRUE(Samples()[2].EnterJoint(&auto_leave));
  EXPECT_TRUE(auto_leave);
  EXPECT_TRUE(Samples()[3].EnterJoint(&auto_leave));
  EXPECT_FALSE(auto_leave);  // explicit
  ConfChange two{ConfChangeTransition::kAuto,
                 {{ConfChangeType::kAddVoter, 4}, {ConfChangeType::kAddVoter, 5}},
                 ""};
  EXPECT_TRUE(two.EnterJoint(&auto_leave));
  EXPECT_TRUE(auto_leave);
}

}  // namespace
}  // namespace ekv::raft
