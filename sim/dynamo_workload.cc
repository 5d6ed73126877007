#include "sim/dynamo_workload.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/operation_table.h"
#include "core/util/assert.h"

namespace ekv::sim {
namespace {

using nlohmann::json;

constexpr const char* kTable = "bank";
constexpr const char* kIndex = "by_owner";
constexpr int64_t kInitialBalance = 100;
constexpr int kAccounts = 6;
constexpr int kCounters = 3;
constexpr int kTemps = 4;
constexpr int kOwners = 4;
// Tries of one setup step within one setup request (each on the store's error).
constexpr int kSetupTries = 8;
// Whole setup requests, this far apart, before the seed is left thin. The setup runs
// before any fault is injected, so the first one succeeds unless the network's own loss
// or a slow election costs it a try.
constexpr uint64_t kMaxSetupAttempts = 100;
constexpr SimTime kSetupRetryUs = 500'000;
// The setup's own client, never one of the KvWorkload's (1..N) nor the final read's (0).
constexpr uint64_t kSetupClient = ~uint64_t{0};
// Pages one final Scan may take before the final read gives up (a few dozen items).
constexpr int kMaxScanPages = 200;
// The final read, retried until it answers: at most this many tries, this far apart.
constexpr uint64_t kMaxFinalReadAttempts = 100;
constexpr SimTime kFinalReadRetryUs = 300'000;
// The simulated wall clock's epoch (a table's CreationDateTime).
constexpr double kEpochSeconds = 1'700'000'000;

json S(const std::string& s) { return json{{"S", s}}; }
json N(int64_t n) { return json{{"N", std::to_string(n)}}; }
json KeyOf(const std::string& id) { return json{{"id", S(id)}}; }

// A number attribute of a DynamoDB item in JSON, or nullopt.
std::optional<int64_t> NumberOf(const json& item, const std::string& name) {
  if (!item.is_object() || !item.contains(name) || !item[name].contains("N")) return std::nullopt;
  int64_t value = 0;
  if (!absl::SimpleAtoi(item[name]["N"].get<std::string>(), &value)) return std::nullopt;
  return value;
}

std::optional<std::string> StringOf(const json& item, const std::string& name) {
  if (!item.is_object() || !item.contains(name) || !item[name].contains("S")) return std::nullopt;
  return item[name]["S"].get<std::string>();
}

json CreateTableRequest() {
  return json::parse(R"({
    "TableName": "bank", "BillingMode": "PAY_PER_REQUEST",
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                             {"AttributeName": "owner", "AttributeType": "S"}],
    "GlobalSecondaryIndexes": [{"IndexName": "by_owner",
        "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["balance"]}}]})");
}

// What the index holds of `item` (its projection: table key, index key, balance), or
// nullopt when the item has no index key. Written here from the table's definition, not
// from the adapter's projection code, so the checker judges that code.
std::optional<json> ExpectedEntry(const json& item) {
  if (!StringOf(item, "owner").has_value()) return std::nullopt;
  json entry = json::object();
  for (const char* name : {"id", "owner", "balance"}) {
    if (item.contains(name)) entry[name] = item[name];
  }
  return entry;
}

}  // namespace

DynamoWorkload::DynamoWorkload(Scheduler& scheduler, SimCoordinators& coordinators, Rng rng,
                               Options options)
    : scheduler_(scheduler), coordinators_(coordinators), rng_(rng), options_(options) {
  for (int i = 0; i < kAccounts; ++i) accounts_.push_back(absl::StrCat("a", i));
}

DynamoWorkload::~DynamoWorkload() = default;

SimDynamoClient& DynamoWorkload::ClientFor(uint64_t client) {
  std::unique_ptr<SimDynamoClient>& slot = clients_[client];
  if (slot == nullptr) {
    dynamo::TableStoreOptions store_options;
    Scheduler* scheduler = &scheduler_;
    store_options.now_seconds = [scheduler] {
      return kEpochSeconds + static_cast<double>(scheduler->now()) / 1e6;
    };
    store_options.planted_index_keeps_old_entry = options_.plant_index_keeps_old_entry;
    slot = std::make_unique<SimDynamoClient>(coordinators_, std::move(store_options));
  }
  return *slot;
}

dynamo::Task<DynamoWorkload::Reply> DynamoWorkload::Call(dynamo::TableStore* store,
                                                         std::string operation, json request) {
  // The handler itself, as OperationTable::Handle runs it, without Handle's catch-all: an
  // invariant that fires in the adapter must end the run, not become a 500.
  const dynamo::OperationSpec* spec = dynamo::OperationTable::Default().Find(operation);
  EKV_ASSERT(spec != nullptr, "no DynamoDB operation ", operation);
  absl::StatusOr<json> answer = co_await spec->handler(request, store);
  Reply reply;
  if (answer.ok()) {
    reply.ok = true;
    reply.body = *std::move(answer);
  } else {
    reply.error_name = dynamo::ErrorName(answer.status());
    reply.message = std::string(answer.status().message());
  }
  co_return reply;
}

dynamo::Task<bool> DynamoWorkload::SendRequests(dynamo::TableStore* store,
                                                std::vector<std::pair<std::string, json>> requests,
                                                std::shared_ptr<std::vector<Reply>> replies) {
  for (const auto& [operation, request] : requests) {
    Reply reply = co_await Call(store, operation, request);
    replies->push_back(std::move(reply));
    if (!replies->back().ok) co_return false;
  }
  co_return true;
}

void DynamoWorkload::Send(uint64_t client, std::vector<std::pair<std::string, json>> requests,
                          std::function<void(const std::vector<Reply>&)> done) {
  auto replies = std::make_shared<std::vector<Reply>>();
  ClientFor(client).Run(
      coordinators_.RandomUpNode(),
      [replies, requests = std::move(requests)](dynamo::TableStore& store) {
        return SendRequests(&store, requests, replies);
      },
      [replies, done = std::move(done)] { done(*replies); });
}

dynamo::Task<bool> DynamoWorkload::SetupStep(dynamo::TableStore* store, std::string operation,
                                             json request, std::string done_error,
                                             std::shared_ptr<SetupResult> result) {
  for (int attempt = 0; attempt < kSetupTries; ++attempt) {
    Reply reply = co_await Call(store, operation, request);
    if (reply.ok || reply.error_name == done_error) co_return true;
    if (!reply.error_name.empty()) {
      result->unexpected.push_back(reply);
      co_return false;
    }
  }
  co_return false;
}

dynamo::Task<bool> DynamoWorkload::SetupRequests(dynamo::TableStore* store, std::vector<json> items,
                                                 std::shared_ptr<SetupResult> result) {
  // CreateTable, then every item (absent -> present), each tried until it is done or the
  // store keeps failing; a retry of a write whose outcome was unknown finds it done
  // (ResourceInUseException, ConditionalCheckFailedException).
  const bool created = co_await SetupStep(store, "CreateTable", CreateTableRequest(),
                                          "ResourceInUseException", result);
  if (!created) co_return false;
  for (const json& item : items) {
    json put = {
        {"TableName", kTable}, {"Item", item}, {"ConditionExpression", "attribute_not_exists(id)"}};
    const bool written =
        co_await SetupStep(store, "PutItem", put, "ConditionalCheckFailedException", result);
    if (!written) co_return false;
  }
  result->complete = true;
  co_return true;
}

DynamoWorkload::Outcome DynamoWorkload::Classify(const std::string& what, const Reply& reply) {
  if (reply.ok) return Outcome::kAcked;
  // DynamoDB's words for "nothing was written".
  if (reply.error_name == "ConditionalCheckFailedException" ||
      reply.error_name == "TransactionCanceledException") {
    return Outcome::kFailed;
  }
  // The store's own error (answered 500): the write may or may not have happened.
  if (reply.error_name.empty()) return Outcome::kUnknown;
  unexpected_.push_back(absl::StrCat(what, ": ", reply.error_name, ": ", reply.message));
  return Outcome::kUnknown;
}

void DynamoWorkload::Issue(uint64_t client, Done done) {
  if (!setup_done_) {
    done(Outcome::kWaiting);
    return;
  }
  const uint64_t pick = rng_.Range(0, 99);
  if (pick < 25) {
    IssueTransfer(client, std::move(done));
  } else if (pick < 45) {
    IssueReadAll(client, std::move(done));
  } else if (pick < 65) {
    IssueCounter(client, std::move(done));
  } else if (pick < 80) {
    IssueReowner(client, std::move(done));
  } else {
    IssueTemp(client, std::move(done));
  }
}

void DynamoWorkload::StartSetup() {
  if (setup_started_) return;
  setup_started_ = true;
  RunSetupAttempt();
}

void DynamoWorkload::RunSetupAttempt() {
  EKV_ASSERT(!setup_done_, "the dynamo setup runs until it succeeded, not after");
  ++setup_attempts_;
  std::vector<json> items;
  for (int i = 0; i < kAccounts; ++i) {
    items.push_back({{"id", S(accounts_[i])},
                     {"owner", S(absl::StrCat("o", i % kOwners))},
                     {"balance", N(kInitialBalance)}});
  }
  for (int i = 0; i < kCounters; ++i) {
    items.push_back({{"id", S(absl::StrCat("c", i))}, {"n", N(0)}, {"version", N(0)}});
  }
  auto result = std::make_shared<SetupResult>();
  SimDynamoClient& client = ClientFor(kSetupClient);
  client.Run(
      coordinators_.RandomUpNode(),
      [result, items = std::move(items)](dynamo::TableStore& store) {
        return SetupRequests(&store, items, result);
      },
      [this, result] {
        for (const Reply& reply : result->unexpected) Classify("setup", reply);
        if (result->complete) {
          setup_done_ = true;
          setup_done_us_ = scheduler_.now();
          return;
        }
        // The store's error (no leader yet, a lost answer): as an application would,
        // send the whole setup again; what was done is found done. Not once the
        // final read started: the seed is judged thin then.
        if (final_reads_started_ || setup_attempts_ >= kMaxSetupAttempts) return;
        scheduler_.After(kSetupRetryUs, [this] {
          if (!final_reads_started_) RunSetupAttempt();
        });
      });
}

void DynamoWorkload::IssueTransfer(uint64_t client, Done done) {
  std::vector<std::string> picked = accounts_;
  const std::string from = picked[rng_.Range(0, picked.size() - 1)];
  picked.erase(std::find(picked.begin(), picked.end(), from));
  const std::string to = picked[rng_.Range(0, picked.size() - 1)];
  picked.erase(std::find(picked.begin(), picked.end(), to));
  const std::string checked = picked[rng_.Range(0, picked.size() - 1)];
  const int64_t amount = static_cast<int64_t>(rng_.Range(1, 40));
  json request = {{"TransactItems",
                   {{{"Update",
                      {{"TableName", kTable},
                       {"Key", KeyOf(from)},
                       {"UpdateExpression", "SET balance = balance - :x"},
                       {"ConditionExpression", "balance >= :x"},
                       {"ExpressionAttributeValues", {{":x", N(amount)}}}}}},
                    {{"Update",
                      {{"TableName", kTable},
                       {"Key", KeyOf(to)},
                       {"UpdateExpression", "SET balance = balance + :x"},
                       {"ExpressionAttributeValues", {{":x", N(amount)}}}}}},
                    {{"ConditionCheck",
                      {{"TableName", kTable},
                       {"Key", KeyOf(checked)},
                       {"ConditionExpression", "balance >= :zero"},
                       {"ExpressionAttributeValues", {{":zero", N(0)}}}}}}}}};
  ++transfers_sent_;
  Send(client, {{"TransactWriteItems", std::move(request)}},
       [this, done = std::move(done)](const std::vector<Reply>& replies) {
         const Outcome outcome = Classify("TransactWriteItems", replies.back());
         if (outcome == Outcome::kAcked) ++transfers_acked_;
         done(outcome);
       });
}

void DynamoWorkload::IssueReadAll(uint64_t client, Done done) {
  json gets = json::array();
  for (const std::string& account : accounts_) {
    gets.push_back({{"Get", {{"TableName", kTable}, {"Key", KeyOf(account)}}}});
  }
  const uint64_t invoke_time = scheduler_.now();
  Send(client, {{"TransactGetItems", {{"TransactItems", gets}}}},
       [this, client, invoke_time, done = std::move(done)](const std::vector<Reply>& replies) {
         const Reply& reply = replies.back();
         if (!reply.ok) {
           // A read has no effect: any error means it certainly did nothing.
           if (!reply.error_name.empty() && reply.error_name != "TransactionCanceledException") {
             Classify("TransactGetItems", reply);
           }
           done(Outcome::kFailed);
           return;
         }
         checkers::BankRead read;
         read.id = bank_reads_.size() + 1;
         read.client = client;
         read.invoke_time = invoke_time;
         read.complete_time = scheduler_.now();
         const json& responses = reply.body["Responses"];
         for (size_t i = 0; i < responses.size() && i < accounts_.size(); ++i) {
           if (!responses[i].contains("Item")) continue;  // absent: CheckBank says missing
           std::optional<int64_t> balance = NumberOf(responses[i]["Item"], "balance");
           if (balance.has_value()) read.balances[accounts_[i]] = *balance;
         }
         bank_reads_.push_back(std::move(read));
         done(Outcome::kAcked);
       });
}

void DynamoWorkload::IssueCounter(uint64_t client, Done done) {
  const std::string key = absl::StrCat("c", rng_.Range(0, kCounters - 1));
  const int64_t delta = static_cast<int64_t>(rng_.Range(1, 5));
  const uint64_t read_invoke = scheduler_.now();
  json get = {{"TableName", kTable}, {"Key", KeyOf(key)}, {"ConsistentRead", true}};
  Send(client, {{"GetItem", std::move(get)}},
       [this, client, key, delta, read_invoke,
        done = std::move(done)](const std::vector<Reply>& replies) mutable {
         const Reply& read = replies.back();
         std::optional<int64_t> n;
         std::optional<int64_t> version;
         if (read.ok && read.body.contains("Item")) {
           n = NumberOf(read.body["Item"], "n");
           version = NumberOf(read.body["Item"], "version");
         }
         if (!read.ok || !n.has_value() || !version.has_value()) {
           if (!read.ok && !read.error_name.empty()) Classify("GetItem", read);
           if (read.ok)
             unexpected_.push_back(
                 absl::StrCat("GetItem ", key, ": no counter in ", read.body.dump()));
           done(Outcome::kFailed);
           return;
         }
         checkers::CounterOp observed;
         observed.kind = checkers::CounterOp::Kind::kRead;
         observed.key = key;
         observed.invoke_time = read_invoke;
         observed.complete_time = scheduler_.now();
         observed.outcome = checkers::CounterOp::Outcome::kOk;
         observed.value = *n;
         counter_ops_.push_back(observed);
         json update = {
             {"TableName", kTable},
             {"Key", KeyOf(key)},
             {"UpdateExpression", "SET n = n + :d, version = version + :one"},
             {"ConditionExpression", "version = :v"},
             {"ExpressionAttributeValues", {{":d", N(delta)}, {":one", N(1)}, {":v", N(*version)}}},
             {"ReturnValues", "UPDATED_NEW"}};
         const uint64_t invoke = scheduler_.now();
         Send(client, {{"UpdateItem", std::move(update)}},
              [this, key, delta, invoke, done = std::move(done)](const std::vector<Reply>& r) {
                const Reply& reply = r.back();
                checkers::CounterOp increment;
                increment.kind = checkers::CounterOp::Kind::kIncrement;
                increment.key = key;
                increment.delta = delta;
                increment.invoke_time = invoke;
                const Outcome outcome = Classify("UpdateItem", reply);
                if (outcome == Outcome::kAcked) {
                  std::optional<int64_t> after = reply.body.contains("Attributes")
                                                     ? NumberOf(reply.body["Attributes"], "n")
                                                     : std::nullopt;
                  if (!after.has_value()) {
                    unexpected_.push_back(
                        absl::StrCat("UpdateItem UPDATED_NEW without n: ", reply.body.dump()));
                    increment.outcome = checkers::CounterOp::Outcome::kUnknown;
                  } else {
                    increment.outcome = checkers::CounterOp::Outcome::kOk;
                    increment.value = *after;
                    increment.complete_time = scheduler_.now();
                    ++increments_acked_;
                  }
                } else if (outcome == Outcome::kFailed) {
                  increment.outcome = checkers::CounterOp::Outcome::kFailed;
                  increment.complete_time = scheduler_.now();
                } else {
                  increment.outcome = checkers::CounterOp::Outcome::kUnknown;
                }
                counter_ops_.push_back(increment);
                done(outcome);
              });
       });
}

void DynamoWorkload::IssueReowner(uint64_t client, Done done) {
  const std::string account = accounts_[rng_.Range(0, accounts_.size() - 1)];
  const std::string owner = absl::StrCat("o", rng_.Range(0, kOwners - 1));
  json update = {{"TableName", kTable},
                 {"Key", KeyOf(account)},
                 {"UpdateExpression", "SET #o = :o"},
                 {"ConditionExpression", "attribute_exists(id)"},
                 {"ExpressionAttributeNames", {{"#o", "owner"}}},
                 {"ExpressionAttributeValues", {{":o", S(owner)}}}};
  Send(client, {{"UpdateItem", std::move(update)}},
       [this, done = std::move(done)](const std::vector<Reply>& replies) {
         const Outcome outcome = Classify("UpdateItem owner", replies.back());
         if (outcome == Outcome::kAcked) ++reowners_acked_;
         done(outcome);
       });
}

void DynamoWorkload::IssueTemp(uint64_t client, Done done) {
  const std::string id = absl::StrCat("t", rng_.Range(0, kTemps - 1));
  std::pair<std::string, json> request;
  if (rng_.Chance(0.5)) {
    request = {"PutItem",
               {{"TableName", kTable},
                {"Item",
                 {{"id", S(id)},
                  {"owner", S(absl::StrCat("o", rng_.Range(0, kOwners - 1)))},
                  {"note", S(absl::StrCat("note", rng_.Range(0, 999)))}}},
                {"ConditionExpression", "attribute_not_exists(id)"}}};
  } else {
    request = {"DeleteItem",
               {{"TableName", kTable},
                {"Key", KeyOf(id)},
                {"ConditionExpression", "attribute_exists(id)"}}};
  }
  const std::string what = request.first;
  Send(client, {std::move(request)},
       [this, what, done = std::move(done)](const std::vector<Reply>& replies) {
         const Outcome outcome = Classify(what, replies.back());
         if (outcome == Outcome::kAcked) ++temps_acked_;
         done(outcome);
       });
}

// ---------------------------------------------------------------------------------------
// The final read and the index check

void DynamoWorkload::StartFinalReads() {
  if (final_reads_started_) return;
  final_reads_started_ = true;
  if (!setup_done_) {
    final_read_done_ = true;  // nothing to judge: ThinParts says so
    return;
  }
  FinalRead();
}

dynamo::Task<bool> DynamoWorkload::ScanAll(dynamo::TableStore* store, json request,
                                           std::vector<json>* out,
                                           std::shared_ptr<FinalReadResult> result) {
  for (int page = 0; page < kMaxScanPages; ++page) {
    Reply reply = co_await Call(store, "Scan", request);
    if (!reply.ok) {
      result->failed = std::move(reply);
      co_return false;
    }
    for (const json& item : reply.body["Items"]) out->push_back(item);
    if (!reply.body.contains("LastEvaluatedKey")) co_return true;
    request["ExclusiveStartKey"] = reply.body["LastEvaluatedKey"];
  }
  result->failed.message = "the scan did not end within its page bound";
  co_return false;
}

dynamo::Task<bool> DynamoWorkload::FinalReadRequests(dynamo::TableStore* store,
                                                     std::shared_ptr<FinalReadResult> result) {
  const json table_scan = {{"TableName", kTable}, {"ConsistentRead", true}, {"Limit", 5}};
  const bool table_read = co_await ScanAll(store, table_scan, &result->items, result);
  if (!table_read) co_return false;
  const json index_scan = {{"TableName", kTable}, {"IndexName", kIndex}, {"Limit", 5}};
  const bool index_read = co_await ScanAll(store, index_scan, &result->entries, result);
  if (!index_read) co_return false;
  result->complete = true;
  co_return true;
}

void DynamoWorkload::FinalRead() {
  ++final_read_attempts_;
  auto result = std::make_shared<FinalReadResult>();
  const uint64_t invoke_time = scheduler_.now();
  // Client 0: the checker's own, never one of the workload's.
  ClientFor(0).Run(
      coordinators_.RandomUpNode(),
      [result](dynamo::TableStore& store) { return FinalReadRequests(&store, result); },
      [this, result, invoke_time] {
        if (!result->complete) {
          if (!result->failed.error_name.empty()) Classify("final Scan", result->failed);
          if (final_read_attempts_ >= kMaxFinalReadAttempts) {
            final_read_done_ = true;  // unjudged: ThinParts says so
            return;
          }
          scheduler_.After(kFinalReadRetryUs, [this] { FinalRead(); });
          return;
        }
        final_read_done_ = true;
        // Index against table, exactly: every item with an index key has its entry with
        // exactly its projection, and nothing else is in the index.
        std::map<std::string, json> expected;
        checkers::BankRead bank;
        bank.id = bank_reads_.size() + 1;
        bank.invoke_time = invoke_time;
        bank.complete_time = scheduler_.now();
        for (const json& item : result->items) {
          const std::optional<std::string> id = StringOf(item, "id");
          if (!id.has_value()) {
            index_violations_.push_back(absl::StrCat("table item without id: ", item.dump()));
            continue;
          }
          if (std::optional<json> entry = ExpectedEntry(item)) expected[*id] = *entry;
          if (id->front() == 'a') {
            if (std::optional<int64_t> balance = NumberOf(item, "balance")) {
              bank.balances[*id] = *balance;
            }
          }
          if (id->front() == 'c') {
            checkers::CounterOp read;
            read.kind = checkers::CounterOp::Kind::kRead;
            read.key = *id;
            read.invoke_time = invoke_time;
            read.complete_time = scheduler_.now();
            read.outcome = checkers::CounterOp::Outcome::kOk;
            read.value = NumberOf(item, "n").value_or(-1);
            counter_ops_.push_back(read);
          }
        }
        bank_reads_.push_back(std::move(bank));
        std::set<std::string> seen;
        for (const json& entry : result->entries) {
          ++index_entries_checked_;
          const std::optional<std::string> id = StringOf(entry, "id");
          auto it = id.has_value() ? expected.find(*id) : expected.end();
          if (it == expected.end()) {
            index_violations_.push_back(
                absl::StrCat("index entry of no item with an index key: ", entry.dump()));
          } else if (!seen.insert(*id).second) {
            index_violations_.push_back(absl::StrCat("a second index entry of item ", *id, ": ",
                                                     entry.dump(), " (the item is ",
                                                     it->second.dump(), ")"));
          } else if (it->second != entry) {
            index_violations_.push_back(absl::StrCat("index entry ", entry.dump(),
                                                     " differs from the item's projection ",
                                                     it->second.dump()));
          }
        }
        for (const auto& [id, entry] : expected) {
          if (seen.count(id) == 0) {
            index_violations_.push_back(
                absl::StrCat("item ", id, " has no index entry (expected ", entry.dump(), ")"));
          }
        }
      });
}

DynamoWorkload::Verdict DynamoWorkload::Check() const {
  Verdict verdict;
  if (!unexpected_.empty()) {
    verdict.ok = false;
    verdict.verdict = absl::StrCat("dynamo: ", unexpected_.size(), " unexpected replies");
    verdict.details = absl::StrJoin(unexpected_, "\n");
    return verdict;
  }
  if (!index_violations_.empty()) {
    verdict.ok = false;
    verdict.verdict = "dynamo: the index disagrees with its table after heal";
    verdict.details = absl::StrJoin(index_violations_, "\n");
    return verdict;
  }
  absl::StatusOr<checkers::BankReport> bank =
      checkers::CheckBank(accounts_, kInitialBalance * kAccounts, bank_reads_);
  if (!bank.ok()) {
    verdict.ok = false;
    verdict.verdict = absl::StrCat("dynamo bank checker input: ", bank.status().ToString());
    return verdict;
  }
  if (!bank->ok()) {
    verdict.ok = false;
    verdict.verdict = "dynamo bank: a TransactGetItems read broke the invariant";
    verdict.details = bank->ToString();
    return verdict;
  }
  checkers::CounterReport counters = checkers::CheckCounters(counter_ops_);
  if (!counters.ok) {
    verdict.ok = false;
    verdict.verdict = "dynamo counters: not exact";
    verdict.details = counters.violation;
  }
  return verdict;
}

std::string DynamoWorkload::Stats() const {
  uint64_t calls = 0;
  for (const auto& [id, client] : clients_) calls += client->calls();
  const std::string setup =
      setup_done_ ? absl::StrCat(setup_done_us_ / 1000) : std::string("never");
  return absl::StrCat("dynamo setup_ms=", setup, "/", setup_attempts_,
                      " transfers=", transfers_acked_, "/", transfers_sent_,
                      " reads=", bank_reads_.size(), " incr=", increments_acked_,
                      " reowner=", reowners_acked_, " temps=", temps_acked_,
                      " index=", index_entries_checked_, " calls=", calls);
}

bool DynamoWorkload::NeedsMoreOps() const {
  return !setup_done_ || transfers_acked_ == 0 || bank_reads_.empty() || increments_acked_ == 0 ||
         reowners_acked_ == 0;
}

std::string DynamoWorkload::ThinParts() const {
  std::vector<std::string> thin;
  if (!setup_done_) thin.push_back("setup never finished");
  if (transfers_acked_ == 0) thin.push_back("no transfer acknowledged");
  // The final read is one of bank_reads_: at least one read during the chaos too.
  if (bank_reads_.size() < 2) thin.push_back("no TransactGetItems read acknowledged");
  if (increments_acked_ == 0) thin.push_back("no counter increment acknowledged");
  if (reowners_acked_ == 0) thin.push_back("no index key change acknowledged");
  if (index_entries_checked_ == 0) thin.push_back("the final index read never answered");
  return absl::StrJoin(thin, ", ");
}

}  // namespace ekv::sim
