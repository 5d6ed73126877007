"""Workloads through the DynamoDB front door (boto3), checked by the same checkers.

dynamo-register  one item per register key in table jepsen-register: GetItem with
                 ConsistentRead (read), PutItem (write) and UpdateItem SET v = :new with
                 ConditionExpression v = :expected, or attribute_not_exists(k) for an
                 absent item (cas). ConditionalCheckFailed is a cas that certainly did not
                 apply (`fail`). Linearizability per key.
dynamo-bank      eight accounts (items of table jepsen-bank, attribute b). A transfer is one
                 TransactWriteItems: two UpdateItems, the debit conditioned on b >= amount;
                 TransactionCanceled is `fail`. A read is one TransactGetItems of every
                 account (one snapshot). The total must never change.

Every DynamoDB table lives under one key prefix ("\\x00ddb"), so both workloads run in
the first Raft group: a TransactWriteItems here is core's one-group commit.
"""
import time

from . import dynamo_client
from .history import FAIL, INFO, OK
from .workloads import BankWorkload, RegisterWorkload, record_read

REGISTER_TABLE = "jepsen-register"
BANK_TABLE = "jepsen-bank"


def _setup(cluster, timeout_s, what, request, done_codes=(), setup_s=60):
    """request(client) through node 1, retried for up to setup_s until it succeeds or fails
    with one of done_codes (what a retry after an unknown outcome may find: the table it
    created, say)."""
    deadline = time.monotonic() + setup_s
    client = dynamo_client.connect(cluster.node(1), timeout_s)
    try:
        while True:
            try:
                request(client)
                return
            except dynamo_client.ERRORS as e:
                if dynamo_client.error_code(e) in done_codes:
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{what} kept failing: {dynamo_client.describe(e)}")
                time.sleep(0.5)
    finally:
        client.close()


def _create_table(cluster, timeout_s, table, key):
    _setup(cluster, timeout_s, f"CreateTable {table}",
           lambda client: client.create_table(
               TableName=table, BillingMode="PAY_PER_REQUEST",
               AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
               KeySchema=[{"AttributeName": key, "KeyType": "HASH"}]),
           done_codes=("ResourceInUseException",))


def _write_outcome(worker, error):
    if dynamo_client.refused(error):
        if dynamo_client.error_code(error) == "":
            worker.switch_node(error)  # the node did not answer at all
        return FAIL
    worker.crashed()
    return INFO


class DynamoRegisterWorkload(RegisterWorkload):
    name = "dynamo-register"
    model = "register"
    needs_dynamo = True

    def setup_cluster(self, cluster, timeout_s):
        _create_table(cluster, timeout_s, REGISTER_TABLE, "k")

    def key(self, epoch, i):
        return f"k{epoch}-{i}"  # every DynamoDB table is in the first group

    def step(self, worker, recorder):
        key = self.key(self.key_epoch(recorder.now_us()), worker.rng.randrange(self.KEYS_PER_EPOCH))
        roll = worker.rng.random()
        client = worker.dynamo_client()
        if roll < 0.4:
            self.read_key(worker, recorder, key)
        elif roll < 0.7:
            value = self.next_value()
            op = worker.invoke(recorder, "write", (key, value))
            try:
                client.put_item(TableName=REGISTER_TABLE, Item={"k": {"S": key}, "v": {"S": value}})
            except dynamo_client.ERRORS as e:
                recorder.complete(op, _write_outcome(worker, e), error=dynamo_client.describe(e))
                return
            recorder.complete(op, OK)
            self._remember(key, value)
        else:
            with self.lock:
                expected = self.seen.get(key)
            new = self.next_value()
            op = worker.invoke(recorder, "cas", (key, (expected, new)))
            if expected is None:
                condition, values = "attribute_not_exists(k)", {":new": {"S": new}}
            else:
                condition, values = "v = :expected", {":new": {"S": new}, ":expected": {"S": expected}}
            try:
                client.update_item(TableName=REGISTER_TABLE, Key={"k": {"S": key}},
                                   UpdateExpression="SET v = :new", ConditionExpression=condition,
                                   ExpressionAttributeValues=values)
            except dynamo_client.ERRORS as e:
                recorder.complete(op, _write_outcome(worker, e), error=dynamo_client.describe(e))
                return
            recorder.complete(op, OK)
            self._remember(key, new)

    def read_key(self, worker, recorder, key):
        def read():
            item = worker.dynamo_client().get_item(TableName=REGISTER_TABLE, Key={"k": {"S": key}},
                                                   ConsistentRead=True).get("Item")
            return item["v"]["S"] if item else None
        op = record_read(worker, recorder, (key, None), read, dynamo_client.ERRORS, dynamo_client.describe)
        if op.type == OK:
            self._remember(key, op.result)


class DynamoBankWorkload(BankWorkload):
    name = "dynamo-bank"
    model = "bank"
    needs_dynamo = True

    ERRORS = dynamo_client.ERRORS
    describe = staticmethod(dynamo_client.describe)

    def setup_cluster(self, cluster, timeout_s):
        _create_table(cluster, timeout_s, BANK_TABLE, "id")
        # One transaction, so no read can ever see some accounts and not others.
        _setup(cluster, timeout_s, "bank setup", lambda client: client.transact_write_items(TransactItems=[
            {"Put": {"TableName": BANK_TABLE, "Item": {"id": {"S": a}, "b": {"N": str(self.INITIAL)}}}}
            for a in self.accounts]))

    def connection(self, worker):
        return worker.dynamo_client()

    def read_all(self, client):
        r = client.transact_get_items(TransactItems=[
            {"Get": {"TableName": BANK_TABLE, "Key": {"id": {"S": a}}}} for a in self.accounts])
        balances = {}
        for account, response in zip(self.accounts, r["Responses"]):
            item = response.get("Item")
            if item:
                balances[account] = int(item["b"]["N"])
        return balances

    def transfer(self, worker, recorder, client):
        """Between any two accounts (both are in the first group): one TransactWriteItems."""
        src, dst = worker.rng.sample(self.accounts, 2)
        amount = worker.rng.randint(1, 5)
        op = worker.invoke(recorder, "transfer", {"from": src, "to": dst, "amount": amount})
        try:
            client.transact_write_items(TransactItems=[
                {"Update": {"TableName": BANK_TABLE, "Key": {"id": {"S": src}},
                            "UpdateExpression": "SET b = b - :a", "ConditionExpression": "b >= :a",
                            "ExpressionAttributeValues": {":a": {"N": str(amount)}}}},
                {"Update": {"TableName": BANK_TABLE, "Key": {"id": {"S": dst}},
                            "UpdateExpression": "SET b = b + :a",
                            "ExpressionAttributeValues": {":a": {"N": str(amount)}}}}])
        except dynamo_client.ERRORS as e:
            recorder.complete(op, _write_outcome(worker, e), error=dynamo_client.describe(e))
            return
        recorder.complete(op, OK)

