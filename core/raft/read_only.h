// Bookkeeping of linearizable read requests on the leader (Raft thesis §6.4).
//
// A ReadIndex request records the commit index at arrival, then waits until a heartbeat
// round started after it is acknowledged by a quorum, proving the leader was still the
// leader when the read arrived. Requests are served in arrival order.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/raft/types.h"

namespace ekv::raft {

struct ReadIndexStatus {
  Message request;  // the original kReadIndex (from = requester)
  Index index = 0;  // commit index when the request arrived
  std::set<NodeId> acks;
};

class ReadOnly {
 public:
  void AddRequest(Index index, const Message& request);
  // Records that `from` acknowledged the heartbeat round carrying `context`; returns the
  // acks of that request (empty if unknown).
  const std::set<NodeId>* RecvAck(NodeId from, const std::string& context);
  // Removes and returns every request up to and including the one with `context`.
  std::vector<ReadIndexStatus> Advance(const std::string& context);
  // Context of the newest pending request ("" when none).
  std::string LastPendingRequestContext() const;
  size_t pending() const { return queue_.size(); }
  void Reset();

 private:
  std::map<std::string, ReadIndexStatus> pending_;
  std::deque<std::string> queue_;
};

}  // namespace ekv::raft
