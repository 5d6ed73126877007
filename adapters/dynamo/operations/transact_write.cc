// TransactWriteItems: up to 100 ConditionCheck / Put / Update / Delete actions on distinct
// items of any tables, all or nothing, as one of core's MVCC transactions
// (TableStore::Commit):
//   1. take a snapshot timestamp from the oracle and read every item at it;
//   2. evaluate every condition and update against that snapshot; any failure cancels the
//      whole request (TransactionCanceledException, one CancellationReason per action in
//      request order);
//   3. commit every write, plus each ConditionCheck's item written back unchanged, at a
//      timestamp above the snapshot. Core refuses the commit when any of those keys gained
//      a version after the snapshot (or is locked by another transaction): the request is
//      then cancelled with TransactionConflict on those items, as DynamoDB does when
//      another operation is in progress on an item. Because every item a decision was made
//      on is in the write set, the transaction is strictly serializable.
//
// ClientRequestToken: the token's record (a hash of the request and its expiry time) is
// written in the same transaction as the items, so it exists exactly when the request's
// writes committed. A later request with the token, through any node, reads it at its own
// snapshot: the same request answers success without writing again; a different one is
// IdempotentParameterMismatchException; past 10 minutes the token is free again, and
// DynamoServer's background TokenSweeper deletes the record (token_sweeper.h).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "adapters/dynamo/capacity.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/item_codec.h"
#include "adapters/dynamo/key_codec.h"
#include "adapters/dynamo/operation_table.h"
#include "adapters/dynamo/request_fields.h"
#include "adapters/dynamo/snapshot_restarts.h"
#include "adapters/dynamo/transaction_fields.h"
#include "adapters/dynamo/transaction_token.h"

namespace ekv::dynamo {

using nlohmann::json;

namespace {

constexpr size_t kMaxClientRequestTokenLength = 36;
// Rounds a request with a token goes again when its commit lost to a concurrent request
// with the same token (the retry then finds the winner's record).
constexpr int kMaxTokenRounds = 3;

enum class ActionKind { kConditionCheck, kPut, kUpdate, kDelete };

struct WriteAction {
  ActionKind kind = ActionKind::kPut;
  std::string table;
  std::string key;
  AttributeMap key_attributes;
  std::set<std::string> key_names;
  AttributeMap item;                  // Put
  std::vector<UpdateAction> updates;  // Update
  std::optional<Condition> condition;
  bool return_old_on_failure = false;
};

absl::Status MissingMember(size_t index, const char* action, const char* member) {
  return ValidationError(absl::StrCat("1 validation error detected: Value null at 'transactItems.",
                                      index + 1, ".member.", action, ".", member,
                                      "' failed to satisfy constraint: Member must not be null"));
}

Task<absl::StatusOr<WriteAction>> ParseAction(const json& element, size_t index,
                                              std::map<std::string, TableSchema>* schemas,
                                              TableStore* store) {
  if (!element.is_object()) co_return SerializationError("A TransactWriteItem must be a structure");
  static const std::pair<const char*, ActionKind> kKinds[] = {
      {"ConditionCheck", ActionKind::kConditionCheck},
      {"Put", ActionKind::kPut},
      {"Update", ActionKind::kUpdate},
      {"Delete", ActionKind::kDelete}};
  const json* body = nullptr;
  WriteAction action;
  for (const auto& [name, kind] : kKinds) {
    auto it = element.find(name);
    if (it == element.end() || it->is_null()) continue;
    if (body != nullptr) {
      co_return ValidationError(
          "TransactItems can only contain one of Check, Put, Update or Delete");
    }
    body = &*it;
    action.kind = kind;
  }
  if (body == nullptr) {
    co_return ValidationError("TransactItems can only contain one of Check, Put, Update or Delete");
  }
  if (!body->is_object()) co_return SerializationError("A transaction action must be a structure");
  const char* member = action.kind == ActionKind::kConditionCheck ? "conditionCheck"
                       : action.kind == ActionKind::kPut          ? "put"
                       : action.kind == ActionKind::kUpdate       ? "update"
                                                                  : "delete";
  absl::StatusOr<const TableSchema*> schema = co_await TransactionTable(*body, schemas, store);
  if (!schema.ok()) co_return schema.status();
  action.table = (*schema)->name;
  action.key_names = {(*schema)->hash.name};
  if ((*schema)->range) action.key_names.insert((*schema)->range->name);

  if (action.kind == ActionKind::kPut) {
    auto item = body->find("Item");
    if (item == body->end() || item->is_null()) co_return MissingMember(index, member, "item");
    absl::StatusOr<AttributeMap> parsed = AttributeMapFromJson(*item);
    if (!parsed.ok()) co_return parsed.status();
    if (absl::Status s = CheckItemSize(*parsed); !s.ok()) co_return s;
    absl::StatusOr<std::string> key = ItemKeyOfItem(**schema, *parsed);
    if (!key.ok()) co_return key.status();
    action.key = *std::move(key);
    action.item = *std::move(parsed);
  } else {
    auto key_json = body->find("Key");
    if (key_json == body->end() || key_json->is_null())
      co_return MissingMember(index, member, "key");
    absl::StatusOr<AttributeMap> attributes = AttributeMapFromJson(*key_json);
    if (!attributes.ok()) co_return attributes.status();
    absl::StatusOr<std::string> key = ItemKeyOfKey(**schema, *attributes);
    if (!key.ok()) co_return key.status();
    action.key = *std::move(key);
    action.key_attributes = *std::move(attributes);
  }

  absl::StatusOr<ExpressionContext> context = ExpressionContextOf(*body);
  if (!context.ok()) co_return context.status();
  if (action.kind == ActionKind::kUpdate) {
    absl::StatusOr<std::optional<std::string>> text = OptionalString(*body, "UpdateExpression");
    if (!text.ok()) co_return text.status();
    if (!text->has_value()) co_return MissingMember(index, member, "updateExpression");
    absl::StatusOr<std::vector<UpdateAction>> updates = ParseUpdate(**text, &*context);
    if (!updates.ok()) co_return updates.status();
    action.updates = *std::move(updates);
  }
  absl::StatusOr<std::optional<Condition>> condition =
      ConditionOf(*body, "ConditionExpression", &*context);
  if (!condition.ok()) co_return condition.status();
  if (action.kind == ActionKind::kConditionCheck && !condition->has_value()) {
    co_return MissingMember(index, member, "conditionExpression");
  }
  action.condition = *std::move(condition);
  if (absl::Status s = CheckAllPlaceholdersUsed(*context); !s.ok()) co_return s;
  absl::StatusOr<bool> return_old = ReturnOldOnConditionFailureOf(*body);
  if (!return_old.ok()) co_return return_old.status();
  action.return_old_on_failure = *return_old;
  co_return action;
}

// A stable fingerprint of what the request asks to write. nlohmann's json objects are
// ordered maps, so the dump is canonical: the same request with its members in another
// order (DynamoDB ignores order) has the same fingerprint. Two independent 64-bit FNV-1a
// hashes; a process-salted hash would differ between nodes.
std::string Fingerprint(const json& transact_items) {
  const std::string text = transact_items.dump();
  uint64_t a = 14695981039346656037ull;
  uint64_t b = 1099511628211ull * 31;
  for (unsigned char c : text) {
    a = (a ^ c) * 1099511628211ull;
    b = (b ^ (c + 0x5bu)) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull;
  }
  return absl::StrFormat("%016x%016x:%d", a, b, text.size());
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The items the actions read, at the snapshot: ConditionCheck keeps the stored bytes, to
// write them back unchanged.
struct Snapshot {
  std::vector<std::optional<AttributeMap>> items;
  std::vector<std::optional<std::string>> bytes;
};

Task<absl::StatusOr<Snapshot>> ReadSnapshot(const std::vector<WriteAction>& actions, uint64_t ts,
                                            TableStore* store) {
  Snapshot snapshot;
  for (const WriteAction& action : actions) {
    absl::StatusOr<std::optional<std::string>> bytes = co_await store->GetRecordAt(action.key, ts);
    if (!bytes.ok()) co_return bytes.status();
    std::optional<AttributeMap> item;
    if (bytes->has_value()) {
      absl::StatusOr<AttributeMap> decoded = DecodeItem(**bytes);
      if (!decoded.ok()) co_return decoded.status();
      item = *std::move(decoded);
    }
    snapshot.items.push_back(std::move(item));
    snapshot.bytes.push_back(*std::move(bytes));
  }
  co_return snapshot;
}

// The reply's ConsumedCapacity (ReturnConsumedCapacity) and ItemCollectionMetrics
// (ReturnItemCollectionMetrics SIZE: per table with local indexes, one entry per item the
// transaction wrote, as DynamoDB answers).
absl::StatusOr<json> ReplyWithMetrics(const json& request, const std::vector<WriteAction>& actions,
                                      const std::map<std::string, TableSchema>& schemas,
                                      const Snapshot& snapshot,
                                      const std::vector<std::optional<AttributeMap>>& written) {
  absl::StatusOr<std::string> mode = ReturnConsumedCapacityOf(request);
  if (!mode.ok()) return mode.status();
  absl::StatusOr<std::string> metrics = ReturnItemCollectionMetricsOf(request);
  if (!metrics.ok()) return metrics.status();
  json reply = json::object();
  if (*metrics == "SIZE") {
    json collections = json::object();
    for (size_t i = 0; i < actions.size(); ++i) {
      if (actions[i].kind == ActionKind::kConditionCheck) continue;
      auto schema = schemas.find(actions[i].table);
      if (schema == schemas.end()) continue;  // a replayed token's reply: nothing written
      const std::optional<AttributeMap>& item = written[i] ? written[i] : snapshot.items[i];
      std::optional<json> collection = ItemCollectionMetricsJson(schema->second, item);
      if (collection.has_value()) collections[actions[i].table].push_back(*std::move(collection));
    }
    reply["ItemCollectionMetrics"] = std::move(collections);
  }
  if (*mode == "NONE") return reply;
  // DynamoDB meters a transactional write at twice a standard one (and a check as a
  // transactional read); index entries too.
  std::map<std::string, CapacityUse> uses;
  for (size_t i = 0; i < actions.size(); ++i) {
    CapacityUse& use = uses[actions[i].table];
    const size_t old_bytes = snapshot.items[i] ? ItemSize(*snapshot.items[i]) : 0;
    if (actions[i].kind == ActionKind::kConditionCheck) {
      use.table += 2 * ReadUnits(old_bytes, /*consistent=*/true);
      continue;
    }
    const size_t new_bytes = written[i] ? ItemSize(*written[i]) : 0;
    use.table += 2 * WriteUnits(std::max(old_bytes, new_bytes));
    auto schema = schemas.find(actions[i].table);
    if (schema == schemas.end()) continue;
    CapacityUse indexes;
    AddIndexWriteUnits(schema->second, actions[i].key, snapshot.items[i], written[i], &indexes);
    for (const auto& [name, units] : indexes.local_indexes) use.local_indexes[name] += 2 * units;
    for (const auto& [name, units] : indexes.global_indexes) use.global_indexes[name] += 2 * units;
  }
  reply["ConsumedCapacity"] = json::array();
  for (const auto& [table, use] : uses) {
    reply["ConsumedCapacity"].push_back(ConsumedCapacityJson(table, use, *mode));
  }
  return reply;
}

}  // namespace

Task<absl::StatusOr<json>> TransactWriteItemsOperation(const json& request, TableStore* store) {
  absl::StatusOr<const json*> items = TransactItemsOf(request);
  if (!items.ok()) co_return items.status();
  absl::StatusOr<std::optional<std::string>> token = OptionalString(request, "ClientRequestToken");
  if (!token.ok()) co_return token.status();
  if (token->has_value() &&
      ((*token)->empty() || (*token)->size() > kMaxClientRequestTokenLength)) {
    co_return ValidationError(absl::StrCat(
        "1 validation error detected: Value '", **token,
        "' at 'clientRequestToken' failed to satisfy constraint: Member must have length ",
        (*token)->empty() ? "greater than or equal to 1" : "less than or equal to 36"));
  }
  if (absl::StatusOr<std::string> mode = ReturnConsumedCapacityOf(request); !mode.ok()) {
    co_return mode.status();
  }
  if (absl::Status s = ReturnItemCollectionMetricsOf(request).status(); !s.ok()) co_return s;

  std::map<std::string, TableSchema> schemas;
  std::vector<WriteAction> actions;
  std::set<std::string> keys;
  size_t request_bytes = 0;
  for (size_t i = 0; i < (*items)->size(); ++i) {
    absl::StatusOr<WriteAction> action = co_await ParseAction((**items)[i], i, &schemas, store);
    if (!action.ok()) co_return action.status();
    if (!keys.insert(action->key).second) {
      co_return ValidationError(
          "Transaction request cannot include multiple operations on one item");
    }
    request_bytes +=
        ItemSize(action->kind == ActionKind::kPut ? action->item : action->key_attributes);
    actions.push_back(*std::move(action));
  }
  if (request_bytes > kMaxTransactionBytes) {
    co_return TransactionTooLarge();
  }
  const std::string fingerprint = Fingerprint(**items);
  const std::string token_key = token->has_value() ? TransactionTokenKey(**token) : "";

  SnapshotRestarts restarts(TableStore::kMaxSnapshotRestarts);
  for (int round = 0;; ++round) {
    absl::StatusOr<uint64_t> ts = co_await store->SnapshotTimestamp(restarts.at_least());
    if (!ts.ok()) co_return ts.status();
    if (token->has_value()) {
      absl::StatusOr<std::optional<std::string>> bytes =
          co_await store->GetRecordAt(token_key, *ts);
      if (restarts.Retry(bytes.status())) continue;
      if (!bytes.ok()) co_return bytes.status();
      std::optional<TokenRecord> record;
      if (bytes->has_value()) record = DecodeTokenRecord(**bytes);
      if (record.has_value() && record->expires_seconds > NowSeconds()) {
        if (record->fingerprint != fingerprint) {
          co_return DynamoError(absl::StatusCode::kInvalidArgument,
                                "IdempotentParameterMismatchException",
                                "Request parameters are different from the previous request with "
                                "the same client request token");
        }
        // The same request committed before: answer as it was answered, write nothing.
        Snapshot none;
        none.items.resize(actions.size());
        const std::vector<std::optional<AttributeMap>> nothing(actions.size());
        co_return ReplyWithMetrics(request, actions, {}, none, nothing);
      }
    }

    absl::StatusOr<Snapshot> snapshot = co_await ReadSnapshot(actions, *ts, store);
    if (restarts.Retry(snapshot.status())) continue;
    if (!snapshot.ok()) co_return snapshot.status();
    std::vector<CancellationReason> reasons(actions.size());
    std::vector<std::optional<AttributeMap>> written(actions.size());
    bool cancelled = false;
    size_t transaction_bytes = 0;
    for (size_t i = 0; i < actions.size(); ++i) {
      const WriteAction& action = actions[i];
      const std::optional<AttributeMap>& current = snapshot->items[i];
      absl::StatusOr<bool> holds = ConditionHolds(action.condition, current);
      if (!holds.ok()) co_return holds.status();
      if (!*holds) {
        reasons[i] = ConditionFailedReason(current, action.return_old_on_failure);
        cancelled = true;
        continue;
      }
      switch (action.kind) {
        case ActionKind::kConditionCheck:
          written[i] = current;
          break;
        case ActionKind::kPut:
          written[i] = action.item;
          break;
        case ActionKind::kDelete:
          break;
        case ActionKind::kUpdate: {
          // An absent item is created from its key, as UpdateItem does.
          absl::StatusOr<AttributeMap> next = ApplyUpdate(
              action.updates, current ? *current : action.key_attributes, action.key_names);
          if (next.ok()) {
            if (absl::Status s = CheckItemSize(*next); !s.ok()) next = s;
          }
          if (!next.ok()) {
            reasons[i] =
                CancellationReason{"ValidationError", std::string(next.status().message()), {}};
            cancelled = true;
            continue;
          }
          written[i] = *std::move(next);
          break;
        }
      }
      if (written[i]) transaction_bytes += ItemSize(*written[i]);
    }
    if (cancelled) co_return TransactionCanceled(reasons);
    if (transaction_bytes > kMaxTransactionBytes) {
      co_return TransactionTooLarge();
    }

    std::vector<TableStore::TxnWrite> writes;
    writes.reserve(actions.size() + 1);
    for (size_t i = 0; i < actions.size(); ++i) {
      TableStore::TxnWrite write;
      write.key = actions[i].key;
      if (actions[i].kind == ActionKind::kConditionCheck) {
        // The checked item written back byte for byte: a write after the snapshot then
        // conflicts with this commit, so the check still holds when the others apply.
        write.record = snapshot->bytes[i];
      } else {
        write.item = written[i];
      }
      writes.push_back(std::move(write));
    }
    // Index entries change in the same transaction as their items.
    for (size_t i = 0; i < actions.size(); ++i) {
      if (actions[i].kind == ActionKind::kConditionCheck) continue;
      if (absl::Status s = store->AddIndexWrites(schemas.at(actions[i].table), actions[i].key,
                                                 snapshot->items[i], written[i], &writes);
          !s.ok()) {
        co_return s;
      }
    }
    if (token->has_value()) {
      TableStore::TxnWrite write;
      write.key = token_key;
      write.record = EncodeTokenRecord({fingerprint, NowSeconds() + kTokenLifetimeSeconds});
      writes.push_back(std::move(write));
    }
    absl::StatusOr<DynamoBackend::CommitResult> commit = co_await store->Commit(writes, *ts);
    if (!commit.ok()) co_return commit.status();
    if (commit->committed) {
      // Indexes added after `schemas` were read (TableStore's header).
      std::map<std::string, std::vector<std::pair<std::string, std::optional<AttributeMap>>>>
          by_table;
      for (size_t i = 0; i < actions.size(); ++i) {
        if (actions[i].kind == ActionKind::kConditionCheck) continue;
        by_table[actions[i].table].emplace_back(actions[i].key, snapshot->items[i]);
      }
      for (const auto& [table, written_keys] : by_table) {
        if (absl::Status s = co_await store->RepairNewIndexes(schemas.at(table), written_keys);
            !s.ok()) {
          co_return s;
        }
      }
      co_return ReplyWithMetrics(request, actions, schemas, *snapshot, written);
    }

    const std::set<std::string> conflicts(commit->conflict_keys.begin(),
                                          commit->conflict_keys.end());
    if (token->has_value() && conflicts.count(token_key) > 0 && round + 1 < kMaxTokenRounds) {
      continue;  // a request with the same token committed meanwhile: look at its record
    }
    bool named = false;
    for (size_t i = 0; i < actions.size(); ++i) {
      if (conflicts.count(actions[i].key) > 0) {
        reasons[i] = TransactionConflictReason();
        named = true;
      }
    }
    if (!named) {
      // Core refused without naming one of the items: every item may be the one.
      for (CancellationReason& reason : reasons) reason = TransactionConflictReason();
    }
    co_return TransactionCanceled(reasons);
  }
}

}  // namespace ekv::dynamo
