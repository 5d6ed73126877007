// Conversion between core's raft::Message and its wire form in the Raft transport.
#pragma once

#include "absl/status/statusor.h"
#include "core/raft/types.h"
#include "proto/raft_transport.pb.h"

namespace ekv::runtime {

void ToProto(const raft::Message& message, internal::RaftMessage* out);
// Validates enum ranges so a corrupt or hostile peer cannot inject impossible messages.
absl::StatusOr<raft::Message> FromProto(const internal::RaftMessage& message);

}  // namespace ekv::runtime
