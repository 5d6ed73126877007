#!/usr/bin/python3
"""TransactWriteItems and TransactGetItems driven by boto3 (Debian's python3-boto3) against a
running 3-node cluster.

    /usr/bin/python3 transactions_test.py PORT_N1 PORT_N2 PORT_N3

Every check prints PASS or FAIL; the last line is "dynamo-transactions: N passed, M failed"
and the exit code is non-zero when anything failed. Checks: all four actions across two
tables, cancellation reasons in request order, DynamoDB's validation messages,
ClientRequestToken idempotency across nodes, transactions racing on one item through
different nodes (exactly one wins, the other is cancelled with a reason), and concurrent
transfers whose total a TransactGetItems snapshot always sees intact.
"""
import threading
import time

from botocore.exceptions import ClientError

import harness
from harness import check, expect_error

N1, N2, N3 = harness.clients()
NODES = [N1, N2, N3]
STAMP = int(time.time() * 1000)
ACCOUNTS = f"txn_accounts_{STAMP}"
LOG = f"txn_log_{STAMP}"


def account(node, name):
    item = node.get_item(TableName=ACCOUNTS, Key={"id": {"S": name}}, ConsistentRead=True)
    return int(item["Item"]["balance"]["N"]) if "Item" in item else None


def update(name, expression, values, condition=None):
    body = {"TableName": ACCOUNTS, "Key": {"id": {"S": name}}, "UpdateExpression": expression,
            "ExpressionAttributeValues": values}
    if condition:
        body["ConditionExpression"] = condition
    return {"Update": body}


def transfer(source, target, amount):
    n = {":n": {"N": str(amount)}}
    return [update(source, "SET balance = balance - :n", n, "balance >= :n"),
            update(target, "SET balance = balance + :n", n)]


@check("CreateTable x2")
def _():
    for name in (ACCOUNTS, LOG):
        N1.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    for name in (ACCOUNTS, LOG):
        N3.get_waiter("table_exists").wait(TableName=name)


@check("TransactWriteItems: Put, Update, Delete and ConditionCheck across two tables")
def _():
    N1.put_item(TableName=LOG, Item={"id": {"S": "stale"}})
    N1.transact_write_items(TransactItems=[
        {"Put": {"TableName": ACCOUNTS, "Item": {"id": {"S": f"a{i}"}, "balance": {"N": "100"}}}}
        for i in range(10)])
    out = N2.transact_write_items(TransactItems=[
        {"ConditionCheck": {"TableName": ACCOUNTS, "Key": {"id": {"S": "a0"}},
                            "ConditionExpression": "balance = :b",
                            "ExpressionAttributeValues": {":b": {"N": "100"}}}},
        {"Put": {"TableName": LOG, "Item": {"id": {"S": "opened"}},
                 "ConditionExpression": "attribute_not_exists(id)"}},
        update("a1", "ADD balance :one", {":one": {"N": "1"}}),
        {"Delete": {"TableName": LOG, "Key": {"id": {"S": "stale"}}}}],
        ReturnConsumedCapacity="TOTAL")
    assert sorted(c["TableName"] for c in out["ConsumedCapacity"]) == sorted([ACCOUNTS, LOG]), out
    assert account(N3, "a1") == 101
    assert "Item" in N3.get_item(TableName=LOG, Key={"id": {"S": "opened"}}, ConsistentRead=True)
    assert "Item" not in N3.get_item(TableName=LOG, Key={"id": {"S": "stale"}}, ConsistentRead=True)
    N3.update_item(TableName=ACCOUNTS, Key={"id": {"S": "a1"}}, UpdateExpression="SET balance = :h",
                   ExpressionAttributeValues={":h": {"N": "100"}})


@check("TransactionCanceledException: CancellationReasons in request order, ALL_OLD item")
def _():
    items = transfer("a2", "a3", 1000)[::-1]
    items[1]["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    e = expect_error(lambda: N3.transact_write_items(TransactItems=items),
                     "TransactionCanceledException")
    reasons = e["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"], reasons
    assert reasons[1]["Item"]["balance"] == {"N": "100"}, reasons
    assert "[None, ConditionalCheckFailed]" in e["Error"]["Message"], e
    assert account(N1, "a2") == 100 and account(N1, "a3") == 100


@check("Validation: one item twice, more than 100 actions, two kinds in one action")
def _():
    e = expect_error(lambda: N1.transact_write_items(
        TransactItems=transfer("a4", "a4", 1)), "ValidationException")
    assert e["Error"]["Message"] == \
        "Transaction request cannot include multiple operations on one item", e
    many = [{"Delete": {"TableName": LOG, "Key": {"id": {"S": str(i)}}}} for i in range(101)]
    expect_error(lambda: N2.transact_write_items(TransactItems=many), "ValidationException")


@check("ClientRequestToken: a retry through another node is idempotent; another request is refused")
def _():
    items = [update("a5", "ADD balance :one", {":one": {"N": "1"}})]
    N1.transact_write_items(TransactItems=items, ClientRequestToken="token-a5")
    N2.transact_write_items(TransactItems=items, ClientRequestToken="token-a5")
    N3.transact_write_items(TransactItems=items, ClientRequestToken="token-a5")
    assert account(N1, "a5") == 101, account(N1, "a5")
    other = [update("a5", "ADD balance :two", {":two": {"N": "2"}})]
    expect_error(lambda: N3.transact_write_items(TransactItems=other,
                                                 ClientRequestToken="token-a5"),
                 "IdempotentParameterMismatchException")
    assert account(N2, "a5") == 101


@check("Racing transactions on one item through different nodes: exactly one wins")
def _():
    for round_ in range(8):
        key = f"race-{round_}"
        barrier = threading.Barrier(2)
        outcomes = [None, None]

        def run(i):
            node = NODES[i]
            items = [{"Put": {"TableName": LOG, "Item": {"id": {"S": key}, "by": {"N": str(i)}},
                              "ConditionExpression": "attribute_not_exists(id)"}},
                     {"Put": {"TableName": LOG, "Item": {"id": {"S": f"{key}-by-{i}"}}}}]
            barrier.wait()
            try:
                node.transact_write_items(TransactItems=items)
                outcomes[i] = "ok"
            except ClientError as e:
                codes = [r["Code"] for r in e.response.get("CancellationReasons", [])]
                outcomes[i] = (e.response["Error"]["Code"], codes)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes.count("ok") == 1, outcomes
        loser = 1 - outcomes.index("ok")
        code, codes = outcomes[loser]
        assert code == "TransactionCanceledException", outcomes
        assert codes[0] in ("ConditionalCheckFailed", "TransactionConflict"), outcomes
        assert codes[1] in ("None", "TransactionConflict"), outcomes
        winner = N3.get_item(TableName=LOG, Key={"id": {"S": key}}, ConsistentRead=True)["Item"]
        assert winner["by"]["N"] == str(1 - loser), (winner, outcomes)
        leftover = N3.get_item(TableName=LOG, Key={"id": {"S": f"{key}-by-{loser}"}},
                               ConsistentRead=True)
        assert "Item" not in leftover, ("the loser's other write applied", outcomes)


@check("Concurrent transfers through 3 nodes: every TransactGetItems snapshot sums to 1000")
def _():
    names = [f"a{i}" for i in range(10)]
    # Earlier checks leave balances other than 100 (the ClientRequestToken check leaves a5 at
    # 101): start from a known total, set in one transaction.
    N1.transact_write_items(TransactItems=[
        {"Put": {"TableName": ACCOUNTS, "Item": {"id": {"S": name}, "balance": {"N": "100"}}}}
        for name in names])
    assert sum(account(N3, name) for name in names) == 1000
    stop = time.time() + 15
    committed, cancelled, bad = [0], [0], []

    def mover(i):
        node = NODES[i % 3]
        n = 0
        while time.time() < stop:
            n += 1
            source, target = names[(i + n) % 10], names[(i * 3 + n * 7 + 1) % 10]
            if source == target:
                continue
            try:
                node.transact_write_items(TransactItems=transfer(source, target, 1 + n % 7))
                committed[0] += 1
            except ClientError as e:
                if e.response["Error"]["Code"] != "TransactionCanceledException":
                    bad.append(e.response)
                cancelled[0] += 1

    def auditor():
        while time.time() < stop:
            out = N2.transact_get_items(TransactItems=[
                {"Get": {"TableName": ACCOUNTS, "Key": {"id": {"S": name}},
                         "ProjectionExpression": "balance"}} for name in names])
            total = sum(int(r["Item"]["balance"]["N"]) for r in out["Responses"])
            if total != 1000:
                bad.append(("snapshot total", total))

    threads = [threading.Thread(target=mover, args=(i,)) for i in range(4)]
    threads.append(threading.Thread(target=auditor))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad, bad[:5]
    assert committed[0] > 0, (committed, cancelled)
    final = sum(account(N1, name) for name in names)
    assert final == 1000, final
    print(f"  transfers: {committed[0]} committed, {cancelled[0]} cancelled", flush=True)


@check("TransactGetItems: missing items answer {}, projections apply")
def _():
    out = N3.transact_get_items(TransactItems=[
        {"Get": {"TableName": LOG, "Key": {"id": {"S": "nobody"}}}},
        {"Get": {"TableName": LOG, "Key": {"id": {"S": "opened"}},
                 "ProjectionExpression": "#i", "ExpressionAttributeNames": {"#i": "id"}}}])
    assert out["Responses"] == [{}, {"Item": {"id": {"S": "opened"}}}], out


@check("DeleteTable x2")
def _():
    for name in (ACCOUNTS, LOG):
        N1.delete_table(TableName=name)


harness.finish("dynamo-transactions")
