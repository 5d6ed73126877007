#include "core/raft/types.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ekv::raft {

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kHup:
      return "MsgHup";
    case MessageType::kBeat:
      return "MsgBeat";
    case MessageType::kProp:
      return "MsgProp";
    case MessageType::kApp:
      return "MsgApp";
    case MessageType::kAppResp:
      return "MsgAppResp";
    case MessageType::kVote:
      return "MsgVote";
    case MessageType::kVoteResp:
      return "MsgVoteResp";
    case MessageType::kPreVote:
      return "MsgPreVote";
    case MessageType::kPreVoteResp:
      return "MsgPreVoteResp";
    case MessageType::kSnap:
      return "MsgSnap";
    case MessageType::kHeartbeat:
      return "MsgHeartbeat";
    case MessageType::kHeartbeatResp:
      return "MsgHeartbeatResp";
    case MessageType::kUnreachable:
      return "MsgUnreachable";
    case MessageType::kSnapStatus:
      return "MsgSnapStatus";
    case MessageType::kCheckQuorum:
      return "MsgCheckQuorum";
    case MessageType::kTransferLeader:
      return "MsgTransferLeader";
    case MessageType::kTimeoutNow:
      return "MsgTimeoutNow";
    case MessageType::kReadIndex:
      return "MsgReadIndex";
    case MessageType::kReadIndexResp:
      return "MsgReadIndexResp";
  }
  return "MsgUnknown";
}

bool IsLocalMessage(MessageType type) {
  return type == MessageType::kHup || type == MessageType::kBeat ||
         type == MessageType::kUnreachable || type == MessageType::kSnapStatus ||
         type == MessageType::kCheckQuorum;
}

bool IsResponseMessage(MessageType type) {
  return type == MessageType::kAppResp || type == MessageType::kVoteResp ||
         type == MessageType::kHeartbeatResp || type == MessageType::kUnreachable ||
         type == MessageType::kPreVoteResp || type == MessageType::kReadIndexResp;
}

const char* StateTypeName(StateType state) {
  switch (state) {
    case StateType::kFollower:
      return "StateFollower";
    case StateType::kCandidate:
      return "StateCandidate";
    case StateType::kLeader:
      return "StateLeader";
    case StateType::kPreCandidate:
      return "StatePreCandidate";
  }
  return "StateUnknown";
}

std::string DescribeEntry(const Entry& entry) {
  std::string out = absl::StrCat(entry.term, "/", entry.index);
  if (entry.type == EntryType::kConfChange) {
    absl::StrAppend(&out, " EntryConfChange");
  } else {
    absl::StrAppend(&out, " EntryNormal");
  }
  absl::StrAppend(&out, " ",
                  entry.data.size() <= 32 ? absl::StrCat("\"", entry.data, "\"")
                                          : absl::StrCat("<", entry.data.size(), "B>"));
  return out;
}

std::string DescribeMessage(const Message& m) {
  std::string out = absl::StrCat(m.from, "->", m.to, " ", MessageTypeName(m.type), " Term:", m.term,
                                 " Log:", m.log_term, "/", m.index);
  if (m.reject) absl::StrAppend(&out, " Rejected (Hint: ", m.reject_hint, ")");
  if (m.commit != 0) absl::StrAppend(&out, " Commit:", m.commit);
  if (!m.entries.empty()) {
    absl::StrAppend(&out, " Entries:[");
    for (size_t i = 0; i < m.entries.size(); ++i) {
      if (i > 0) absl::StrAppend(&out, ", ");
      absl::StrAppend(&out, DescribeEntry(m.entries[i]));
    }
    absl::StrAppend(&out, "]");
  }
  if (!m.snapshot.IsEmpty()) {
    absl::StrAppend(&out, " Snapshot: Index:", m.snapshot.metadata.index,
                    " Term:", m.snapshot.metadata.term,
                    " ConfState:", DescribeConfState(m.snapshot.metadata.conf_state));
  }
  if (!m.context.empty()) absl::StrAppend(&out, " Context:\"", m.context, "\"");
  return out;
}

std::string DescribeHardState(const HardState& hs) {
  return absl::StrCat("Term:", hs.term, " Vote:", hs.vote, " Commit:", hs.commit);
}

std::string DescribeConfState(const ConfState& cs) {
  std::string out = absl::StrCat("Voters:[", absl::StrJoin(cs.voters, " "), "]");
  if (!cs.voters_outgoing.empty()) {
    absl::StrAppend(&out, "&&[", absl::StrJoin(cs.voters_outgoing, " "), "]");
  }
  absl::StrAppend(&out, " Learners:[", absl::StrJoin(cs.learners, " "), "]");
  if (!cs.learners_next.empty()) {
    absl::StrAppend(&out, " LearnersNext:[", absl::StrJoin(cs.learners_next, " "), "]");
  }
  if (cs.auto_leave) absl::StrAppend(&out, " AutoLeave");
  return out;
}

}  // namespace ekv::raft
