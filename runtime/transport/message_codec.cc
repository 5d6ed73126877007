#include "runtime/transport/message_codec.h"

#include "absl/strings/str_cat.h"

namespace ekv::runtime {
namespace {

void ConfStateToProto(const raft::ConfState& cs, internal::RaftConfState* out) {
  for (raft::NodeId id : cs.voters) out->add_voters(id);
  for (raft::NodeId id : cs.voters_outgoing) out->add_voters_outgoing(id);
  for (raft::NodeId id : cs.learners) out->add_learners(id);
  for (raft::NodeId id : cs.learners_next) out->add_learners_next(id);
  out->set_auto_leave(cs.auto_leave);
}

raft::ConfState ConfStateFromProto(const internal::RaftConfState& cs) {
  raft::ConfState out;
  out.voters.assign(cs.voters().begin(), cs.voters().end());
  out.voters_outgoing.assign(cs.voters_outgoing().begin(), cs.voters_outgoing().end());
  out.learners.assign(cs.learners().begin(), cs.learners().end());
  out.learners_next.assign(cs.learners_next().begin(), cs.learners_next().end());
  out.auto_leave = cs.auto_leave();
  return out;
}

}  // namespace

void ToProto(const raft::Message& m, internal::RaftMessage* out) {
  out->set_group(m.group);
  out->set_type(static_cast<uint32_t>(m.type));
  out->set_from(m.from);
  out->set_to(m.to);
  out->set_term(m.term);
  out->set_log_term(m.log_term);
  out->set_index(m.index);
  out->set_commit(m.commit);
  out->set_reject(m.reject);
  out->set_reject_hint(m.reject_hint);
  out->set_context(m.context);
  out->set_lease_tick(m.lease_tick);
  out->mutable_entries()->Reserve(static_cast<int>(m.entries.size()));
  for (const raft::Entry& e : m.entries) {
    internal::RaftEntry* entry = out->add_entries();
    entry->set_term(e.term);
    entry->set_index(e.index);
    entry->set_type(static_cast<uint32_t>(e.type));
    entry->set_data(e.data);
  }
  if (!m.snapshot.IsEmpty()) {
    internal::RaftSnapshot* snap = out->mutable_snapshot();
    snap->set_index(m.snapshot.metadata.index);
    snap->set_term(m.snapshot.metadata.term);
    ConfStateToProto(m.snapshot.metadata.conf_state, snap->mutable_conf_state());
    snap->set_data(m.snapshot.data);
  }
}

absl::StatusOr<raft::Message> FromProto(const internal::RaftMessage& in) {
  if (in.type() > static_cast<uint32_t>(raft::MessageType::kReadIndexResp)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown raft message type ", in.type()));
  }
  raft::Message m;
  m.group = in.group();
  m.type = static_cast<raft::MessageType>(in.type());
  if (raft::IsLocalMessage(m.type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("local raft message ", raft::MessageTypeName(m.type), " on the wire"));
  }
  m.from = in.from();
  m.to = in.to();
  m.term = in.term();
  m.log_term = in.log_term();
  m.index = in.index();
  m.commit = in.commit();
  m.reject = in.reject();
  m.reject_hint = in.reject_hint();
  m.context = in.context();
  m.lease_tick = in.lease_tick();
  m.entries.reserve(in.entries_size());
  for (const internal::RaftEntry& e : in.entries()) {
    if (e.type() > static_cast<uint32_t>(raft::EntryType::kConfChange)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown raft entry type ", e.type()));
    }
    m.entries.push_back(
        raft::Entry{e.term(), e.index(), static_cast<raft::EntryType>(e.type()), e.data()});
  }
  if (in.has_snapshot() && in.snapshot().index() != 0) {
    m.snapshot.metadata.index = in.snapshot().index();
    m.snapshot.metadata.term = in.snapshot().term();
    m.snapshot.metadata.conf_state = ConfStateFromProto(in.snapshot().conf_state());
    m.snapshot.data = in.snapshot().data();
  }
  return m;
}

}  // namespace ekv::runtime
