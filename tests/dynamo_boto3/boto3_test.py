#!/usr/bin/python3
"""ekv's DynamoDB front door driven by boto3 (Debian's python3-boto3) against a running
3-node cluster.

    /usr/bin/python3 boto3_test.py PORT_N1 PORT_N2 PORT_N3

Every check prints PASS or FAIL; the last line is "dynamo-boto3: N passed, M failed" and the
exit code is non-zero when anything failed. boto3 signs with SigV4 using fake credentials,
which ekv accepts without checking. Checks: batch writes and the batch_writer helper,
BatchGetItem paginated by UnprocessedKeys, projections, Time to Live expiry, UpdateTable,
tags, global and local secondary indexes (Query/Scan by IndexName, GlobalSecondaryIndexUpdates,
a local index's fetches from the table in ReturnConsumedCapacity), reserved words refused in
expressions.
"""
import time

from boto3.dynamodb.conditions import Attr, Key

from botocore.exceptions import ClientError

import harness
from harness import PORTS, check, expect_error, resource

N1, N2, N3 = harness.clients()
NODES = [N1, N2, N3]
TABLE = f"boto_{int(time.time() * 1000)}"


@check("CreateTable through n1, described on n3")
def _():
    out = N1.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"}])
    # As DynamoDB answers CreateTable; the waiter polls DescribeTable until ACTIVE.
    assert out["TableDescription"]["TableStatus"] == "CREATING", out
    N3.get_waiter("table_exists").wait(TableName=TABLE)


@check("Table.batch_writer: 120 puts in 25-request batches, then a query on n2 sees them all")
def _():
    table = resource(PORTS[0]).Table(TABLE)
    with table.batch_writer() as batch:
        for i in range(120):
            batch.put_item(Item={"pk": "writer", "sk": i, "payload": "p" * 100})
    items = []
    kwargs = {"KeyConditionExpression": Key("pk").eq("writer")}
    while True:
        page = resource(PORTS[1]).Table(TABLE).query(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorted(int(i["sk"]) for i in items) == list(range(120)), len(items)


@check("BatchWriteItem over the wire: UnprocessedItems is {} and limits are DynamoDB's")
def _():
    out = N2.batch_write_item(RequestItems={TABLE: [
        {"PutRequest": {"Item": {"pk": {"S": "raw"}, "sk": {"N": "1"}}}},
        {"DeleteRequest": {"Key": {"pk": {"S": "writer"}, "sk": {"N": "0"}}}}]})
    assert out["UnprocessedItems"] == {}, out
    many = [{"PutRequest": {"Item": {"pk": {"S": "raw"}, "sk": {"N": str(i)}}}} for i in range(26)]
    e = expect_error(lambda: N3.batch_write_item(RequestItems={TABLE: many}), "ValidationException")
    assert e["Error"]["Message"] == (
        "1 validation error detected: Value '{%s=[...]}' at 'requestItems' failed to satisfy "
        "constraint: Map value must satisfy constraint: [Member must have length less than or "
        "equal to 25, Member must have length greater than or equal to 1]" % TABLE), e
    e = expect_error(lambda: N3.batch_write_item(RequestItems={TABLE: many[:13],
                                                               "no_such_table": many[13:]}),
                     "ValidationException")
    assert e["Error"]["Message"] == "Too many items requested for the BatchWriteItem call", e
    expect_error(lambda: N3.batch_write_item(RequestItems={"no_such_table": many[:1]}),
                 "ResourceNotFoundException")


@check("BatchGetItem paginated by UnprocessedKeys past 16 MB, projection applied")
def _():
    blob = "y" * (390 * 1024)
    for start in range(0, 48, 8):
        out = N1.batch_write_item(RequestItems={TABLE: [
            {"PutRequest": {"Item": {"pk": {"S": "big"}, "sk": {"N": str(i)}, "blob": {"S": blob}}}}
            for i in range(start, start + 8)]})
        assert out["UnprocessedItems"] == {}, "unprocessed writes"
    request = {TABLE: {"Keys": [{"pk": {"S": "big"}, "sk": {"N": str(i)}} for i in range(48)],
                       "ProjectionExpression": "sk", "ConsistentRead": True}}
    seen, rounds = set(), 0
    while request:
        rounds += 1
        assert rounds <= 10, "UnprocessedKeys never drains"
        out = [N1, N2, N3][rounds % 3].batch_get_item(RequestItems=request)
        for item in out["Responses"].get(TABLE, []):
            assert set(item) == {"sk"}, item
            seen.add(int(item["sk"]["N"]))
        request = out["UnprocessedKeys"]
    assert seen == set(range(48)), sorted(seen)
    assert rounds >= 2, "18 MB of items came back in one answer"


@check("GetItem with ReturnConsumedCapacity and a nested projection")
def _():
    N2.put_item(TableName=TABLE, Item={"pk": {"S": "doc"}, "sk": {"N": "1"}, "m": {"M": {
        "a": {"L": [{"N": "1"}, {"N": "2"}]}, "b": {"S": "x"}}}})
    out = N3.get_item(TableName=TABLE, Key={"pk": {"S": "doc"}, "sk": {"N": "1"}},
                      ProjectionExpression="m.a[1]", ReturnConsumedCapacity="TOTAL")
    assert out["Item"] == {"m": {"M": {"a": {"L": [{"N": "2"}]}}}}, out
    assert out["ConsumedCapacity"] == {"TableName": TABLE, "CapacityUnits": 0.5}, out


@check("Time to Live: expired items are deleted in the background, others stay")
def _():
    spec = {"Enabled": True, "AttributeName": "expires"}
    out = N1.update_time_to_live(TableName=TABLE, TimeToLiveSpecification=spec)
    assert out["TimeToLiveSpecification"] == spec, out
    desc = N2.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert desc == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}, desc
    now = int(time.time())
    N3.put_item(TableName=TABLE, Item={"pk": {"S": "ttl"}, "sk": {"N": "1"},
                                       "expires": {"N": str(now - 60)}})
    N3.put_item(TableName=TABLE, Item={"pk": {"S": "ttl"}, "sk": {"N": "2"},
                                       "expires": {"N": str(now + 3600)}})
    key1 = {"pk": {"S": "ttl"}, "sk": {"N": "1"}}
    deadline = time.time() + 90  # the sweep runs every 2 s; generous for a loaded machine
    while "Item" in N1.get_item(TableName=TABLE, Key=key1, ConsistentRead=True):
        assert time.time() < deadline, "the expired item was never deleted"
        time.sleep(0.5)
    left = N2.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "ttl"}})["Items"]
    assert [i["sk"]["N"] for i in left] == ["2"], left


@check("UpdateTable billing mode, tags by ARN, DescribeLimits")
def _():
    out = N2.update_table(TableName=TABLE, BillingMode="PROVISIONED",
                          ProvisionedThroughput={"ReadCapacityUnits": 4, "WriteCapacityUnits": 2})
    assert out["TableDescription"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 4, out
    arn = N3.describe_table(TableName=TABLE)["Table"]["TableArn"]
    N1.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "storage"}])
    tags = N2.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert tags == [{"Key": "team", "Value": "storage"}], tags
    N3.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert N1.list_tags_of_resource(ResourceArn=arn)["Tags"] == []
    assert N1.describe_limits()["TableMaxReadCapacityUnits"] == 40000
    expect_error(lambda: N1.update_table(TableName=TABLE, StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}), "ValidationException")


@check("Continuous backups: point-in-time recovery DISABLED; disabling accepted, enabling refused")
def _():
    without = {"ContinuousBackupsStatus": "ENABLED",
               "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    out = N2.describe_continuous_backups(TableName=TABLE)
    assert out["ContinuousBackupsDescription"] == without, out
    out = N3.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    assert out["ContinuousBackupsDescription"] == without, out
    refused = expect_error(lambda: N1.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}),
        "ValidationException")
    assert "not supported by ekv" in refused["Error"]["Message"], refused
    expect_error(lambda: N1.describe_continuous_backups(TableName=f"{TABLE}_none"),
                 "TableNotFoundException")


INDEXED = f"{TABLE}_indexed"


@check("Secondary indexes: GSI and LSI in CreateTable, Query/Scan by IndexName through other nodes")
def _():
    N1.create_table(
        TableName=INDEXED, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"},
                   {"AttributeName": "seq", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in
                              (("customer", "S"), ("seq", "N"), ("status", "S"), ("total", "N"))],
        GlobalSecondaryIndexes=[{
            "IndexName": "by_status",
            "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                          {"AttributeName": "total", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]}}],
        LocalSecondaryIndexes=[{
            "IndexName": "by_total",
            "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                          {"AttributeName": "total", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    N3.get_waiter("table_exists").wait(TableName=INDEXED)
    table = N2.describe_table(TableName=INDEXED)["Table"]
    assert [i["IndexStatus"] for i in table["GlobalSecondaryIndexes"]] == ["ACTIVE"], table
    assert [i["IndexName"] for i in table["LocalSecondaryIndexes"]] == ["by_total"], table
    for seq in range(30):
        item = {"customer": {"S": f"c{seq % 3}"}, "seq": {"N": str(seq)},
                "total": {"N": str(100 - seq)}, "note": {"S": f"n{seq}"}, "big": {"S": "x"}}
        if seq % 5 != 0:  # every fifth item has no status: not in by_status
            item["status"] = {"S": "open" if seq % 2 else "shipped"}
        N1.put_item(TableName=INDEXED, Item=item)
    pages = N2.get_paginator("query").paginate(
        TableName=INDEXED, IndexName="by_status", KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "open"}},
        PaginationConfig={"PageSize": 4})
    items = [item for page in pages for item in page["Items"]]
    totals = [int(i["total"]["N"]) for i in items]
    want = sorted(100 - seq for seq in range(30) if seq % 5 != 0 and seq % 2)
    assert totals == want, (totals, want)
    assert set(items[0]) == {"customer", "seq", "status", "total", "note"}, items[0]
    local = N3.query(TableName=INDEXED, IndexName="by_total", ScanIndexForward=False,
                     KeyConditionExpression="customer = :c AND #t BETWEEN :lo AND :hi",
                     ExpressionAttributeNames={"#t": "total"},  # a reserved word
                     ExpressionAttributeValues={":c": {"S": "c0"}, ":lo": {"N": "80"},
                                                ":hi": {"N": "95"}})
    assert [int(i["total"]["N"]) for i in local["Items"]] == [94, 91, 88, 85, 82], local
    assert set(local["Items"][0]) == {"customer", "seq", "total"}, local
    # The index follows an update at once, through another node.
    N1.update_item(TableName=INDEXED, Key={"customer": {"S": "c1"}, "seq": {"N": "1"}},
                   UpdateExpression="SET #s = :x", ExpressionAttributeNames={"#s": "status"},
                   ExpressionAttributeValues={":x": {"S": "lost"}})
    lost = N3.query(TableName=INDEXED, IndexName="by_status", KeyConditionExpression="#s = :s",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":s": {"S": "lost"}})
    assert [i["seq"]["N"] for i in lost["Items"]] == ["1"], lost
    assert N2.scan(TableName=INDEXED, IndexName="by_status", Select="COUNT")["Count"] == 24
    e = expect_error(lambda: N2.query(
        TableName=INDEXED, IndexName="nope", KeyConditionExpression="customer = :c",
        ExpressionAttributeValues={":c": {"S": "c0"}}), "ValidationException")
    assert e["Error"]["Message"] == "The table does not have the specified index: nope", e
    expect_error(lambda: N2.query(
        TableName=INDEXED, IndexName="by_status", ConsistentRead=True,
        KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "open"}}), "ValidationException")


@check("A local index read that fetches from the table is metered on the table, "
       "per item, as DynamoDB meters it")
def _():
    for seq in (100, 101):  # about 5 KB each: 2 read units per item fetched
        N1.put_item(TableName=INDEXED, Item={
            "customer": {"S": "fetch"}, "seq": {"N": str(seq)}, "total": {"N": str(seq)},
            "big": {"S": "x" * 5000}})
    out = N2.query(TableName=INDEXED, IndexName="by_total", Select="ALL_ATTRIBUTES",
                   ConsistentRead=True, ReturnConsumedCapacity="INDEXES",
                   KeyConditionExpression="customer = :c",
                   ExpressionAttributeValues={":c": {"S": "fetch"}})
    assert [len(i["big"]["S"]) for i in out["Items"]] == [5000, 5000], out["Items"]
    # The KEYS_ONLY entries' bytes, rounded up to 4 KB once, on the index; each whole item,
    # rounded up on its own, on the table.
    assert out["ConsumedCapacity"] == {
        "TableName": INDEXED, "CapacityUnits": 5.0, "Table": {"CapacityUnits": 4.0},
        "LocalSecondaryIndexes": {"by_total": {"CapacityUnits": 1.0}}}, out["ConsumedCapacity"]
    # What the index projects is read from the index alone.
    out = N3.query(TableName=INDEXED, IndexName="by_total", ReturnConsumedCapacity="INDEXES",
                   KeyConditionExpression="customer = :c",
                   ExpressionAttributeValues={":c": {"S": "fetch"}})
    assert out["ConsumedCapacity"] == {
        "TableName": INDEXED, "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.0},
        "LocalSecondaryIndexes": {"by_total": {"CapacityUnits": 0.5}}}, out["ConsumedCapacity"]


@check("An index key attribute of the wrong type is refused as DynamoDB refuses it")
def _():
    e = expect_error(lambda: N2.put_item(TableName=INDEXED, Item={
        "customer": {"S": "c9"}, "seq": {"N": "999"}, "status": {"N": "3"}}),
        "ValidationException")
    assert e["Error"]["Message"] == (
        "One or more parameter values were invalid: Type mismatch for Index Key status "
        "Expected: S Actual: N IndexName: by_status"), e
    assert "Item" not in N1.get_item(TableName=INDEXED,
                                     Key={"customer": {"S": "c9"}, "seq": {"N": "999"}})


@check("UpdateTable GlobalSecondaryIndexUpdates: CREATING, backfilled during writes, ACTIVE; Delete")
def _():
    N2.update_table(
        TableName=INDEXED,
        AttributeDefinitions=[{"AttributeName": "note", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by_note", "KeySchema": [{"AttributeName": "note", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
    indexes = N3.describe_table(TableName=INDEXED)["Table"]["GlobalSecondaryIndexes"]
    status = {i["IndexName"]: i["IndexStatus"] for i in indexes}
    assert status["by_status"] == "ACTIVE" and status["by_note"] in ("CREATING", "ACTIVE"), indexes
    # Writes through every node while the backfill runs: each lands in the index exactly once
    # with its latest note, whether the backfill had passed its item or not.
    for seq in range(30):
        NODES[seq % 3].update_item(
            TableName=INDEXED, Key={"customer": {"S": f"c{seq % 3}"}, "seq": {"N": str(seq)}},
            UpdateExpression="SET note = :n", ExpressionAttributeValues={":n": {"S": f"m{seq}"}})
    for seq in range(30, 40):
        NODES[seq % 3].put_item(TableName=INDEXED, Item={
            "customer": {"S": "c9"}, "seq": {"N": str(seq)}, "note": {"S": f"m{seq}"}})
    deadline = time.time() + 180
    while True:
        indexes = N1.describe_table(TableName=INDEXED)["Table"]["GlobalSecondaryIndexes"]
        status = {i["IndexName"]: i["IndexStatus"] for i in indexes}
        if status["by_note"] == "ACTIVE":
            break
        assert time.time() < deadline, indexes
        try:  # reads of a backfilling index are refused as DynamoDB refuses them
            answer = N1.query(TableName=INDEXED, IndexName="by_note",
                              KeyConditionExpression="note = :n",
                              ExpressionAttributeValues={":n": {"S": "m7"}})
        except ClientError as e:
            assert e.response["Error"]["Message"] == \
                "Cannot read from backfilling global secondary index: by_note", e.response
        else:
            # The backfill may finish between the describe above and the query: then the
            # query was right to answer, and every later describe must say ACTIVE.
            later = N1.describe_table(TableName=INDEXED)["Table"]["GlobalSecondaryIndexes"]
            later_status = {i["IndexName"]: i["IndexStatus"] for i in later}
            assert later_status["by_note"] == "ACTIVE", \
                ("a CREATING index answered a Query", answer, later)
            continue
        time.sleep(0.5)
    assert "Backfilling" not in [i for i in indexes if i["IndexName"] == "by_note"][0], indexes
    for seq in range(40):
        node = NODES[(seq + 1) % 3]
        out = node.query(TableName=INDEXED, IndexName="by_note", KeyConditionExpression="note = :n",
                         ExpressionAttributeValues={":n": {"S": f"m{seq}"}})
        assert [i["seq"]["N"] for i in out["Items"]] == [str(seq)], (seq, out)
    old = N2.query(TableName=INDEXED, IndexName="by_note", KeyConditionExpression="note = :n",
                   ExpressionAttributeValues={":n": {"S": "n7"}})
    assert old["Items"] == [], old
    assert N3.scan(TableName=INDEXED, IndexName="by_note", Select="COUNT")["Count"] == 40
    N3.update_table(TableName=INDEXED,
                    GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_note"}}])
    indexes = N1.describe_table(TableName=INDEXED)["Table"]["GlobalSecondaryIndexes"]
    assert [i["IndexName"] for i in indexes] == ["by_status"], indexes
    N1.delete_table(TableName=INDEXED)


@check("DescribeEndpoints names the node the client reached")
def _():
    for port, node in zip(PORTS, NODES):
        endpoints = node.describe_endpoints()["Endpoints"]
        assert endpoints == [{"Address": f"127.0.0.1:{port}", "CachePeriodInMinutes": 1440}], \
            endpoints


@check("Reserved words: refused bare in every expression as DynamoDB refuses them, "
       "accepted through #placeholders and boto3's condition builder")
def _():
    key = {"pk": {"S": "words"}, "sk": {"N": "1"}}
    N1.put_item(TableName=TABLE, Item={**key, "status": {"S": "new"}, "count": {"N": "1"}})

    def refused(call, what, word):
        e = expect_error(call, "ValidationException")
        want = f"Invalid {what}: Attribute name is a reserved keyword; reserved keyword: {word}"
        assert e["Error"]["Message"] == want, e["Error"]["Message"]

    refused(lambda: N2.update_item(TableName=TABLE, Key=key, UpdateExpression="SET status = :s",
                                   ExpressionAttributeValues={":s": {"S": "done"}}),
            "UpdateExpression", "status")
    refused(lambda: N3.put_item(TableName=TABLE, Item=key,
                                ConditionExpression="attribute_not_exists(Data)"),
            "ConditionExpression", "Data")
    refused(lambda: N1.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                             FilterExpression="count > :z",
                             ExpressionAttributeValues={":p": {"S": "words"}, ":z": {"N": "0"}}),
            "FilterExpression", "count")
    refused(lambda: N2.get_item(TableName=TABLE, Key=key, ProjectionExpression="sk, name"),
            "ProjectionExpression", "name")
    # Nothing refused was written.
    item = N3.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
    assert item["status"] == {"S": "new"} and item["count"] == {"N": "1"}, item
    out = N1.update_item(TableName=TABLE, Key=key, UpdateExpression="SET #s = :s, #c = #c + :one",
                         ConditionExpression="#s = :was",
                         ExpressionAttributeNames={"#s": "status", "#c": "count"},
                         ExpressionAttributeValues={":s": {"S": "done"}, ":one": {"N": "1"},
                                                    ":was": {"S": "new"}},
                         ReturnValues="UPDATED_NEW")
    assert out["Attributes"] == {"status": {"S": "done"}, "count": {"N": "2"}}, out
    # boto3's condition builder names every attribute through a placeholder of its own.
    table = resource(PORTS[1]).Table(TABLE)
    found = table.query(KeyConditionExpression=Key("pk").eq("words"),
                        FilterExpression=Attr("status").eq("done") & Attr("count").gt(1))
    assert [int(i["sk"]) for i in found["Items"]] == [1], found


@check("DeleteTable")
def _():
    N1.delete_table(TableName=TABLE)
    expect_error(lambda: N2.describe_table(TableName=TABLE), "ResourceNotFoundException")


harness.finish("dynamo-boto3")
