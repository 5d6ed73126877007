#include "runtime/server/node_loop.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/assert.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace ekv::runtime {
namespace {

// Ticks caught up in one round after a stall (see Run).
constexpr uint64_t kMaxTicksPerRound = 10000;

constexpr char kIncarnationKey[] =
    "\xff\xff\xff\xff\xff\xff\xff\xff"
    "incarnation";

// Rebuilds the in-memory log NodeHost works on from the durable copy in RocksDB.
absl::StatusOr<std::unique_ptr<raft::MemoryStorage>> LoadMemoryStorage(
    const RocksDbRaftStorage& durable) {
  auto memory = std::make_unique<raft::MemoryStorage>();
  absl::StatusOr<raft::Snapshot> snapshot = durable.GetSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  if (!snapshot->IsEmpty()) {
    if (absl::Status s = memory->ApplySnapshot(*snapshot); !s.ok()) return s;
  } else {
    memory->SetConfState(snapshot->metadata.conf_state);
  }
  const raft::Index first = durable.FirstIndex();
  const raft::Index last = durable.LastIndex();
  if (last >= first) {
    if (first > memory->LastIndex() + 1) {
      // Compacted past the snapshot we hold: start the memory log at the offset.
      absl::StatusOr<raft::Term> offset_term = durable.EntryTerm(first - 1);
      if (!offset_term.ok()) return offset_term.status();
      raft::Snapshot marker;
      marker.metadata.index = first - 1;
      marker.metadata.term = *offset_term;
      marker.metadata.conf_state = snapshot->metadata.conf_state;
      marker.data = snapshot->data;
      if (absl::Status s = memory->ApplySnapshot(marker); !s.ok()) return s;
    }
    absl::StatusOr<std::vector<raft::Entry>> entries =
        durable.Entries(first, last + 1, raft::kNoLimit);
    if (!entries.ok()) return entries.status();
    if (absl::Status s = memory->Append(*entries); !s.ok()) return s;
  }
  memory->SetHardState(durable.hard_state());
  return memory;
}

}  // namespace

NodeLoop::NodeLoop(NodeLoopOptions options, RocksDbEnv* env, RaftTransport* transport,
                   StateMachineFactory factory)
    : options_(std::move(options)), env_(env), transport_(transport), factory_(std::move(factory)) {
  // Created here, not in Start: other threads may hand us work (and Wake) before Start.
  absl::StatusOr<std::unique_ptr<LoopWaker>> waker =
      LoopWaker::Create(std::chrono::milliseconds(options_.tick_ms));
  EKV_ASSERT(waker.ok(), "cannot create the node loop's epoll set: ", waker.status().ToString());
  waker_ = std::move(*waker);
}

NodeLoop::~NodeLoop() { Stop(); }

absl::StatusOr<uint64_t> NodeLoop::NextIncarnation() {
  // Replies are matched to proposals by (node, incarnation, sequence); a restarted node
  // must never mistake its previous life's proposals for its own.
  std::string value;
  uint64_t incarnation = 0;
  rocksdb::Status s =
      env_->db()->Get(rocksdb::ReadOptions(), env_->raft_state(), kIncarnationKey, &value);
  if (s.ok() && value.size() == 8) {
    for (int i = 0; i < 8; ++i) incarnation = (incarnation << 8) | static_cast<uint8_t>(value[i]);
  } else if (!s.IsNotFound()) {
    return absl::InternalError(absl::StrCat("reading the incarnation counter: ", s.ToString()));
  }
  ++incarnation;
  std::string encoded(8, '\0');
  for (int i = 0; i < 8; ++i) encoded[i] = static_cast<char>(incarnation >> (8 * (7 - i)));
  rocksdb::WriteBatch batch;
  batch.Put(env_->raft_state(), kIncarnationKey, encoded);
  if (absl::Status status = env_->Write(&batch, /*sync=*/true); !status.ok()) return status;
  return incarnation;
}

absl::Status NodeLoop::LoadGroup(const GroupSpec& spec) {
  absl::StatusOr<std::unique_ptr<RocksDbRaftStorage>> durable =
      RocksDbRaftStorage::Open(env_, spec.group);
  if (!durable.ok()) return durable.status();
  const bool empty = (*durable)->LastIndex() == 0 && (*durable)->hard_state().IsEmpty() &&
                     (*durable)->GetSnapshot()->IsEmpty();
  if (empty && ((options_.join && !spec.created) || spec.start_empty)) {
    // Nothing to write: the leader's first message brings the group's state.
  } else if (empty) {
    if (!options_.bootstrap && !spec.created) {
      return absl::FailedPreconditionError(
          absl::StrCat("group ", spec.group, " has no state in ", env_->data_dir(),
                       " and bootstrap is off: start with --bootstrap for a new cluster"));
    }
    // Bootstrap: membership as committed entries, written durably before anything else.
    raft::MemoryStorage scratch;
    if (absl::Status s = raft::RawNode::Bootstrap(scratch, spec.voters); !s.ok()) return s;
    raft::PersistBatch batch;
    batch.entries = *scratch.Entries(1, scratch.LastIndex() + 1, raft::kNoLimit);
    batch.hard_state = scratch.hard_state();
    batch.has_hard_state = true;
    absl::StatusOr<raft::PersistReceipt> receipt = (*durable)->Persist(batch);
    if (!receipt.ok()) return receipt.status();
  }
  absl::StatusOr<std::unique_ptr<raft::MemoryStorage>> memory = LoadMemoryStorage(**durable);
  if (!memory.ok()) return memory.status();
  if (absl::Status s = host_->AddGroup(spec.group, std::move(*memory), factory_(spec.group));
      !s.ok()) {
    return s;
  }
  {
    std::lock_guard<std::mutex> lock(durable_mu_);
    durable_.emplace(spec.group, std::move(*durable));
  }
  return absl::OkStatus();
}

RocksDbRaftStorage& NodeLoop::Durable(raft::GroupId group) {
  std::lock_guard<std::mutex> lock(durable_mu_);
  auto it = durable_.find(group);
  EKV_ASSERT(it != durable_.end(), "no durable storage for group ", group);
  return *it->second;
}

void NodeLoop::OnCreatedGroups(node::CreatedGroups created) {
  pending_created_ = std::move(created);
}

void NodeLoop::ReconcileCreatedGroups() {
  if (!pending_created_.has_value()) return;
  const node::CreatedGroups created = std::move(*pending_created_);
  pending_created_.reset();
  const node::HostedGroupsPlan plan =
      node::PlanHostedGroups(created, options_.node_id, host_->groups());
  for (const node::HostedGroup& group : plan.host) {
    GroupSpec spec;
    spec.group = group.group_id;
    spec.voters.assign(group.bootstrap_voters.begin(), group.bootstrap_voters.end());
    spec.created = true;
    // A node that joined the group (a replica move's target) starts it empty.
    spec.start_empty = group.bootstrap_voters.empty();
    // A failure here (a disk error) leaves the group unhosted on this node: its other
    // voters carry on, and the next catalog change tries again.
    if (absl::Status s = LoadGroup(spec); !s.ok()) {
      std::cerr << "node " << options_.node_id << ": hosting created group " << group.group_id
                << " failed: " << s << "\n";
    } else {
      std::cerr << "node " << options_.node_id << ": hosting created group " << group.group_id
                << (spec.start_empty
                        ? " (joined: waits for its leader)"
                        : " (voters " + absl::StrJoin(group.bootstrap_voters, ",") + ")")
                << "\n";
    }
  }
  for (raft::GroupId group : plan.retire) {
    // Its durable records stay until the data directory is removed (a retired group's
    // log and engine prefix are not reclaimed yet); it is never loaded again.
    if (host_->RemoveGroup(group).ok()) {
      std::cerr << "node " << options_.node_id << ": group " << group
                << " retired or moved off this node\n";
    }
  }
}

absl::Status NodeLoop::Start() {
  absl::StatusOr<uint64_t> incarnation = NextIncarnation();
  if (!incarnation.ok()) return incarnation.status();
  node::NodeHostOptions host_options = options_.host;
  host_options.node_id = options_.node_id;
  host_options.incarnation = *incarnation;
  host_ = std::make_unique<node::NodeHost>(host_options);
  for (const GroupSpec& spec : options_.groups) {
    if (absl::Status s = LoadGroup(spec); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("loading group ", spec.group, ": ", s.message()));
    }
  }
  FlushApplied();  // restoring groups may have applied entries
  // Named so profilers and top -H tell the loop from the persister (15 chars at most).
  persister_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ekv-persist");
    RunPersister();
  });
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ekv-loop");
    loop_thread_id_.store(std::this_thread::get_id());
    Run();
  });
  return absl::OkStatus();
}

void NodeLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  waker_->Wake();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(persist_mu_);
    persist_stopping_ = true;
  }
  persist_cv_.notify_all();
  if (persister_.joinable()) persister_.join();
  // The loop thread is gone: what ran on it (coordinators) may now be finished here.
  loop_thread_id_.store(std::this_thread::get_id());
  for (const std::function<void()>& hook : stop_hooks_) hook();
  timers_.clear();
  // Anything still waiting gets a definite "unknown": it may or may not have applied.
  for (auto& [id, done] : callbacks_) {
    node::ClientReply reply;
    reply.request_id = id;
    reply.status = node::ReplyStatus::kUnknown;
    reply.detail = "node shutting down";
    done(reply);
  }
  callbacks_.clear();
  std::deque<Input> leftover;
  {
    std::lock_guard<std::mutex> lock(mu_);
    leftover.swap(inbox_);
  }
  for (Input& input : leftover) {
    if (input.kind == Input::Kind::kTask) {
      if (input.dropped) input.dropped();
      continue;
    }
    if (input.kind != Input::Kind::kRequest) continue;
    node::ClientReply reply;
    reply.status = node::ReplyStatus::kFailed;
    reply.detail = "node shutting down";
    input.done(reply);
  }
}

void NodeLoop::DeliverRaft(raft::NodeId from, std::vector<raft::Message> messages) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Raft tolerates loss: beyond the bound, drop rather than grow without limit.
    if (inbox_.size() >= options_.max_inbox) return;
    Input input{Input::Kind::kMessages, from, std::move(messages), {}, nullptr};
    inbox_.push_back(std::move(input));
  }
  waker_->Wake();
}

void NodeLoop::ReportUnreachable(raft::NodeId peer) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (inbox_.size() >= options_.max_inbox) return;
    inbox_.push_back(Input{Input::Kind::kUnreachable, peer, {}, {}, nullptr});
  }
  waker_->Wake();
}

void NodeLoop::Submit(node::ClientRequest request, ReplyCallback done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (inbox_.size() >= options_.max_inbox || stopping_) {
      ++stats_.refused_inbox_full;
      node::ClientReply reply;
      reply.group = request.group;
      reply.status = node::ReplyStatus::kFailed;
      reply.detail = stopping_ ? "node shutting down"
                               : absl::StrCat("node overloaded: ", inbox_.size(),
                                              " inputs waiting (limit ", options_.max_inbox, ")");
      done(reply);
      return;
    }
    ++stats_.requests;
    inbox_.push_back(
        Input{Input::Kind::kRequest, raft::kNoNode, {}, std::move(request), std::move(done)});
  }
  waker_->Wake();
}

bool NodeLoop::Post(std::function<void()> task, std::function<void()> dropped) {
  bool accepted = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (inbox_.size() < options_.max_inbox && !stopping_) {
      Input input{Input::Kind::kTask, raft::kNoNode, {}, {}, nullptr};
      input.task = std::move(task);
      input.dropped = std::move(dropped);
      inbox_.push_back(std::move(input));
      ++stats_.requests;
      accepted = true;
    } else {
      ++stats_.refused_inbox_full;
    }
  }
  if (!accepted) {
    if (dropped) dropped();
    return false;
  }
  waker_->Wake();
  return true;
}

void NodeLoop::SubmitFromLoop(node::ClientRequest request, ReplyCallback done) {
  EKV_ASSERT(OnLoopThread(), "SubmitFromLoop off the loop thread");
  bool stopping = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping = stopping_;
  }
  if (stopping || host_ == nullptr) {
    node::ClientReply reply;
    reply.group = request.group;
    reply.status = node::ReplyStatus::kFailed;
    reply.detail = "node shutting down";
    done(reply);
    return;
  }
  HandleRequest(std::move(request), std::move(done));
}

void NodeLoop::RunAtFromLoop(std::chrono::steady_clock::time_point at, std::function<void()> task) {
  EKV_ASSERT(OnLoopThread(), "RunAtFromLoop off the loop thread");
  timers_.emplace(at, std::move(task));
}

void NodeLoop::AddStopHook(std::function<void()> hook) { stop_hooks_.push_back(std::move(hook)); }

std::chrono::milliseconds NodeLoop::FireTimers() {
  // Bounded: a timer's task may arm new timers, but only for later (or now: the next
  // round runs them).
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::function<void()>> due;
  while (!timers_.empty() && timers_.begin()->first <= now) {
    due.push_back(std::move(timers_.begin()->second));
    timers_.erase(timers_.begin());
  }
  for (std::function<void()>& task : due) task();
  return NextTimerWait();
}

std::chrono::milliseconds NodeLoop::NextTimerWait() const {
  if (timers_.empty()) return std::chrono::milliseconds(1000);
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
      timers_.begin()->first - std::chrono::steady_clock::now());
  return std::clamp(wait + std::chrono::milliseconds(1), std::chrono::milliseconds(0),
                    std::chrono::milliseconds(1000));
}

void NodeLoop::ReportSnapshot(raft::NodeId peer, raft::GroupId group, bool failed) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Never dropped for the inbox bound: a lost report would stall that follower.
    Input input{Input::Kind::kSnapshotStatus, peer, {}, {}, nullptr};
    input.group = group;
    input.failed = failed;
    inbox_.push_back(std::move(input));
  }
  waker_->Wake();
}

void NodeLoop::ReportUndelivered(std::vector<raft::Message> proposals) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Never dropped for the inbox bound: each one answers a waiting client at once.
    inbox_.push_back(
        Input{Input::Kind::kUndelivered, raft::kNoNode, std::move(proposals), {}, nullptr});
  }
  waker_->Wake();
}

raft::NodeId NodeLoop::LeaderOf(raft::GroupId group) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = statuses_.find(group);
  return it == statuses_.end() ? raft::kNoNode : it->second.leader;
}

bool NodeLoop::Hosts(raft::GroupId group) const {
  std::lock_guard<std::mutex> lock(mu_);
  return statuses_.count(group) > 0;
}

std::map<raft::GroupId, node::GroupStatus> NodeLoop::GroupStatuses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return statuses_;
}

NodeLoopStats NodeLoop::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void NodeLoop::HandleInput(Input& input) {
  switch (input.kind) {
    case Input::Kind::kMessages:
      for (const raft::Message& m : input.messages) {
        if (m.to != options_.node_id || !host_->HasGroup(m.group)) continue;
        host_->Receive(m);
      }
      break;
    case Input::Kind::kUnreachable:
      for (raft::GroupId group : host_->groups()) host_->ReportUnreachable(group, input.from);
      break;
    case Input::Kind::kPersisted:
      host_->OnPersisted(input.group, input.ready_id);
      break;
    case Input::Kind::kSnapshotStatus:
      if (host_->HasGroup(input.group))
        host_->ReportSnapshot(input.group, input.from, input.failed);
      break;
    case Input::Kind::kUndelivered:
      for (const raft::Message& m : input.messages) host_->ReportUndelivered(m);
      break;
    case Input::Kind::kRequest:
      HandleRequest(std::move(input.request), std::move(input.done));
      break;
    case Input::Kind::kTask:
      input.task();
      break;
  }
}

void NodeLoop::HandleRequest(node::ClientRequest request, ReplyCallback done) {
  const uint64_t id = next_request_id_++;
  request.request_id = id;
  if (!host_->HasGroup(request.group)) {
    node::ClientReply reply;
    reply.request_id = id;
    reply.group = request.group;
    reply.status = node::ReplyStatus::kFailed;
    reply.detail = absl::StrCat("this node hosts no replica of group ", request.group);
    done(reply);
    return;
  }
  if (options_.planted_follower_read_without_quorum && PlantedFollowerRead(request, done)) return;
  callbacks_.emplace(id, std::move(done));
  host_->SubmitClientRequest(request);
}

bool NodeLoop::PlantedFollowerRead(const node::ClientRequest& request, const ReplyCallback& done) {
  // PLANTED BUG (testing only): the local state answers a read with no ReadIndex round and
  // no lease, on a replica that may have missed any number of writes.
  if (request.kind != node::OpKind::kGet && request.kind != node::OpKind::kQuery) return false;
  if (host_->Status(request.group).state == raft::StateType::kLeader) return false;
  const node::StateMachine& local = host_->state_machine(request.group);
  node::ClientReply reply;
  reply.request_id = request.request_id;
  reply.group = request.group;
  reply.index = local.applied_index();
  std::optional<std::string> value =
      request.kind == node::OpKind::kGet ? local.Read(request.key) : local.Query(request.value);
  if (request.kind == node::OpKind::kQuery && !value.has_value()) return false;
  reply.status = node::ReplyStatus::kOk;
  reply.value = std::move(value);
  done(reply);
  return true;
}

void NodeLoop::RunPersister() {
  // Owns every RocksDbRaftStorage from Start() on. Each round takes everything queued:
  // snapshot records first (they may not run while a batch is prepared), then every
  // group's persist batch in ONE synced write (group commit across groups and rounds of
  // the node loop), and reports the persists back to the loop.
  while (true) {
    std::deque<PersistJob> jobs;
    {
      std::unique_lock<std::mutex> lock(persist_mu_);
      persist_cv_.wait(lock, [this] { return persist_stopping_ || !persist_queue_.empty(); });
      if (persist_queue_.empty() && persist_stopping_) return;
      jobs.swap(persist_queue_);
    }
    std::vector<const node::PersistRequest*> persists;
    for (const PersistJob& job : jobs) {
      if (job.snapshot.has_value()) {
        const node::SnapshotCreated& created = *job.snapshot;
        RocksDbRaftStorage& durable = Durable(created.group);
        absl::Status status =
            durable.CreateSnapshot(created.snapshot.metadata.index,
                                   created.snapshot.metadata.conf_state, created.snapshot.data);
        if (status.ok() && created.compact_index > durable.FirstIndex()) {
          status = durable.Compact(created.compact_index);
        }
        // Losing a snapshot only leaves more log to replay: not fatal.
        (void)status;
      } else {
        persists.push_back(&*job.persist);
      }
    }
    if (persists.empty()) continue;
    rocksdb::WriteBatch write_batch;
    for (const node::PersistRequest* request : persists) {
      absl::Status status = Durable(request->group).PrepareBatch(request->batch, &write_batch);
      EKV_ASSERT(status.ok(), "preparing the raft batch of group ", request->group,
                 " failed: ", status.ToString());
    }
    absl::StatusOr<SyncedWrite> written = env_->WriteSynced(&write_batch);
    // A failed fsync leaves the disk state unknown: the only safe answer is to stop and
    // recover from what is durable (as PostgreSQL learned the hard way).
    EKV_ASSERT(written.ok(), "synced write of the raft log failed: ", written.status().ToString());
    for (const node::PersistRequest* request : persists) {
      RocksDbRaftStorage& durable = Durable(request->group);
      durable.ApplyAfterCommit(*written);
      absl::StatusOr<raft::PersistReceipt> receipt = durable.Persist(request->batch);
      EKV_ASSERT(receipt.ok(), "certifying the raft batch of group ", request->group,
                 " failed: ", receipt.status().ToString());
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const node::PersistRequest* request : persists) {
        Input input{Input::Kind::kPersisted, raft::kNoNode, {}, {}, nullptr};
        input.group = request->group;
        input.ready_id = request->batch.ready_id;
        inbox_.push_back(std::move(input));  // never dropped: the group waits for it
      }
      ++stats_.synced_writes;
      stats_.persisted_batches += persists.size();
    }
    waker_->Wake();
  }
}

void NodeLoop::Drain() {
  // Bounded: each round makes progress (a send, a reply, a persist handed off), and
  // NodeHost hands out at most one Ready per group until its persist is reported.
  for (int round = 0; round < 1000; ++round) {
    node::Effects effects = host_->TakeEffects();
    // What the round applied reaches RocksDB in one write, before anything it caused
    // (a reply, a message naming a snapshot of that state) leaves the loop.
    FlushApplied();
    // A catalog change applied in this round may have created or retired groups.
    ReconcileCreatedGroups();
    if (effects.empty()) return;
    for (node::OutboundMessages& out : effects.outbound) {
      transport_->Send(out.to, std::move(out.messages));
    }
    for (node::ClientReply& reply : effects.replies) {
      auto it = callbacks_.find(reply.request_id);
      if (it == callbacks_.end()) continue;
      ReplyCallback done = std::move(it->second);
      callbacks_.erase(it);
      done(reply);
    }
    if (!effects.snapshots.empty() || !effects.persists.empty()) {
      {
        std::lock_guard<std::mutex> lock(persist_mu_);
        for (node::SnapshotCreated& created : effects.snapshots) {
          persist_queue_.push_back(PersistJob{std::nullopt, std::move(created)});
        }
        for (node::PersistRequest& request : effects.persists) {
          persist_queue_.push_back(PersistJob{std::move(request), std::nullopt});
        }
      }
      persist_cv_.notify_one();
    }
  }
}

void NodeLoop::FlushApplied() {
  if (options_.apply_buffer == nullptr) return;
  absl::Status status = options_.apply_buffer->Flush();
  // A replica that cannot write its applied state must stop rather than diverge.
  EKV_ASSERT(status.ok(), "writing the applied state failed: ", status.ToString());
}

void NodeLoop::PublishStatus() {
  // A copy per round (a few dozen bytes per group and per route): other threads read the
  // leaders, the metrics and the console's load counters from it, never from NodeHost,
  // which only this thread may touch.
  std::map<raft::GroupId, node::GroupStatus> statuses;
  for (raft::GroupId group : host_->groups()) {
    node::GroupStatus& status = statuses[group] = host_->Status(group);
    status.route_loads = host_->RouteLoads(group);  // for the console's heat map
  }
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  statuses_ = std::move(statuses);
  ++stats_.rounds;
  stats_.last_round_at = now;
}

void NodeLoop::Run() {
  std::chrono::milliseconds next_timer(1000);
  while (true) {
    // Sleeps in epoll until another thread has work for us, the tick timer fires or the
    // next timer of a coordinator is due.
    const LoopWaker::Woken woken = waker_->Wait(next_timer);
    std::deque<Input> inputs;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      inputs.swap(inbox_);
    }
    // The wall clock reaches core only here: the timestamp oracle's HLC reads it.
    host_->SetWallClock(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()));
    // Time first: after a stall (a stopped process) every elapsed tick counts, so a leader
    // whose lease ran out while it was stopped knows it before it serves a queued read.
    // Bounded: far more than any election timeout, so leases and elections see it all.
    for (uint64_t i = 0; i < std::min<uint64_t>(woken.ticks, kMaxTicksPerRound); ++i) {
      host_->Tick();
    }
    for (Input& input : inputs) HandleInput(input);
    FireTimers();
    Drain();
    // After Drain: answers handled there may have armed timers.
    next_timer = NextTimerWait();
    PublishStatus();
  }
}

}  // namespace ekv::runtime
