// SigV4 verification (adapters/dynamo/sigv4.h) against AWS's published Signature Version 4
// test-suite requests (get-vanilla, post-vanilla, get-vanilla-query-order-key-case:
// AKIDEXAMPLE, 20150830T123600Z, us-east-1, service "service"), which botocore signs the
// same way, and the refusals DynamoDB answers for each kind of bad request.
#include "adapters/dynamo/sigv4.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace ekv::dynamo {
namespace {

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kDate[] = "20150830T123600Z";

absl::Time SigningTime() {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime("%E4Y%m%dT%H%M%SZ", kDate, absl::UTCTimeZone(), &t, &error)) << error;
  return t;
}

SignedRequest Vanilla(
    std::string method, std::string signature,
    std::string credential = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request") {
  SignedRequest request;
  request.method = std::move(method);
  request.path = "/";
  request.headers = {
      {"Host", "example.amazonaws.com"},
      {"X-Amz-Date", kDate},
      {"Authorization", "AWS4-HMAC-SHA256 Credential=" + credential +
                            ", SignedHeaders=host;x-amz-date, Signature=" + signature},
  };
  return request;
}

SigV4Verifier TestVerifier() {
  return SigV4Verifier({{"AKIDEXAMPLE", kSecret}, {"OTHERKEY", "other-secret"}}, "service");
}

std::string NameOf(const std::optional<AuthFailure>& failure) {
  return failure.has_value() ? failure->name : "accepted";
}

TEST(SigV4Test, DigestsMatchTheirDefinitions) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231 test case 2.
  EXPECT_EQ(absl::BytesToHexString(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SigV4Test, AcceptsAwsTestSuiteSignatures) {
  const SigV4Verifier verifier = TestVerifier();
  const absl::Time now = SigningTime() + absl::Minutes(3);
  auto get = verifier.Verify(
      Vanilla("GET", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"), now);
  EXPECT_FALSE(get.has_value()) << get->name << ": " << get->message;
  auto post = verifier.Verify(
      Vanilla("POST", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"), now);
  EXPECT_FALSE(post.has_value()) << post->name << ": " << post->message;
  SignedRequest query =
      Vanilla("GET", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  query.query = {{"Param2", "value2"}, {"Param1", "value1"}};  // sorted by the verifier
  auto with_query = verifier.Verify(query, now);
  EXPECT_FALSE(with_query.has_value()) << with_query->name << ": " << with_query->message;
}

TEST(SigV4Test, RefusesWhatDynamoDbRefuses) {
  const SigV4Verifier verifier = TestVerifier();
  const absl::Time now = SigningTime();
  const std::string good = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

  SignedRequest tampered = Vanilla("GET", good);
  tampered.body = "{}";  // the payload hash no longer matches
  auto bad_body = verifier.Verify(tampered, now);
  ASSERT_EQ(NameOf(bad_body), "InvalidSignatureException");
  EXPECT_EQ(bad_body->message,
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.");
  EXPECT_EQ(NameOf(verifier.Verify(Vanilla("POST", good), now)), "InvalidSignatureException");
  // The right signature for another key's secret.
  EXPECT_EQ(NameOf(verifier.Verify(
                Vanilla("GET", good, "OTHERKEY/20150830/us-east-1/service/aws4_request"), now)),
            "InvalidSignatureException");

  auto unknown =
      verifier.Verify(Vanilla("GET", good, "NOBODY/20150830/us-east-1/service/aws4_request"), now);
  ASSERT_EQ(NameOf(unknown), "UnrecognizedClientException");
  EXPECT_EQ(unknown->message, "The security token included in the request is invalid.");

  auto expired = verifier.Verify(Vanilla("GET", good), now + absl::Minutes(16));
  ASSERT_EQ(NameOf(expired), "InvalidSignatureException");
  EXPECT_EQ(expired->message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z "
            "(20150830T125200Z - 15 min.)");
  EXPECT_EQ(NameOf(verifier.Verify(Vanilla("GET", good), now - absl::Minutes(16))),
            "InvalidSignatureException");

  EXPECT_EQ(NameOf(verifier.Verify(
                Vanilla("GET", good, "AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request"), now)),
            "InvalidSignatureException");
  EXPECT_EQ(NameOf(verifier.Verify(
                Vanilla("GET", good, "AKIDEXAMPLE/20150831/us-east-1/service/aws4_request"), now)),
            "InvalidSignatureException");

  SignedRequest anonymous = Vanilla("GET", good);
  anonymous.headers.pop_back();
  auto missing = verifier.Verify(anonymous, now);
  ASSERT_EQ(NameOf(missing), "MissingAuthenticationTokenException");
  EXPECT_EQ(missing->message, "Request is missing Authentication Token");
  EXPECT_EQ(AuthFailureBody(*missing),
            R"({"__type":"com.amazon.coral.service#MissingAuthenticationTokenException",)"
            R"("message":"Request is missing Authentication Token"})");

  SignedRequest no_date = Vanilla("GET", good);
  no_date.headers.erase(no_date.headers.begin() + 1);
  EXPECT_EQ(NameOf(verifier.Verify(no_date, now)), "IncompleteSignatureException");
  SignedRequest no_signature = Vanilla("GET", good);
  no_signature.headers.back().second =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
  auto incomplete = verifier.Verify(no_signature, now);
  ASSERT_EQ(NameOf(incomplete), "IncompleteSignatureException");
  EXPECT_EQ(incomplete->message,
            "Authorization header requires 'Signature' parameter. Authorization header "
            "requires 'SignedHeaders' parameter.");
  // No failure text carries a secret.
  for (const auto& failure : {bad_body, unknown, expired, missing, incomplete}) {
    EXPECT_EQ(failure->message.find(kSecret), std::string::npos);
  }
}

TEST(SigV4Test, CredentialsFileIsCheckedAndPrivate) {
  const std::string path = ::testing::TempDir() + "/sigv4_credentials";
  {
    std::ofstream out(path);
    out << "# access key id, secret access key\n\nAKIDEXAMPLE " << kSecret << "\nK2  s2\n";
  }
  chmod(path.c_str(), 0644);
  auto readable = SigV4Verifier::FromFile(path);
  ASSERT_FALSE(readable.ok());
  EXPECT_NE(readable.status().message().find("readable by users other than its owner"),
            std::string::npos);
  chmod(path.c_str(), 0600);
  auto verifier = SigV4Verifier::FromFile(path);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_EQ(verifier->key_count(), 2u);
  {
    std::ofstream out(path);
    out << "AKIDEXAMPLE " << kSecret << " extra\n";
  }
  auto malformed = SigV4Verifier::FromFile(path);
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.status().message().find("line 1"), std::string::npos);
  EXPECT_EQ(malformed.status().message().find(kSecret), std::string::npos);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace ekv::dynamo
