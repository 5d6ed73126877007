// TransactWriteItems and TransactGetItems through OperationTable::Handle against the fake
// backend, whose commit refuses keys written after the snapshot as core's MVCC does.
#include <chrono>

#include "adapters/dynamo/key_codec.h"
#include "adapters/dynamo/token_sweeper.h"
#include "adapters/dynamo/transaction_token.h"
#include "core/coord/read_restart.h"
#include "tests/dynamo/operation_fixture.h"

namespace ekv::dynamo {
namespace {

class TransactionTest : public DynamoOperationTest {
 protected:
  void SetUp() override {
    CreateOrdersTable();
    Ok("CreateTable", json::parse(R"({
      "TableName": "accounts", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]})"));
    Ok("PutItem", json::parse(R"({"TableName": "accounts",
        "Item": {"id": {"S": "alice"}, "balance": {"N": "100"}}})"));
    Ok("PutItem", json::parse(R"({"TableName": "accounts",
        "Item": {"id": {"S": "bob"}, "balance": {"N": "5"}}})"));
  }
  json Account(const std::string& id) {
    return Ok("GetItem", {{"TableName", "accounts"}, {"Key", {{"id", {{"S", id}}}}}});
  }
  std::string Balance(const std::string& id) {
    json reply = Account(id);
    if (!reply.contains("Item")) return "absent";
    return reply["Item"]["balance"]["N"].get<std::string>();
  }
  // A transfer of `amount` from alice to bob, refused when alice has less.
  json Transfer(int amount) {
    const std::string n = std::to_string(amount);
    return json{{"TransactItems",
                 {{{"Update",
                    {{"TableName", "accounts"},
                     {"Key", {{"id", {{"S", "alice"}}}}},
                     {"UpdateExpression", "SET balance = balance - :n"},
                     {"ConditionExpression", "balance >= :n"},
                     {"ExpressionAttributeValues", {{":n", {{"N", n}}}}}}}},
                  {{"Update",
                    {{"TableName", "accounts"},
                     {"Key", {{"id", {{"S", "bob"}}}}},
                     {"UpdateExpression", "SET balance = balance + :n"},
                     {"ExpressionAttributeValues", {{":n", {{"N", n}}}}}}}}}}};
  }
  std::vector<std::string> Codes(const json& reply) {
    std::vector<std::string> codes;
    for (const json& reason : reply["CancellationReasons"]) codes.push_back(reason["Code"]);
    return codes;
  }
};

TEST_F(TransactionTest, AllFourActionsAcrossTablesCommitTogether) {
  PutOrder("carol", 1, "old");
  Ok("TransactWriteItems", json::parse(R"({"TransactItems": [
      {"ConditionCheck": {"TableName": "accounts", "Key": {"id": {"S": "alice"}},
                          "ConditionExpression": "balance > :z",
                          "ExpressionAttributeValues": {":z": {"N": "0"}}}},
      {"Put": {"TableName": "orders",
               "Item": {"customer": {"S": "carol"}, "seq": {"N": "2"}, "note": {"S": "new"}},
               "ConditionExpression": "attribute_not_exists(customer) "
}
},
      {"Update": {"TableName": "accounts", "Key": {"id": {"S": "bob"}},
                  "UpdateExpression": "ADD balance :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
      {"Delete": {"TableName": "orders", "Key": {"customer": {"S": "carol"}, "seq": {"N": "1"}}}}]
})"));
  EXPECT_EQ(Balance("bob"), "6");
  EXPECT_EQ(Balance("alice"), "100");
  json orders = Ok("Query", json::parse(R"({"TableName": "orders",
      "KeyConditionExpression": "customer = :c", "ExpressionAttributeValues": {":c": {"S": "carol"}}})"));
  EXPECT_EQ(Seqs(orders), std::vector<int>({2}));
}

TEST_F(TransactionTest, AFailedConditionCancelsEverythingWithReasonsInRequestOrder) {
  Ok("TransactWriteItems", Transfer(60));
  EXPECT_EQ(Balance("alice"), "40");
  EXPECT_EQ(Balance("bob"), "65");
  json request = Transfer(60);
  request["TransactItems"][0]["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD";
  // The refused update comes second here, so the order of reasons is visible.
  std::swap(request["TransactItems"][0], request["TransactItems"][1]);
  json reply = Call("TransactWriteItems", request);
  EXPECT_EQ(status_, 400) << reply.dump();
  EXPECT_EQ(reply["__type"], "com.amazonaws.dynamodb.v20120810#TransactionCanceledException");
  EXPECT_EQ(reply["message"],
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            "[None, ConditionalCheckFailed]");
  EXPECT_EQ(Codes(reply), std::vector<std::string>({"None", "ConditionalCheckFailed"}));
  EXPECT_EQ(reply["CancellationReasons"][1]["Item"]["balance"]["N"], "40") << reply.dump();
  EXPECT_EQ(reply["CancellationReasons"][1]["Message"], "The conditional request failed");
  EXPECT_FALSE(reply["CancellationReasons"][0].contains("Item"));
  EXPECT_EQ(Balance("alice"), "40");
  EXPECT_EQ(Balance("bob"), "65");
}

TEST_F(TransactionTest, ValidationAsDynamoDbGivesIt) {
  json duplicate = Transfer(1);
  duplicate["TransactItems"][1] = duplicate["TransactItems"][0];
  json reply = Call("TransactWriteItems", duplicate);
  EXPECT_EQ(reply["__type"], "com.amazonaws.dynamodb.v20120810#ValidationException");
  EXPECT_EQ(reply["message"], "Transaction request cannot include multiple operations on one item");

  json empty = {{"TransactItems", json::array()}};
  EXPECT_EQ(Error("TransactWriteItems", empty), "ValidationException");
  json many = {{"TransactItems", json::array()}};
  for (int i = 0; i < 101; ++i) {
    many["TransactItems"].push_back(
        {{"Delete", {{"TableName", "accounts"}, {"Key", {{"id", {{"S", std::to_string(i)}}}}}}}});
  }
  reply = Call("TransactWriteItems", many);
  EXPECT_NE(reply["message"].get<std::string>().find("less than or equal to 100"),
            std::string::npos)
      << reply.dump();
  many["TransactItems"].erase(100);
  Ok("TransactWriteItems", many);  // 100 is allowed

  json two_kinds = Transfer(1);
  two_kinds["TransactItems"][0]["Delete"] = {{"TableName", "accounts"},
                                             {"Key", {{"id", {{"S", "x"}}}}}};
  reply = Call("TransactWriteItems", two_kinds);
  EXPECT_EQ(reply["message"], "TransactItems can only contain one of Check, Put, Update or Delete");

  json no_condition = json::parse(R"({"TransactItems": [
      {"ConditionCheck": {"TableName": "accounts", "Key": {"id": {"S": "alice"}}}}]})");
  EXPECT_EQ(Error("TransactWriteItems", no_condition), "ValidationException");
  json no_table = Transfer(1);
  no_table["TransactItems"][1]["Update"]["TableName"] = "nope";
  EXPECT_EQ(Error("TransactWriteItems", no_table), "ResourceNotFoundException");
  EXPECT_EQ(Balance("alice"), "100");
}

TEST_F(TransactionTest, AWriteAfterTheSnapshotIsATransactionConflict) {
  backend_.before_next_commit = [&] {
    PutOrder("someone", 1);  // unrelated: no conflict
    Ok("PutItem", json::parse(R"({"TableName": "accounts",
        "Item": {"id": {"S": "bob"}, "balance": {"N": "1000"}}})"));
  };
  json reply = Call("TransactWriteItems", Transfer(10));
  EXPECT_EQ(reply["__type"], "com.amazonaws.dynamodb.v20120810#TransactionCanceledException");
  EXPECT_EQ(Codes(reply), std::vector<std::string>({"None", "TransactionConflict"}));
  EXPECT_EQ(Balance("alice"), "100");
  EXPECT_EQ(Balance("bob"), "1000");
}

TEST_F(TransactionTest, AConditionCheckedItemChangedBeforeCommitConflicts) {
  // Without the checked item in the write set this would commit on a stale check
  // (write skew); the check's write-back makes it a conflict.
  json request = json::parse(R"({"TransactItems": [
      {"ConditionCheck": {"TableName": "accounts", "Key": {"id": {"S": "alice"}},
                          "ConditionExpression": "balance >= :n",
                          "ExpressionAttributeValues": {":n": {"N": "50"}}}},
      {"Put": {"TableName": "accounts", "Item": {"id": {"S": "loan"}, "balance": {"N": "50"}}}}]})");
  backend_.before_next_commit = [&] {
    Ok("UpdateItem", json::parse(R"({"TableName": "accounts", "Key": {"id": {"S": "alice"}},
        "UpdateExpression": "SET balance = :z", "ExpressionAttributeValues": {":z": {"N": "0"}}})"));
  };
  json reply = Call("TransactWriteItems", request);
  EXPECT_EQ(Codes(reply), std::vector<std::string>({"TransactionConflict", "None"}))
      << reply.dump();
  EXPECT_EQ(Balance("loan"), "absent");
  // Unchanged, the check passes and the checked item keeps its value.
  Ok("UpdateItem", json::parse(R"({"TableName": "accounts", "Key": {"id": {"S": "alice"}},
      "UpdateExpression": "SET balance = :z", "ExpressionAttributeValues": {":z": {"N": "70"}}})"));
  Ok("TransactWriteItems", request);
  EXPECT_EQ(Balance("loan"), "50");
  EXPECT_EQ(Balance("alice"), "70");
}

TEST_F(TransactionTest, ClientRequestTokenMakesARetryIdempotent) {
  json request = Transfer(10);
  request["ClientRequestToken"] = "token-1";
  Ok("TransactWriteItems", request);
  Ok("TransactWriteItems", request);  // the retry answers success and writes nothing
  EXPECT_EQ(Balance("alice"), "90");
  EXPECT_EQ(Balance("bob"), "15");
  // Member order does not matter.
  json reordered = json::parse(request.dump());
  Ok("TransactWriteItems", reordered);
  EXPECT_EQ(Balance("alice"), "90");

  json different = Transfer(20);
  different["ClientRequestToken"] = "token-1";
  EXPECT_EQ(Error("TransactWriteItems", different), "IdempotentParameterMismatchException");
  EXPECT_EQ(Balance("alice"), "90");
  different["ClientRequestToken"] = "token-2";
  Ok("TransactWriteItems", different);
  EXPECT_EQ(Balance("alice"), "70");

  // A request that was cancelled left no record: the same token may run again.
  json refused = Transfer(1000);
  refused["ClientRequestToken"] = "token-3";
  EXPECT_EQ(Error("TransactWriteItems", refused), "TransactionCanceledException");
  Ok("UpdateItem", json::parse(R"({"TableName": "accounts", "Key": {"id": {"S": "alice"}},
      "UpdateExpression": "SET balance = :z", "ExpressionAttributeValues": {":z": {"N": "5000"}}})"));
  Ok("TransactWriteItems", refused);
  EXPECT_EQ(Balance("alice"), "4000");

  json long_token = Transfer(1);
  long_token["ClientRequestToken"] = std::string(37, 'x');
  EXPECT_EQ(Error("TransactWriteItems", long_token), "ValidationException");
}

TEST_F(TransactionTest, AnUpdateThatCannotApplyIsAValidationErrorReason) {
  json request = json::parse(R"({"TransactItems": [
      {"Put": {"TableName": "accounts", "Item": {"id": {"S": "dave"}}}},
      {"Update": {"TableName": "accounts", "Key": {"id": {"S": "alice"}},
                  "UpdateExpression": "SET balance = balance + :s",
                  "ExpressionAttributeValues": {":s": {"S": "text"}}}}]})");
  json reply = Call("TransactWriteItems", request);
  EXPECT_EQ(Codes(reply), std::vector<std::string>({"None", "ValidationError"})) << reply.dump();
  EXPECT_EQ(Balance("dave"), "absent");
}

TEST_F(TransactionTest, TransactGetItemsReadsOneSnapshotWithProjections) {
  PutOrder("carol", 1, "hello");
  json reply = Ok("TransactGetItems", json::parse(R"({"TransactItems": [
      {"Get": {"TableName": "accounts", "Key": {"id": {"S": "alice"}}}},
      {"Get": {"TableName": "accounts", "Key": {"id": {"S": "nobody"}}}},
      {"Get": {"TableName": "orders", "Key": {"customer": {"S": "carol"}, "seq": {"N": "1"}},
               "ProjectionExpression": "#n", "ExpressionAttributeNames": {"#n": "note"}}}],
      "ReturnConsumedCapacity": "TOTAL"})"));
  ASSERT_EQ(reply["Responses"].size(), 3u) << reply.dump();
  EXPECT_EQ(reply["Responses"][0]["Item"]["balance"]["N"], "100");
  EXPECT_EQ(reply["Responses"][1], json::object());
  EXPECT_EQ(reply["Responses"][2]["Item"], json::parse(R"({"note": {"S": "hello"}})"));
  EXPECT_EQ(reply["ConsumedCapacity"].size(), 2u) << reply.dump();
  EXPECT_EQ(Error("TransactGetItems", json::parse(R"({"TransactItems": [{"Put": {}}]})")),
            "ValidationException");
  EXPECT_EQ(Error("TransactGetItems", json::parse(R"({"TransactItems": []})")),
            "ValidationException");
}

// A snapshot read refused as ReadRestart (a write the snapshot cannot place, core's
// uncertainty window) makes both transaction kinds read everything again at a new
// snapshot, invisibly to the client.
TEST_F(TransactionTest, AReadRestartRetakesTheSnapshotAndReadsAgain) {
  // Refuses every snapshot below `above` once: the retaken one must be above it.
  int restarts = 0;
  uint64_t above = 0;
  backend_.snapshot_read_fault = [&](const std::string&, uint64_t ts) {
    if (ts > above) return absl::OkStatus();
    ++restarts;
    return coord::ReadRestartError(above, "ReadRestart: test");
  };
  above = 1'000;
  json got = Ok("TransactGetItems", json::parse(R"({"TransactItems": [
      {"Get": {"TableName": "accounts", "Key": {"id": {"S": "alice"}}}},
      {"Get": {"TableName": "accounts", "Key": {"id": {"S": "bob"}}}}]})"));
  EXPECT_EQ(got["Responses"][0]["Item"]["balance"]["N"], "100") << got.dump();
  EXPECT_EQ(got["Responses"][1]["Item"]["balance"]["N"], "5") << got.dump();
  EXPECT_EQ(restarts, 1);
  restarts = 0;
  above = 2'000;
  Ok("TransactWriteItems", Transfer(30));
  EXPECT_EQ(restarts, 1);
  EXPECT_EQ(Balance("alice"), "70");
  EXPECT_EQ(Balance("bob"), "35");
  // A read that keeps restarting is given up after a bounded number of snapshots.
  backend_.snapshot_read_fault = [](const std::string&, uint64_t ts) {
    return coord::ReadRestartError(ts + 1, "ReadRestart: test");
  };
  const std::string error = Error("TransactGetItems", json::parse(R"({"TransactItems": [
      {"Get": {"TableName": "accounts", "Key": {"id": {"S": "alice"}}}}]})"));
  EXPECT_FALSE(error.empty());
  backend_.snapshot_read_fault = nullptr;
}

// DynamoDB's 4 MB aggregate: eleven items of 390 KB (4.19 MB) are refused whole, ten are
// not -- for the items TransactWriteItems writes and for those TransactGetItems reads.
TEST_F(TransactionTest, FourMegabytesInAllIsTheLimitOfBothKinds) {
  const std::string blob(390 * 1024, 'x');
  json writes = {{"TransactItems", json::array()}};
  json gets = {{"TransactItems", json::array()}};
  for (int i = 0; i < 11; ++i) {
    const json key = {{"id", {{"S", "big" + std::to_string(i)}}}};
    json item = key;
    item["blob"] = {{"S", blob}};
    writes["TransactItems"].push_back({{"Put", {{"TableName", "accounts"}, {"Item", item}}}});
    gets["TransactItems"].push_back({{"Get", {{"TableName", "accounts"}, {"Key", key}}}});
  }
  json reply = Call("TransactWriteItems", writes);
  EXPECT_EQ(reply["__type"], "com.amazonaws.dynamodb.v20120810#ValidationException")
      << reply.dump().substr(0, 300);
  EXPECT_EQ(reply["message"], "Transaction request size exceeds the limit of 4 MB");
  EXPECT_EQ(Balance("big0"), "absent");
  json ten = writes;
  ten["TransactItems"].erase(10);
  Ok("TransactWriteItems", ten);
  Ok("PutItem", {{"TableName", "accounts"}, {"Item", writes["TransactItems"][10]["Put"]["Item"]}});

  reply = Call("TransactGetItems", gets);
  EXPECT_EQ(reply["__type"], "com.amazonaws.dynamodb.v20120810#ValidationException")
      << reply.dump().substr(0, 300);
  EXPECT_EQ(reply["message"], "Transaction request size exceeds the limit of 4 MB");
  gets["TransactItems"].erase(10);
  reply = Ok("TransactGetItems", gets);
  ASSERT_EQ(reply["Responses"].size(), 10u);
  EXPECT_EQ(reply["Responses"][9]["Item"]["blob"]["S"], blob);
}

// TokenSweeper deletes a token's record once its 10 minutes are over, never before, a
// bounded number per pass, and leaves bytes that are not a token record alone. Once the
// record is gone the token is free: the same request runs again.
TEST_F(TransactionTest, TokenRecordsAreSweptAfterTenMinutes) {
  const double before =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  json request = Transfer(10);
  for (int i = 0; i < 5; ++i) {
    request["ClientRequestToken"] = "sweep-" + std::to_string(i);
    Ok("TransactWriteItems", request);
  }
  EXPECT_EQ(Balance("alice"), "50");
  const std::string stray = TransactionTokenKey("not-a-record");
  ASSERT_TRUE(RunInline(backend_.Put(stray, "garbage")).ok());
  const auto record = [&](int i) {
    absl::StatusOr<std::optional<std::string>> bytes = RunInline(store_.GetRecordAt(
        TransactionTokenKey("sweep-" + std::to_string(i)), DynamoBackend::kLatestSnapshot));
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.ok() ? *bytes : std::nullopt;
  };
  ASSERT_TRUE(record(0).has_value());
  std::optional<TokenRecord> decoded = DecodeTokenRecord(*record(0));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_GE(decoded->expires_seconds, before + kTokenLifetimeSeconds);

  TokenSweeper sweeper(&store_, {.records_per_pass = 2, .deletes_per_commit = 1});
  // Within the window: nothing goes, however many passes.
  for (int pass = 0; pass < 4; ++pass) {
    absl::StatusOr<size_t> deleted = RunInline(sweeper.RunPass(before + 1));
    ASSERT_TRUE(deleted.ok()) << deleted.status();
    EXPECT_EQ(*deleted, 0u);
  }
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(record(i).has_value()) << i;
  // Past it: at most records_per_pass a pass, until all five are gone.
  const double after = before + kTokenLifetimeSeconds + 60;
  size_t total = 0;
  for (int pass = 0; pass < 6; ++pass) {
    absl::StatusOr<size_t> deleted = RunInline(sweeper.RunPass(after));
    ASSERT_TRUE(deleted.ok()) << deleted.status();
    EXPECT_LE(*deleted, 2u);
    total += *deleted;
  }
  EXPECT_EQ(total, 5u);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(record(i).has_value()) << i;
  absl::StatusOr<std::optional<std::string>> kept = RunInline(backend_.Get(stray));
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->value_or("absent"), "garbage");
  // The token is free again: the same request is a new one and transfers once more.
  request["ClientRequestToken"] = "sweep-0";
  Ok("TransactWriteItems", request);
  EXPECT_EQ(Balance("alice"), "40");
}

// A record rewritten after the sweeper's snapshot (its token reused by a new request once
// free) conflicts with the sweeper's delete and survives with the new request's bytes; the
// other expired records of the same commit are still deleted.
TEST_F(TransactionTest, ATokenReusedDuringTheSweepKeepsItsNewRecord) {
  for (const char* token : {"a", "b", "c"}) {
    ASSERT_TRUE(
        RunInline(backend_.Put(TransactionTokenKey(token), EncodeTokenRecord({"old", 100}))).ok());
  }
  const std::string reused = EncodeTokenRecord({"new", 10000});
  backend_.before_next_commit = [&] {
    ASSERT_TRUE(RunInline(backend_.Put(TransactionTokenKey("b"), reused)).ok());
  };
  TokenSweeper sweeper(&store_, {});
  absl::StatusOr<size_t> deleted = RunInline(sweeper.RunPass(/*now_seconds=*/1000));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 2u);
  const auto stored = [&](const char* token) {
    absl::StatusOr<std::optional<std::string>> bytes =
        RunInline(backend_.Get(TransactionTokenKey(token)));
    EXPECT_TRUE(bytes.ok());
    return bytes.ok() ? bytes->value_or("absent") : "error";
  };
  EXPECT_EQ(stored("a"), "absent");
  EXPECT_EQ(stored("b"), reused);
  EXPECT_EQ(stored("c"), "absent");
  // Not expired at 1000: later passes leave it.
  deleted = RunInline(sweeper.RunPass(1000));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 0u);
  EXPECT_EQ(stored("b"), reused);
}

}  // namespace
}  // namespace ekv::dynamo
