#include "sim/raft_safety.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ekv::sim {
namespace {

uint64_t HashEntry(const raft::Entry& entry) {
  uint64_t hash = 0xcbf29ce484222325ULL ^ static_cast<uint64_t>(entry.type);
  for (char c : entry.data) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace

void RaftSafetyChecker::Fail(std::string what) {
  if (violation_.empty()) violation_ = std::move(what);
}

void RaftSafetyChecker::OnApply(NodeIndex node, raft::GroupId group, const raft::Entry& entry) {
  ++applied_checks_;
  // Only committed entries are applied: the group committed at least this far, even if
  // the node crashed before its commit index was observed.
  raft::Index& cluster_commit = max_commit_[group];
  cluster_commit = std::max(cluster_commit, entry.index);
  const Fingerprint seen{entry.term, HashEntry(entry), node};
  auto [it, inserted] = applied_.try_emplace(std::make_pair(group, entry.index), seen);
  if (inserted) return;
  if (it->second.term != seen.term || it->second.data_hash != seen.data_hash) {
    Fail(absl::StrCat(
        "state machine safety: group ", group, " index ", entry.index, " applied as term ",
        it->second.term, " on n", it->second.first_node, " but as term ", seen.term,
        " (different bytes: ", it->second.data_hash != seen.data_hash, ") on n", node));
  }
}

void RaftSafetyChecker::OnRestart(NodeIndex node) {
  for (auto it = progress_.begin(); it != progress_.end();) {
    it = it->first.first == node ? progress_.erase(it) : std::next(it);
  }
}

void RaftSafetyChecker::Observe(NodeIndex node, const node::NodeHost& host) {
  host.VisitSummaries([&](raft::GroupId group, const node::GroupProgressSummary& status) {
    if (status.state == raft::StateType::kLeader) {
      auto [it, inserted] = leaders_.try_emplace(std::make_pair(group, status.term), node);
      if (!inserted && it->second != node) {
        Fail(absl::StrCat("election safety: group ", group, " has two leaders in term ",
                          status.term, ": n", it->second, " and n", node));
      }
    }
    // try_emplace, not emplace: no map node is allocated (and freed) when the key exists,
    // which is every call but the first (this runs after every event).
    auto [it, inserted] = progress_.try_emplace(std::make_pair(node, group),
                                                std::make_pair(status.commit, status.applied));
    if (!inserted) {
      if (status.commit < it->second.first) {
        Fail(absl::StrCat("commit index of group ", group, " on n", node, " went back from ",
                          it->second.first, " to ", status.commit));
      }
      if (status.applied < it->second.second) {
        Fail(absl::StrCat("applied index of group ", group, " on n", node, " went back from ",
                          it->second.second, " to ", status.applied));
      }
      it->second = {status.commit, status.applied};
    }
    uint64_t& cluster_commit = max_commit_[group];
    cluster_commit = std::max(cluster_commit, status.commit);
    // A durable state machine may be ahead of its own Raft after a restart or a snapshot
    // install, but never ahead of what the group committed anywhere.
    const raft::Index bound = status.durable_state_machine ? cluster_commit : status.commit;
    if (status.applied > bound) {
      Fail(absl::StrCat("group ", group, " on n", node, " applied ", status.applied, " beyond ",
                        bound == status.commit ? "its" : "the group's", " commit index ", bound));
    }
  });
}

}  // namespace ekv::sim
