#include "core/raft/confchange.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ekv::raft {
namespace {

constexpr uint8_t kConfChangeFormatVersion = 1;

void PutFixed64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool GetFixed64(absl::string_view& in, uint64_t* v) {
  if (in.size() < 8) return false;
  *v = 0;
  for (int i = 0; i < 8; ++i) *v |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  in.remove_prefix(8);
  return true;
}

}  // namespace

bool ConfChange::EnterJoint(bool* auto_leave) const {
  // A single change can go through the simple protocol unless joint is requested.
  if (transition != ConfChangeTransition::kAuto || changes.size() > 1) {
    *auto_leave = transition != ConfChangeTransition::kJointExplicit;
    return true;
  }
  *auto_leave = false;
  return false;
}

std::string EncodeConfChange(const ConfChange& change) {
  std::string out;
  out.push_back(static_cast<char>(kConfChangeFormatVersion));
  out.push_back(static_cast<char>(change.transition));
  PutFixed64(out, change.changes.size());
  for (const ConfChangeSingle& single : change.changes) {
    out.push_back(static_cast<char>(single.type));
    PutFixed64(out, single.node);
  }
  PutFixed64(out, change.context.size());
  out.append(change.context);
  return out;
}

absl::StatusOr<ConfChange> DecodeConfChange(absl::string_view in) {
  auto corrupt = [](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("malformed ConfChange: ", why));
  };
  if (in.size() < 2) return corrupt("too short");
  if (static_cast<uint8_t>(in[0]) != kConfChangeFormatVersion) return corrupt("unknown version");
  const uint8_t transition = static_cast<uint8_t>(in[1]);
  if (transition > static_cast<uint8_t>(ConfChangeTransition::kJointExplicit)) {
    return corrupt("unknown transition");
  }
  in.remove_prefix(2);
  ConfChange change;
  change.transition = static_cast<ConfChangeTransition>(transition);
  uint64_t count = 0;
  if (!GetFixed64(in, &count) || count > in.size() / 9) return corrupt("bad change count");
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t type = static_cast<uint8_t>(in[0]);
    if (type > static_cast<uint8_t>(ConfChangeType::kAddLearner)) return corrupt("unknown type");
    in.remove_prefix(1);
    ConfChangeSingle single;
    single.type = static_cast<ConfChangeType>(type);
    if (!GetFixed64(in, &single.node)) return corrupt("truncated node id");
    change.changes.push_back(single);
  }
  uint64_t context_size = 0;
  if (!GetFixed64(in, &context_size) || context_size != in.size()) return corrupt("bad context");
  change.context = std::string(in);
  return change;
}

std::string DescribeConfChange(const ConfChange& change) {
  if (change.changes.empty()) return "leave-joint";
  std::vector<std::string> parts;
  for (const ConfChangeSingle& single : change.changes) {
    const char* prefix = single.type == ConfChangeType::kAddVoter     ? "v"
                         : single.type == ConfChangeType::kAddLearner ? "l"
                                                                      : "r";
    parts.push_back(absl::StrCat(prefix, single.node));
  }
  std::string out = absl::StrJoin(parts, " ");
  if (change.transition == ConfChangeTransition::kJointImplicit) absl::StrAppend(&out, " (joint)");
  if (change.transition == ConfChangeTransition::kJointExplicit) {
    absl::StrAppend(&out, " (joint-explicit)");
  }
  return out;
}

}  // namespace ekv::raft
