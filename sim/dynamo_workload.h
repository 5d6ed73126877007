// The dynamo workload's client operations (--workload dynamo): DynamoDB requests run by
// the DynamoDB front door's own handlers (adapters/dynamo operation table over TableStore)
// on simulated clients (sim/dynamo_backend.h), whose every storage call is a core op on a
// node's coordinator -- the code and the mapping the server runs.
//
// One table "bank" (hash key id), with a global secondary index "by_owner" (hash key
// owner, projection INCLUDE balance); CreateTable places its key space over the groups
// (place_key_space.h), so its items and index entries live in several groups. Items:
//   accounts  a0..a5 {id, owner, balance}, 100 each;
//   counters  c0..c2 {id, n, version} (no owner: not in the index);
//   temps     t0..t3 {id, owner, note}, created and deleted.
// Setup, before the chaos phase (StartSetup; the simulation injects no fault until it is
// done or a bound passed), as an application creates its table before it serves:
// CreateTable, then every item, on the workload's own client, the whole sent again until
// it succeeds (bounded; a retry of a write whose outcome was unknown finds it done).
// Until then the clients send nothing (kWaiting). CreateTable places the key spaces of
// the table and its index (splits and range moves through the catalog): raced against
// `--faults all` it often never finished, and the seed judged nothing.
// Operations:
//   transfer  TransactWriteItems: Update of one account (balance - x, ConditionExpression
//             balance >= x), Update of another (balance + x), ConditionCheck of a third;
//   read-all  TransactGetItems of every account: checkers::CheckBank (total 600, no
//             negative balance) on every read;
//   counter   GetItem (consistent) of a counter, then UpdateItem SET n = n + d, version =
//             version + 1 with ConditionExpression version = <read>: checkers::CheckCounters
//             (exact counts; the read and the increment's UPDATED_NEW are observations);
//   re-owner  UpdateItem SET owner = o (attribute_exists(id)): the item's index key changes,
//             so its old entry must go;
//   temp      PutItem (attribute_not_exists(id)) or DeleteItem (attribute_exists(id)).
// After the chaos phase (clients idle, faults healed): a final read, retried until it
// answers -- a consistent Scan of the table and a Scan of the index, both paged -- judged
// exactly: every item with an owner has its entry holding exactly its projected
// attributes, no other entry exists, the accounts still total 600, and the counters'
// final values are the counter checker's last observations.
//
// Outcomes: acknowledged (200); failed (ConditionalCheckFailedException,
// TransactionCanceledException: DynamoDB's words for "nothing was written"); unknown (a
// 500: the store's error, e.g. no answer in the client's patience). Any other error is a
// reply the front door should never give these requests: a violation of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/dynamo/task.h"
#include "core/util/rng.h"
#include "sim/checkers/bank.h"
#include "sim/checkers/counter.h"
#include "sim/dynamo_backend.h"
#include "sim/scheduler.h"
#include "sim/sim_coordinators.h"

namespace ekv::sim {

class DynamoWorkload {
 public:
  struct Options {
    // --plant dynamo_index_keeps_old_entry (TableStoreOptions::planted_index_keeps_old_entry).
    bool plant_index_keeps_old_entry = false;
  };
  // kWaiting: nothing was sent (the setup has not finished yet).
  enum class Outcome { kAcked, kFailed, kUnknown, kWaiting };
  using Done = std::function<void(Outcome)>;

  DynamoWorkload(Scheduler& scheduler, SimCoordinators& coordinators, Rng rng, Options options);
  ~DynamoWorkload();

  // Creates the table and its items (the setup above), sent again until it succeeds.
  void StartSetup();
  bool setup_done() const { return setup_done_; }
  // Runs one random operation for `client`; `done` once its outcome is known.
  void Issue(uint64_t client, Done done);
  // After the chaos phase: the final read, retried until it answers.
  void StartFinalReads();
  bool final_reads_pending() const { return final_reads_started_ && !final_read_done_; }

  struct Verdict {
    bool ok = true;
    std::string verdict;
    std::string details;
  };
  Verdict Check() const;
  // "dynamo setup_ms=<simulated ms when it finished, or never>/<attempts>
  // transfers=<acked>/<sent> reads=<n> incr=<acked> reowner=<acked> temps=<acked>
  // index=<entries checked> calls=<backend calls>[ calm_ms=<issued after an early heal>]"
  // for the summary line.
  std::string Stats() const;
  // What part of the history is too thin to judge (empty when none is).
  std::string ThinParts() const;
  // Whether the operations so far leave a part of the history too thin to judge (every
  // part of ThinParts but the final read, which comes after them).
  bool NeedsMoreOps() const;

 private:
  // One request's answer: the reply body, or DynamoDB's error name ("" for the store's
  // own error, answered 500) and message.
  struct Reply {
    bool ok = false;
    nlohmann::json body;
    std::string error_name;
    std::string message;
  };
  struct SetupResult {
    bool complete = false;
    std::vector<Reply> unexpected;
  };
  struct FinalReadResult {
    bool complete = false;
    std::vector<nlohmann::json> items;
    std::vector<nlohmann::json> entries;
    Reply failed;
  };
  // The request coroutines a client runs (sim/dynamo_backend.h). Arguments by value: a
  // coroutine's frame keeps them while it waits on the store.
  static dynamo::Task<Reply> Call(dynamo::TableStore* store, std::string operation,
                                  nlohmann::json request);
  // `requests` one after another, stopping at the first error; every reply in *replies.
  static dynamo::Task<bool> SendRequests(
      dynamo::TableStore* store, std::vector<std::pair<std::string, nlohmann::json>> requests,
      std::shared_ptr<std::vector<Reply>> replies);
  static dynamo::Task<bool> SetupStep(dynamo::TableStore* store, std::string operation,
                                      nlohmann::json request, std::string done_error,
                                      std::shared_ptr<SetupResult> result);
  static dynamo::Task<bool> SetupRequests(dynamo::TableStore* store,
                                          std::vector<nlohmann::json> items,
                                          std::shared_ptr<SetupResult> result);
  static dynamo::Task<bool> ScanAll(dynamo::TableStore* store, nlohmann::json request,
                                    std::vector<nlohmann::json>* out,
                                    std::shared_ptr<FinalReadResult> result);
  static dynamo::Task<bool> FinalReadRequests(dynamo::TableStore* store,
                                              std::shared_ptr<FinalReadResult> result);
  SimDynamoClient& ClientFor(uint64_t client);
  // Runs `requests` (operation name, body) one after another on `client`'s front door
  // (a random up node), stopping at the first error; `done` gets every reply.
  void Send(uint64_t client, std::vector<std::pair<std::string, nlohmann::json>> requests,
            std::function<void(const std::vector<Reply>&)> done);
  void RunSetupAttempt();
  void IssueTransfer(uint64_t client, Done done);
  void IssueReadAll(uint64_t client, Done done);
  void IssueCounter(uint64_t client, Done done);
  void IssueReowner(uint64_t client, Done done);
  void IssueTemp(uint64_t client, Done done);
  void FinalRead();
  // What a write's reply means; an unexpected error is recorded.
  Outcome Classify(const std::string& what, const Reply& reply);

  Scheduler& scheduler_;
  SimCoordinators& coordinators_;
  Rng rng_;
  Options options_;
  std::map<uint64_t, std::unique_ptr<SimDynamoClient>> clients_;
  std::vector<std::string> accounts_;

  bool setup_started_ = false;
  bool setup_done_ = false;
  uint64_t setup_attempts_ = 0;
  SimTime setup_done_us_ = 0;
  uint64_t transfers_sent_ = 0;
  uint64_t transfers_acked_ = 0;
  std::vector<checkers::BankRead> bank_reads_;
  std::vector<checkers::CounterOp> counter_ops_;
  uint64_t increments_acked_ = 0;
  uint64_t reowners_acked_ = 0;
  uint64_t temps_acked_ = 0;
  std::vector<std::string> unexpected_;
  bool final_reads_started_ = false;
  bool final_read_done_ = false;
  uint64_t final_read_attempts_ = 0;
  uint64_t index_entries_checked_ = 0;
  std::vector<std::string> index_violations_;
};

}  // namespace ekv::sim
