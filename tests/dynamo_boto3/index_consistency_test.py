#!/usr/bin/python3
"""Global secondary index reads during concurrent writes, through boto3 against a running
3-node ekv cluster whose tables and indexes are spread over several Raft groups.

    /usr/bin/python3 index_consistency_test.py PORT_N1 PORT_N2 PORT_N3

Every item always has exactly one GSI key, and writers keep moving items from one GSI key
to another (UpdateItem SET slot = <new>, ver = ver + 1). An item and its old and new index
entries usually live in different groups, so each write is a cross-group transaction.
Checked while the writers run:
  - every Scan of the index (one page, one snapshot) holds each item exactly once, at the
    slot its own `ver` names: never the old and the new entry, never neither;
  - right after a write is acknowledged, a Query of the new slot through another node finds
    the item at that version, and a Query of the old slot finds nothing.
The last line is "dynamo-index-consistency: N passed, M failed"; non-zero exit on failure.
"""
import sys
import threading
import time
import traceback

import boto3
from botocore.config import Config

if len(sys.argv) != 4:
    print("usage: index_consistency_test.py PORT_N1 PORT_N2 PORT_N3", file=sys.stderr)
    sys.exit(2)
PORTS = [int(p) for p in sys.argv[1:]]
ITEMS = 8
UPDATES_PER_WRITER = 24
WRITERS = 2
TABLE = f"gsi_race_{int(time.time() * 1000)}"


def client(port):
    return boto3.client(
        "dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id="fakeMyKeyId", aws_secret_access_key="fakeSecretAccessKey",
        config=Config(retries={"max_attempts": 8, "mode": "standard"}, read_timeout=60))


def slot(item, ver):
    return f"s{item}-{ver}"


failures = []
failures_lock = threading.Lock()


def fail(message):
    with failures_lock:
        failures.append(message)
    print(f"FAIL {message}", flush=True)


def writer(index, stop):
    node = client(PORTS[index % 3])
    other = client(PORTS[(index + 1) % 3])
    mine = [i for i in range(ITEMS) if i % WRITERS == index]
    try:
        vers = {item: 0 for item in mine}  # each writer owns its items
        for round_ in range(UPDATES_PER_WRITER // len(mine)):
            for item in mine:
                ver = vers[item] + 1
                node.update_item(
                    TableName=TABLE, Key={"id": {"S": f"i{item}"}},
                    UpdateExpression="SET slot = :s, ver = :v",
                    ConditionExpression="ver = :prev",
                    ExpressionAttributeValues={":s": {"S": slot(item, ver)},
                                               ":v": {"N": str(ver)},
                                               ":prev": {"N": str(ver - 1)}})
                vers[item] = ver
                found = other.query(TableName=TABLE, IndexName="by_slot",
                                    KeyConditionExpression="slot = :s",
                                    ExpressionAttributeValues={":s": {"S": slot(item, ver)}})
                got = [(i["id"]["S"], i["ver"]["N"]) for i in found["Items"]]
                if got != [(f"i{item}", str(ver))]:
                    fail(f"after the write of i{item} v{ver}: query of its slot via another "
                         f"node answered {got}")
                old = other.query(TableName=TABLE, IndexName="by_slot",
                                  KeyConditionExpression="slot = :s",
                                  ExpressionAttributeValues={":s": {"S": slot(item, ver - 1)}})
                if old["Items"]:
                    fail(f"after the write of i{item} v{ver}: its old slot still answers "
                         f"{old['Items']}")
    except Exception:
        fail(f"writer {index}: {traceback.format_exc()}")
    finally:
        stop.set()


def reader(index, stop, counts):
    node = client(PORTS[index % 3])
    try:
        while not stop.is_set():
            out = node.scan(TableName=TABLE, IndexName="by_slot")
            if "LastEvaluatedKey" in out:
                fail(f"index scan of {ITEMS} items paged: {out}")
                return
            ids = [i["id"]["S"] for i in out["Items"]]
            if sorted(ids) != sorted(f"i{i}" for i in range(ITEMS)):
                fail(f"index scan saw {sorted(ids)}, not each of the {ITEMS} items once")
            for entry in out["Items"]:
                item = int(entry["id"]["S"][1:])
                ver = int(entry["ver"]["N"])
                # An entry is written with the item's whole new value.
                if entry["slot"]["S"] != slot(item, ver):
                    fail(f"index entry {entry} does not match its own version")
            counts[index] += 1
    except Exception:
        fail(f"reader {index}: {traceback.format_exc()}")


def main():
    setup = client(PORTS[0])
    setup.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "slot", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by_slot",
            "KeySchema": [{"AttributeName": "slot", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}])
    for item in range(ITEMS):
        setup.put_item(TableName=TABLE, Item={"id": {"S": f"i{item}"}, "ver": {"N": "0"},
                                              "slot": {"S": slot(item, 0)}})
    stops = [threading.Event() for _ in range(WRITERS)]
    all_stopped = threading.Event()
    counts = [0, 0]
    threads = [threading.Thread(target=writer, args=(w, stops[w])) for w in range(WRITERS)]
    threads += [threading.Thread(target=reader, args=(r, all_stopped, counts)) for r in range(2)]
    for t in threads:
        t.start()
    for s in stops:
        s.wait()
    all_stopped.set()
    for t in threads:
        t.join()
    final = setup.scan(TableName=TABLE, IndexName="by_slot")["Items"]
    vers = {i["id"]["S"]: int(i["ver"]["N"]) for i in final}
    expected = {f"i{i}": UPDATES_PER_WRITER // (ITEMS // WRITERS) for i in range(ITEMS)}
    if vers != expected:
        fail(f"final index {vers}, expected {expected}")
    print(f"index scans during the writes: {counts}", flush=True)
    if min(counts) == 0:
        fail("a reader finished no scan while the writers ran")
    setup.delete_table(TableName=TABLE)
    passed = 0 if failures else 1
    print(f"dynamo-index-consistency: {passed} passed, {len(failures)} failed")
    sys.exit(0 if not failures else 1)


main()
