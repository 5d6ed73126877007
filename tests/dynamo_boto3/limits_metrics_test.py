#!/usr/bin/python3
"""DynamoDB's limits and reply metrics through boto3 against a running 3-node cluster (the
nodes count tables every second: --dynamo_table_stats_interval_s=1).

    /usr/bin/python3 limits_metrics_test.py PORT_N1 PORT_N2 PORT_N3

Checks: CreateTable answers CREATING and boto3's table_exists waiter returns; UpdateTable
answers UPDATING with the counted ItemCount / TableSizeBytes DescribeTable answers; every
limit of the issue's list refused as DynamoDB refuses it (25 per BatchWriteItem, 100 keys per
BatchGetItem, 100 actions and 4 MB per transaction -- read and write --, 4 KB expressions,
nesting depth 32, key sizes 2048/1024, 1 MB query pages); ReturnConsumedCapacity INDEXES
with the per-index breakdown and ReturnItemCollectionMetrics SIZE on single writes, batches
and transactions. The last line is "dynamo-limits: N passed, M failed".
"""
import time

import harness
from harness import check, expect_error

N1, N2, N3 = harness.clients(max_attempts=8)
STAMP = int(time.time() * 1000)
TABLE = f"limits_{STAMP}"      # pk S + sk N, a GSI and an LSI
COUNTED = f"counted_{STAMP}"   # pk S only
DEADLINE_S = 120  # far beyond what a count takes on a loaded machine (passes 1-2 s apart)


def key(pk, sk):
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


@check("CreateTable answers CREATING; the table_exists waiter sees ACTIVE through another node")
def _():
    out = N1.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "state", "AttributeType": "S"},
                              {"AttributeName": "total", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by_state",
            "KeySchema": [{"AttributeName": "state", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}],
        LocalSecondaryIndexes=[{
            "IndexName": "by_total",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "total", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    assert out["TableDescription"]["TableStatus"] == "CREATING", out["TableDescription"]
    N2.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 1})
    for node in (N1, N2, N3):
        assert node.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE"


@check("ReturnConsumedCapacity INDEXES: Table, GlobalSecondaryIndexes and LocalSecondaryIndexes")
def _():
    item = {**key("c1", 1), "state": {"S": "open"}, "total": {"N": "5"}}
    out = N1.put_item(TableName=TABLE, Item=item, ReturnConsumedCapacity="INDEXES")
    want = {"TableName": TABLE, "CapacityUnits": 3.0, "Table": {"CapacityUnits": 1.0},
            "GlobalSecondaryIndexes": {"by_state": {"CapacityUnits": 1.0}},
            "LocalSecondaryIndexes": {"by_total": {"CapacityUnits": 1.0}}}
    assert out["ConsumedCapacity"] == want, out["ConsumedCapacity"]
    # The GSI key changes (old entry deleted, new one put); the LSI entry does not change.
    out = N2.update_item(TableName=TABLE, Key=key("c1", 1), UpdateExpression="SET #s = :s",
                         ExpressionAttributeNames={"#s": "state"},
                         ExpressionAttributeValues={":s": {"S": "shipped"}},
                         ReturnConsumedCapacity="INDEXES")
    want = {"TableName": TABLE, "CapacityUnits": 3.0, "Table": {"CapacityUnits": 1.0},
            "GlobalSecondaryIndexes": {"by_state": {"CapacityUnits": 2.0}}}
    assert out["ConsumedCapacity"] == want, out["ConsumedCapacity"]
    out = N3.update_item(TableName=TABLE, Key=key("c1", 1), UpdateExpression="SET note = :n",
                         ExpressionAttributeValues={":n": {"S": "x"}},
                         ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == {"TableName": TABLE, "CapacityUnits": 2.0}, out
    out = N1.query(TableName=TABLE, IndexName="by_state", KeyConditionExpression="#s = :s",
                   ExpressionAttributeNames={"#s": "state"},
                   ExpressionAttributeValues={":s": {"S": "shipped"}},
                   ReturnConsumedCapacity="INDEXES")
    assert out["Count"] == 1, out
    want = {"TableName": TABLE, "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.0},
            "GlobalSecondaryIndexes": {"by_state": {"CapacityUnits": 0.5}}}
    assert out["ConsumedCapacity"] == want, out["ConsumedCapacity"]


@check("ReturnItemCollectionMetrics SIZE in BatchWriteItem and TransactWriteItems")
def _():
    collection = lambda pk: {"ItemCollectionKey": {"pk": {"S": pk}},  # noqa: E731
                             "SizeEstimateRangeGB": [0.0, 1.0]}
    out = N2.batch_write_item(
        RequestItems={TABLE: [{"PutRequest": {"Item": {**key("c2", i), "total": {"N": "1"}}}}
                              for i in range(3)]},
        ReturnItemCollectionMetrics="SIZE", ReturnConsumedCapacity="INDEXES")
    assert out["UnprocessedItems"] == {}, out
    assert out["ItemCollectionMetrics"] == {TABLE: [collection("c2")] * 3}, out
    want = [{"TableName": TABLE, "CapacityUnits": 6.0, "Table": {"CapacityUnits": 3.0},
             "LocalSecondaryIndexes": {"by_total": {"CapacityUnits": 3.0}}}]
    assert out["ConsumedCapacity"] == want, out["ConsumedCapacity"]
    out = N3.transact_write_items(
        TransactItems=[{"Put": {"TableName": TABLE, "Item": key("c3", 1)}},
                       {"Delete": {"TableName": TABLE, "Key": key("c2", 0)}},
                       {"ConditionCheck": {"TableName": TABLE, "Key": key("c1", 1),
                                           "ConditionExpression": "attribute_exists(pk)"}}],
        ReturnItemCollectionMetrics="SIZE", ReturnConsumedCapacity="INDEXES")
    assert out["ItemCollectionMetrics"] == {TABLE: [collection("c3"), collection("c2")]}, out
    # Transactional: twice a standard write (the check: twice a consistent read); the
    # deleted item had an LSI entry.
    want = [{"TableName": TABLE, "CapacityUnits": 8.0, "Table": {"CapacityUnits": 6.0},
             "LocalSecondaryIndexes": {"by_total": {"CapacityUnits": 2.0}}}]
    assert out["ConsumedCapacity"] == want, out["ConsumedCapacity"]


@check("Batch limits: 26 writes and 101 keys are refused whole")
def _():
    e = expect_error(lambda: N1.batch_write_item(RequestItems={TABLE: [
        {"PutRequest": {"Item": key("many", i)}} for i in range(26)]}), "ValidationException")
    assert "at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: " \
        "[Member must have length less than or equal to 25," in e["Error"]["Message"], e
    e = expect_error(lambda: N2.batch_get_item(RequestItems={TABLE: {
        "Keys": [key("many", i) for i in range(101)]}}), "ValidationException")
    assert N3.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "many"}})["Count"] == 0


@check("Transaction limits: 101 actions; 4 MB written; 4 MB read by TransactGetItems")
def _():
    e = expect_error(lambda: N1.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": key("tx", i)}} for i in range(101)]),
        "ValidationException")
    assert "less than or equal to 100" in e["Error"]["Message"], e["Error"]
    e = expect_error(lambda: N1.transact_get_items(TransactItems=[
        {"Get": {"TableName": TABLE, "Key": key("tx", i)}} for i in range(101)]),
        "ValidationException")
    blob = "b" * (390 * 1024)  # eleven of them are over 4 MB, ten are not
    items = [{**key("big", i), "blob": {"S": blob}} for i in range(11)]
    e = expect_error(lambda: N2.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": item}} for item in items]), "ValidationException")
    assert e["Error"]["Message"] == "Transaction request size exceeds the limit of 4 MB", e
    N2.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": item}} for item in items[:10]])
    N3.put_item(TableName=TABLE, Item=items[10])
    gets = [{"Get": {"TableName": TABLE, "Key": key("big", i)}} for i in range(11)]
    e = expect_error(lambda: N1.transact_get_items(TransactItems=gets), "ValidationException")
    assert e["Error"]["Message"] == "Transaction request size exceeds the limit of 4 MB", e
    out = N1.transact_get_items(TransactItems=gets[:10])
    assert [len(r["Item"]["blob"]["S"]) for r in out["Responses"]] == [len(blob)] * 10


@check("1 MB pages: a Query over 1.2 MB of items stops at 1 MB with LastEvaluatedKey")
def _():
    # Eleven of the 390 KB items written above are in partition "big": 4.2 MB.
    page = N2.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "big"}})
    assert 2 <= page["Count"] <= 3 and "LastEvaluatedKey" in page, \
        (page["Count"], page.get("LastEvaluatedKey"))
    seen = page["Count"]
    while "LastEvaluatedKey" in page:
        page = N2.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                        ExpressionAttributeValues={":p": {"S": "big"}},
                        ExclusiveStartKey=page["LastEvaluatedKey"])
        seen += page["Count"]
    assert seen == 11, seen


@check("Expression length 4 KB, nesting depth 32, partition key size 2048 bytes")
def _():
    long_filter = " OR ".join(["note = :n"] * 400)  # ~4.4 KB
    assert len(long_filter) > 4096
    e = expect_error(lambda: N1.query(
        TableName=TABLE, KeyConditionExpression="pk = :p", FilterExpression=long_filter,
        ExpressionAttributeValues={":p": {"S": "c1"}, ":n": {"S": "x"}}), "ValidationException")
    assert "Expression size has exceeded the maximum allowed size" in e["Error"]["Message"], e
    nested = {"S": "leaf"}
    for _ in range(33):
        nested = {"L": [nested]}
    expect_error(lambda: N2.put_item(TableName=TABLE, Item={**key("deep", 1), "n": nested}),
                 "ValidationException")
    shallow = {"S": "leaf"}
    for _ in range(31):
        shallow = {"L": [shallow]}
    N2.put_item(TableName=TABLE, Item={**key("deep", 2), "n": shallow})
    expect_error(lambda: N3.put_item(TableName=TABLE, Item=key("k" * 2049, 1)),
                 "ValidationException")
    N3.put_item(TableName=TABLE, Item=key("k" * 2048, 1))
    # An index's partition key is held to the same 2048 bytes (refused before any write).
    expect_error(lambda: N1.put_item(TableName=TABLE, Item={**key("c9", 1),
                                                                "state": {"S": "s" * 2049}}),
                     "ValidationException")


@check("UpdateTable answers UPDATING with the counts DescribeTable answers")
def _():
    N1.create_table(TableName=COUNTED, BillingMode="PAY_PER_REQUEST",
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    N1.get_waiter("table_exists").wait(TableName=COUNTED, WaiterConfig={"Delay": 1})
    for i in range(40):
        (N1, N2, N3)[i % 3].put_item(TableName=COUNTED, Item={"pk": {"S": f"item{i}"}})
    deadline = time.time() + DEADLINE_S
    described = {}
    while time.time() < deadline:
        described = N2.describe_table(TableName=COUNTED)["Table"]
        if described["ItemCount"] == 40:
            break
        time.sleep(0.5)
    assert described["ItemCount"] == 40, described
    out = N3.update_table(TableName=COUNTED, BillingMode="PROVISIONED",
                          ProvisionedThroughput={"ReadCapacityUnits": 5,
                                                 "WriteCapacityUnits": 5})
    updated = out["TableDescription"]
    assert updated["TableStatus"] == "UPDATING", updated
    assert updated["ItemCount"] == 40, updated
    assert updated["TableSizeBytes"] == described["TableSizeBytes"] > 0, (updated, described)
    N3.get_waiter("table_exists").wait(TableName=COUNTED, WaiterConfig={"Delay": 1})


@check("DeleteTable")
def _():
    for name in (TABLE, COUNTED):
        N1.delete_table(TableName=name)
        expect_error(lambda: N2.describe_table(TableName=name), "ResourceNotFoundException")


harness.finish("dynamo-limits")
