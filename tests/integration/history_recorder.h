// HistoryRecorder: turns RawPut/RawGet calls made by real gRPC clients into a
// checkers::History for the linearizability checker. Thread-safe.
//
// How gRPC outcomes map onto the checker's outcomes (the heart of an outside-in test):
//   - OK write: kOk. OK read: kOk with the value read (exists=false: the key is absent).
//   - A failed write is kUnknown: this server answers UNAVAILABLE or DEADLINE_EXCEEDED when a
//     write may or may not have been applied (e.g. a forward to a leader that died), and
//     the client cannot tell. Only INVALID_ARGUMENT, which the server returns before
//     proposing anything, is a definite failure.
//   - A failed read is kFailed: a read has no effect, so an unanswered one tells nothing.
// Times are the caller's monotonic microseconds, taken just before the call and just
// after its reply, so every real-time order the checker relies on was observed.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "grpcpp/grpcpp.h"
#include "sim/checkers/history.h"

namespace ekv::integration {

checkers::Operation::Outcome WriteOutcomeOf(const grpc::Status& status);
checkers::Operation::Outcome ReadOutcomeOf(const grpc::Status& status);

class HistoryRecorder {
 public:
  uint64_t BeginWrite(uint64_t client, const std::string& key, const std::string& value,
                      uint64_t invoke_us);
  void EndWrite(uint64_t id, const grpc::Status& status, uint64_t complete_us);
  uint64_t BeginRead(uint64_t client, const std::string& key, uint64_t invoke_us);
  void EndRead(uint64_t id, const grpc::Status& status, bool exists, const std::string& value,
               uint64_t complete_us);

  checkers::History history() const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  checkers::History history_;  // guarded by mu_
};

// The planted bug for testing the test: a copy of `history` plus one read that returns a
// value already overwritten before the read began (a stale read). Nullopt when the history
// has no key with two ok writes ordered in real time.
std::optional<checkers::History> WithInjectedStaleRead(const checkers::History& history);

}  // namespace ekv::integration
