// Coordinator: groups as a resource -- creating a Raft group at run time on chosen nodes,
// and retiring an empty one (route::CreateGroup / route::RetireGroup).
//
// The catalog only records the decision; the nodes carry it out as they apply it
// (node/hosted_groups.h): each voter of a new group bootstraps a replica with exactly
// the recorded voters, and a retired group's replicas stop (RetireGroup erases its record;
// its id stays inside the catalog's created range, never reused). So the operation is one
// catalog command, decided against a catalog read just before it: the command is first
// applied to a copy of that catalog here (any refusal is reported as the catalog words
// it), then proposed with that catalog's version; a refusal of the proposal can only be
// a lost race with another catalog change, and the whole step is repeated (bounded).
#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "core/coord/coordinator.h"
#include "core/placement/group_voters.h"
#include "core/route/catalog_command.h"

namespace ekv::coord {
namespace {

// Catalog races lost in a row before giving up (each is another catalog change that
// committed in between: a busy placement may cause a few, not this many).
constexpr int kMaxGroupCommandAttempts = 8;

}  // namespace

OpId Coordinator::StartCreateGroup(CreateGroupSpec spec) {
  const OpId op = NewOp();
  std::sort(spec.voters.begin(), spec.voters.end());
  if (std::adjacent_find(spec.voters.begin(), spec.voters.end()) != spec.voters.end() ||
      (!spec.voters.empty() && spec.voters.front() == raft::kNoNode) ||
      spec.voters.size() > route::kMaxGroupVoters) {
    Fail(op, absl::InvalidArgumentError(
                 absl::StrCat("CreateGroup: voters must be 1 to ", route::kMaxGroupVoters,
                              " distinct node ids (or none, to let placement choose)")));
    return op;
  }
  ProposeCreateGroup(op, std::move(spec), 0);
  return op;
}

void Coordinator::ProposeCreateGroup(OpId op, CreateGroupSpec spec, int attempt) {
  ReadMembers(DeadlineOf(op), [this, op, spec = std::move(spec),
                               attempt](absl::StatusOr<node::MemberDirectory> members) mutable {
    if (!members.ok()) return Fail(op, members.status());
    ReadCatalog(
        DeadlineOf(op), [this, op, spec = std::move(spec), attempt, members = *std::move(members)](
                            absl::StatusOr<route::RouteCatalog> catalog) mutable {
          if (!catalog.ok()) return Fail(op, catalog.status());
          // The cluster's members: the directory's, and the catalog group's voters (every
          // member of a bootstrapped cluster votes there, advertised or not).
          std::set<uint64_t> member_set;
          for (const auto& [id, addresses] : members) member_set.insert(id);
          const std::map<raft::GroupId, raft::ConfState> confs = view_->Configurations();
          // Ids go above every group the catalog knows and every group this node hosts (the
          // initial ones, which a catalog whose routes all moved away may no longer name).
          raft::GroupId max_group = catalog->MaxKnownGroupId();
          for (const auto& [group, conf] : confs) max_group = std::max(max_group, group);
          if (auto conf = confs.find(options_.catalog_group); conf != confs.end()) {
            member_set.insert(conf->second.voters.begin(), conf->second.voters.end());
          }
          if (member_set.empty()) {
            return Fail(op, absl::UnavailableError(
                                "CreateGroup: this node does not know the cluster's members yet "
                                "(just started); retry"));
          }
          const std::vector<uint64_t> member_ids(member_set.begin(), member_set.end());
          std::vector<uint64_t> voters(spec.voters.begin(), spec.voters.end());
          if (voters.empty()) {
            absl::StatusOr<std::vector<uint64_t>> chosen =
                placement::ChooseGroupVoters(member_ids, *catalog, spec.replicas);
            if (!chosen.ok()) {
              return Fail(op, absl::InvalidArgumentError(
                                  absl::StrCat("CreateGroup: ", chosen.status().message())));
            }
            voters = *std::move(chosen);
          }
          for (uint64_t voter : voters) {
            if (member_set.count(voter) == 0) {
              return Fail(op, absl::InvalidArgumentError(absl::StrCat(
                                  "CreateGroup: node ", voter,
                                  " is not a member of the cluster; expected member node ids")));
            }
          }
          route::CreateGroup create{catalog->version(), max_group + 1, voters};
          route::RouteCatalog trial = *catalog;
          if (absl::StatusOr<route::GroupDescriptor> valid = trial.AddGroup(create); !valid.ok()) {
            return Fail(op, valid.status());
          }
          route::CatalogCommand command;
          command.op = create;
          const raft::GroupId group = create.group_id;
          ProposeGroupCommand(op, std::move(command), group, attempt,
                              [this, op, spec = std::move(spec), attempt]() mutable {
                                ProposeCreateGroup(op, std::move(spec), attempt + 1);
                              });
        });
  });
}

OpId Coordinator::StartRetireGroup(raft::GroupId group) {
  const OpId op = NewOp();
  ProposeRetireGroup(op, group, 0);
  return op;
}

void Coordinator::ProposeRetireGroup(OpId op, raft::GroupId group, int attempt) {
  ReadCatalog(DeadlineOf(op),
              [this, op, group, attempt](absl::StatusOr<route::RouteCatalog> catalog) {
                if (!catalog.ok()) return Fail(op, catalog.status());
                route::RetireGroup retire{catalog->version(), group};
                route::RouteCatalog trial = *catalog;
                absl::StatusOr<route::GroupDescriptor> record = trial.Retire(retire);
                if (!record.ok()) return Fail(op, record.status());
                route::CatalogCommand command;
                command.op = retire;
                ProposeGroupCommand(
                    op, std::move(command), group, attempt,
                    [this, op, group, attempt]() { ProposeRetireGroup(op, group, attempt + 1); },
                    *std::move(record));
              });
}

void Coordinator::ProposeGroupCommand(OpId op, route::CatalogCommand command, raft::GroupId group,
                                      int attempt, std::function<void()> again,
                                      std::optional<route::GroupDescriptor> retired_record) {
  const bool retiring = std::holds_alternative<route::RetireGroup>(command.op);
  // Sent again only when it certainly did not apply; when the outcome is unknown the
  // catalog says what happened (a repeat would be refused for the version it moved).
  ProposeCatalogChange(
      command, Retry::kDefinite, DeadlineOf(op),
      [this, op, group, attempt, retiring, again = std::move(again),
       retired_record = std::move(retired_record)](absl::StatusOr<GroupReply> reply) mutable {
        const absl::Status status = reply.ok() ? reply->result.status() : reply.status();
        if (status.code() == absl::StatusCode::kFailedPrecondition &&
            attempt + 1 < kMaxGroupCommandAttempts) {
          // The trial on the catalog it was built from passed: another change won.
          return again();
        }
        ReadCatalog(DeadlineOf(op), [this, op, group, retiring, status,
                                     retired_record = std::move(retired_record)](
                                        absl::StatusOr<route::RouteCatalog> catalog) {
          // The catalog is the judge of what happened (also after an unknown outcome): a
          // retirement it acknowledged or shows (the id created, no longer listed), a
          // creation it lists.
          const route::GroupDescriptor* recorded =
              catalog.ok() ? catalog->FindGroup(group) : nullptr;
          const bool done = retiring ? catalog.ok() && (status.ok() || catalog->IsRetired(group))
                                     : recorded != nullptr;
          if (!done) {
            return Fail(op, !status.ok() ? status
                                         : absl::InternalError(
                                               absl::StrCat("group ", group,
                                                            " is not as its command left it in the "
                                                            "catalog it applied to")));
          }
          OpResult result;
          result.ts = catalog->version();
          // A retired group's record as it was before its retirement erased it.
          result.group = retiring ? *retired_record : *recorded;
          Finish(op, std::move(result));
        });
      });
}

}  // namespace ekv::coord
