#!/usr/bin/python3
"""DescribeTable's ItemCount / TableSizeBytes (and a global index's ItemCount /
IndexSizeBytes), and descending Query pages, driven by boto3 against a running 3-node
cluster whose nodes run with a short --dynamo_table_stats_interval_s.

    /usr/bin/python3 table_stats_test.py PORT_N1 PORT_N2 PORT_N3

The figures are counted in the background (adapters/dynamo/table_stats_counter.h), so each
check polls DescribeTable until the figure is the exact one, with a generous deadline: it
asserts what the figure becomes, never how fast. Sizes follow DynamoDB's item size rules:
for an item of string attributes, the UTF-8 length of every name and value; an index
holds the items as it projects them (here KEYS_ONLY: table key and index key).

Every check prints PASS or FAIL; the last line is "dynamo-stats: N passed, M failed" and the
exit code is non-zero when anything failed.
"""
import time

import harness
from harness import check

# Far beyond what a count takes on a loaded 2-core machine (a few passes, 2 s apart).
DEADLINE_S = 120
NODES = harness.clients(max_attempts=8)
N1, N2, N3 = NODES
STAMP = int(time.time() * 1000)
TABLE = f"stats_{STAMP}"
DESC = f"desc_{STAMP}"


def size_of(item):
    """DynamoDB's size of an item of S attributes."""
    return sum(len(name.encode()) + len(value["S"].encode()) for name, value in item.items())


def make_item(i):
    item = {"pk": {"S": f"p{i % 37}"}, "sk": {"S": f"s{i:05d}"}, "v": {"S": "x" * (i % 50)}}
    if i % 3 == 0:
        item["g"] = {"S": f"g{i % 5}"}  # a third of the items are in the index
    return item


def index_entry(item):
    return {name: item[name] for name in ("pk", "sk", "g")}


def figures():
    """(ItemCount, TableSizeBytes, index ItemCount, IndexSizeBytes) as some node answers."""
    answer = NODES[int(time.time()) % 3].describe_table(TableName=TABLE)["Table"]
    index = answer["GlobalSecondaryIndexes"][0]
    return (answer["ItemCount"], answer["TableSizeBytes"], index["ItemCount"],
            index["IndexSizeBytes"])


def wait_for(want):
    deadline = time.time() + DEADLINE_S
    got = None
    while time.time() < deadline:
        got = figures()
        if got == want:
            return
        time.sleep(0.5)
    raise AssertionError(f"DescribeTable answered {got} for {DEADLINE_S} s, want {want}")


items = {}


@check("a new table describes ItemCount 0")
def _():
    N1.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_g",
                                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    assert figures() == (0, 0, 0, 0), figures()


@check("ItemCount and TableSizeBytes reach the loaded items' count and size")
def _():
    with harness.resource(harness.PORTS[1]).Table(TABLE).batch_writer() as batch:
        for i in range(200):
            item = make_item(i)
            items[(item["pk"]["S"], item["sk"]["S"])] = item
            batch.put_item(Item={name: value["S"] for name, value in item.items()})
    in_index = [index_entry(i) for i in items.values() if "g" in i]
    wait_for((len(items), sum(size_of(i) for i in items.values()), len(in_index),
              sum(size_of(e) for e in in_index)))


@check("the figures follow deletes and updates")
def _():
    for n, key in enumerate(sorted(items)[:60]):
        NODES[n % 3].delete_item(TableName=TABLE, Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}})
        del items[key]
    key = sorted(items)[0]
    N2.update_item(TableName=TABLE, Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}},
                   UpdateExpression="SET v = :v, g = :g",
                   ExpressionAttributeValues={":v": {"S": "longer value"}, ":g": {"S": "gg"}})
    items[key]["v"] = {"S": "longer value"}
    items[key]["g"] = {"S": "gg"}
    in_index = [index_entry(i) for i in items.values() if "g" in i]
    wait_for((len(items), sum(size_of(i) for i in items.values()), len(in_index),
              sum(size_of(e) for e in in_index)))


@check("a descending Query pages over a partition bigger than one read batch")
def _():
    N1.create_table(
        TableName=DESC, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "n", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "n", "AttributeType": "N"}])
    table = harness.resource(harness.PORTS[2]).Table(DESC)
    total = 1500  # more than the 1,000 keys one backend scan returns
    with table.batch_writer() as batch:
        for n in range(total):
            batch.put_item(Item={"pk": "big", "n": n})
        batch.put_item(Item={"pk": "bigger", "n": 1})  # the next partition, never answered
    for limit, want_pages in ((None, 1), (400, 4), (750, 2)):
        seen, pages, start = [], 0, None
        while True:
            request = {"TableName": DESC, "KeyConditionExpression": "pk = :p",
                       "ExpressionAttributeValues": {":p": {"S": "big"}},
                       "ScanIndexForward": False}
            if limit:
                request["Limit"] = limit
            if start:
                request["ExclusiveStartKey"] = start
            page = NODES[pages % 3].query(**request)
            seen += [int(i["n"]["N"]) for i in page["Items"]]
            pages += 1
            start = page.get("LastEvaluatedKey")
            if not start or pages > 20:
                break
        assert seen == list(range(total - 1, -1, -1)), (limit, len(seen), seen[:5], seen[-5:])
        # A page exactly Limit long answers a LastEvaluatedKey (and the next page is empty).
        assert pages == want_pages + (1 if limit and total % limit == 0 else 0), (limit, pages)


@check("DeleteTable (the cluster goes with the test: the big table is left)")
def _():
    N1.delete_table(TableName=TABLE)


harness.finish("dynamo-stats")
