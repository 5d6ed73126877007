// The recording code of the linearizability test, fed doctored histories: the checker
// must reject a stale read, respect the "unknown write" meaning of a failed RawPut and
// ignore failed reads. No cluster needed.
#include "tests/integration/history_recorder.h"

#include "gtest/gtest.h"
#include "sim/checkers/linearizability.h"

namespace ekv::integration {
namespace {

using checkers::LinearizabilityResult;
using Verdict = LinearizabilityResult::Verdict;

const grpc::Status kUnavailable(grpc::StatusCode::UNAVAILABLE, "write outcome unknown");

void Write(HistoryRecorder& r, uint64_t client, const std::string& value, uint64_t from,
           uint64_t to, const grpc::Status& status = grpc::Status::OK) {
  r.EndWrite(r.BeginWrite(client, "k", value, from), status, to);
}

void Read(HistoryRecorder& r, uint64_t client, const std::string& value, uint64_t from, uint64_t to,
          const grpc::Status& status = grpc::Status::OK) {
  r.EndRead(r.BeginRead(client, "k", from), status, !value.empty(), value, to);
}

Verdict Check(const HistoryRecorder& r) { return checkers::CheckLinearizable(r.history()).verdict; }

TEST(HistoryRecorderTest, StaleReadIsAViolation) {
  HistoryRecorder r;
  Write(r, 1, "v1", 10, 20);
  Write(r, 1, "v2", 30, 40);
  Read(r, 2, "v1", 50, 60);  // v2 was acknowledged before this read began
  EXPECT_EQ(Check(r), Verdict::kViolation);
}

TEST(HistoryRecorderTest, ReadOfNeverWrittenValueIsAViolation) {
  HistoryRecorder r;
  Write(r, 1, "v1", 10, 20);
  Read(r, 2, "ghost", 30, 40);
  EXPECT_EQ(Check(r), Verdict::kViolation);
}

TEST(HistoryRecorderTest, FailedWriteIsUnknownAndMayTakeEffectLater) {
  HistoryRecorder r;
  Write(r, 1, "v1", 10, 20);
  Write(r, 2, "v2", 30, 40, kUnavailable);
  Read(r, 3, "v2", 100, 110);  // the unknown write took effect after its error reply
  EXPECT_EQ(Check(r), Verdict::kOk);
  Read(r, 3, "v1", 120, 130);  // ...and cannot be undone afterwards
  EXPECT_EQ(Check(r), Verdict::kViolation);
}

TEST(HistoryRecorderTest, InvalidArgumentWriteDefinitelyFailed) {
  HistoryRecorder r;
  Write(r, 1, "v1", 10, 20);
  Write(r, 2, "bad", 30, 40, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no"));
  Read(r, 3, "bad", 50, 60);
  EXPECT_EQ(Check(r), Verdict::kViolation);
}

TEST(HistoryRecorderTest, FailedReadTellsNothing) {
  HistoryRecorder r;
  Write(r, 1, "v1", 10, 20);
  Read(r, 2, "garbage", 30, 40, grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "slow"));
  Read(r, 2, "v1", 50, 60);
  EXPECT_EQ(Check(r), Verdict::kOk);
}

TEST(HistoryRecorderTest, AbsentKeyReadsAsNil) {
  HistoryRecorder r;
  Read(r, 1, "", 1, 2);  // exists=false before any write: fine
  Write(r, 1, "v1", 10, 20);
  Read(r, 2, "", 30, 40);  // absent after an acknowledged write: not fine
  EXPECT_EQ(Check(r), Verdict::kViolation);
}

TEST(HistoryRecorderTest, InjectedStaleReadTurnsACleanHistoryIntoAViolation) {
  HistoryRecorder r;
  Write(r, 1, "v1", 10, 20);
  Read(r, 2, "v1", 15, 25);
  Write(r, 1, "v2", 30, 40);
  Read(r, 2, "v2", 45, 50);
  ASSERT_EQ(Check(r), Verdict::kOk);
  std::optional<checkers::History> doctored = WithInjectedStaleRead(r.history());
  ASSERT_TRUE(doctored.has_value());
  EXPECT_EQ(doctored->size(), r.size() + 1);
  EXPECT_EQ(checkers::CheckLinearizable(*doctored).verdict, Verdict::kViolation);
}

}  // namespace
}  // namespace ekv::integration
