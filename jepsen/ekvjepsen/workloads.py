"""The gRPC workloads: what each client does, how its history is written for ekv-check.
(The Redis and DynamoDB workloads are in redis_workloads.py and dynamo_workloads.py.)

register  single-key reads and writes (gRPC RawGet/RawPut at ts=0 and Redis GET/SET on
          the same keys), checked per key for linearizability. Keys rotate every few
          seconds (Jepsen's independent keys) to keep each key's search small.
bank      transfers between accounts in different Raft groups (keys below and above "m")
          by client-driven Percolator transactions, and snapshot reads of every account;
          the total never changes.
append    list-append transactions (values stored as comma lists) checked by the
          list-append checker for strict serializability.

Outcomes follow Jepsen: ok, fail (certainly did not happen) and info (unknown: a write
that timed out or hit an error after it may have been proposed). A client whose operation
ended in info takes a new process id, as a crashed Jepsen client does.
"""
import random
import threading
import time

import grpc
import redis

from . import client as ekvclient
from .history import FAIL, INFO, OK, esc, time_field

LOCK_TTL_MS = 3000
# Probability that a bank/append client "crashes" right after its primary committed and
# never commits the secondaries: readers must resolve those locks (the planted bug
# resolve_rolls_back_committed rolls them back instead).
CRASH_AFTER_PRIMARY = 0.15


# A pinned reader whose read failed waits this long before the next one.
PINNED_RETRY_S = 0.1

# Nodes serving a Commit right now (node index -> count), so the kill nemesis can aim at
# the moment between a transaction's primary and secondary commits.
COMMITTING = {}
_committing_lock = threading.Lock()


def committing_nodes():
    with _committing_lock:
        return [node for node, count in COMMITTING.items() if count > 0]


class Abort(Exception):
    """The transaction certainly did not commit."""


class Unknown(Exception):
    """The transaction may have committed."""


class Worker:
    """One client thread's connections. A roaming worker starts on node index % nodes + 1 and
    moves to a random node when its node fails it; a pinned worker (pinned_node) only reads
    (Workload.read_step) and never leaves its node, so every node, cut off or not, is read
    through all run long. process_step: how far a new process id jumps (the number of
    workers, so ids never collide)."""

    def __init__(self, index, process_step, cluster, timeout_s, rng, pinned_node=None):
        self.index = index
        self.process = index
        self.process_step = process_step
        self.cluster = cluster
        self.timeout_s = timeout_s
        self.rng = rng
        self.pinned = pinned_node is not None
        self.node_index = pinned_node if self.pinned else index % len(cluster.nodes) + 1
        self.reads = 0  # a pinned reader's count: which key it reads next
        self.conn = None
        self.redis = None
        self.dynamo = None

    def invoke(self, recorder, f, value):
        return recorder.invoke(self.process, f, value, node=self.node_index)

    def grpc(self):
        if self.conn is None:
            self.conn = ekvclient.GrpcConn(self.cluster.node(self.node_index).grpc_target, self.timeout_s)
        return self.conn

    def redis_conn(self):
        if self.redis is None:
            node = self.cluster.node(self.node_index)
            self.redis = redis.Redis(host=node.address, port=node.redis_port, socket_timeout=self.timeout_s,
                                     socket_connect_timeout=self.timeout_s)
        return self.redis

    def dynamo_client(self):
        if self.dynamo is None:
            from . import dynamo_client
            self.dynamo = dynamo_client.connect(self.cluster.node(self.node_index), self.timeout_s)
        return self.dynamo

    def crashed(self):
        """After an unknown outcome: a new process id and, like a reconnecting client, maybe
        another node."""
        self.process += self.process_step
        self.switch_node()

    def switch_node(self, error=None):
        """A roaming worker moves to a random node; a pinned one reconnects to its own (a
        gRPC channel to a node that was down would otherwise back off for seconds)."""
        if error is not None and ekvclient.is_lock_error(error):
            return  # the node is fine; another transaction holds the key
        if self.pinned:
            time.sleep(PINNED_RETRY_S)  # a node that is down refuses at once: no busy loop
        else:
            self.node_index = self.rng.randrange(len(self.cluster.nodes)) + 1
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.redis is not None:
            self.redis.close()
            self.redis = None
        if self.dynamo is not None:
            self.dynamo.close()
            self.dynamo = None


def record_read(worker, recorder, value, read, errors, describe):
    """One read-only operation (f "read", invoked with `value`): ok with what read() returns,
    or, on one of `errors`, fail (a read changes nothing, so its failure is certain) and the
    worker moves on. Returns the completed op."""
    op = worker.invoke(recorder, "read", value)
    try:
        result = read()
    except errors as e:
        recorder.complete(op, FAIL, error=describe(e))
        worker.switch_node(e)
        return op
    recorder.complete(op, OK, result)
    return op


def run_txn(conn, rng, start_ts, mutations, node_index=None):
    """Client-driven Percolator: PreWrite (primary first), Commit the primary, then the
    secondaries. Returns normally if committed; raises Abort or Unknown."""
    try:
        errors = conn.prewrite(mutations, start_ts, LOCK_TTL_MS)
    except grpc.RpcError as e:
        # Never committed: only Commit makes a prewrite visible, and we never send it. Its
        # locks are rolled back by Rollback here or by readers after the TTL.
        _try_rollback(conn, start_ts)
        raise Abort(f"prewrite: {ekvclient.describe(e)}")
    if errors:
        _try_rollback(conn, start_ts)
        raise Abort(f"prewrite: {errors[0].message}")
    keys = [k for k, _ in mutations]
    crash = len(keys) > 1 and rng.random() < CRASH_AFTER_PRIMARY
    with _committing_lock:
        COMMITTING[node_index] = COMMITTING.get(node_index, 0) + 1
    try:
        success, errors = conn.commit(start_ts, keys[:1] if crash else keys)
    except grpc.RpcError as e:
        raise Unknown(f"commit: {ekvclient.describe(e)}")
    finally:
        with _committing_lock:
            COMMITTING[node_index] -= 1
    if not success:
        # The primary's commit was refused (e.g. rolled back after its TTL): not committed.
        _try_rollback(conn, start_ts)
        raise Abort(f"commit refused: {errors[0].message if errors else 'no detail'}")


def _try_rollback(conn, start_ts):
    try:
        conn.rollback(start_ts)
    except grpc.RpcError:
        pass


# ---------------------------------------------------------------------------------------
# register

class RegisterWorkload:
    name = "register"
    model = "register"
    KEYS_PER_EPOCH = 8
    EPOCH_US = 6_000_000

    def __init__(self, rng):
        self.rng = rng
        self.counter = 0
        self.lock = threading.Lock()
        self.epoch = 0
        self.epoch_start_us = 0
        self.faults_in_progress = 0
        # The last value any client saw for a key: what the Redis and DynamoDB registers'
        # compare-and-set expects, so most of them have a chance to apply (expecting random
        # values would make nearly all of them fail).
        self.seen = {}

    def setup(self, conn):
        pass

    def _remember(self, key, value):
        with self.lock:
            self.seen[key] = value

    def next_value(self):
        with self.lock:
            self.counter += 1
            return str(self.counter)

    def key_epoch(self, now_us):
        """Keys rotate every EPOCH_US, except from a fault's start until the nemesis says it
        settled (after the heal and a calm): the keys written just before a fault are the
        ones read after it, so a fault that loses acknowledged writes (kill-all with
        ack_before_fsync) or serves stale state (a partition with follower reads) shows."""
        with self.lock:
            if not self.faults_in_progress and now_us - self.epoch_start_us >= self.EPOCH_US:
                self.epoch += 1
                self.epoch_start_us = now_us
            return self.epoch

    def fault_started(self, kind):
        with self.lock:
            self.faults_in_progress += 1

    def faults_settled(self, kind):
        with self.lock:
            self.faults_in_progress -= 1
            self.epoch_start_us = -self.EPOCH_US  # fresh keys for the next fault

    def key(self, epoch, i):
        # Even keys sort below "m" (group 1), odd ones above (group 2).
        return f"{'a' if i % 2 == 0 else 'r'}{epoch}-{i}"

    def step(self, worker, recorder):
        key = self.key(self.key_epoch(recorder.now_us()), worker.rng.randrange(self.KEYS_PER_EPOCH))
        use_redis = worker.rng.random() < 0.3
        if worker.rng.random() < 0.5:
            self._read(worker, recorder, key, use_redis)
        else:
            self._write(worker, recorder, key, use_redis)

    def read_step(self, worker, recorder):
        """A pinned reader: every key of the epoch in turn, so each is read through every node
        within a few operations (the same front-door mix as step)."""
        i = worker.reads % self.KEYS_PER_EPOCH
        worker.reads += 1
        self.read_key(worker, recorder, self.key(self.key_epoch(recorder.now_us()), i))

    def read_key(self, worker, recorder, key):
        self._read(worker, recorder, key, worker.rng.random() < 0.3)

    def touched(self, op):
        """(keys read, keys written) by an operation that completed ok (cut_window.py)."""
        key = op.value[0]
        return ([key], []) if op.f == "read" else ([], [key])

    def _read(self, worker, recorder, key, use_redis):
        """GET through Redis or RawGet (ts 0) through gRPC."""
        def read():
            v = worker.redis_conn().get(key) if use_redis else worker.grpc().get(key.encode())
            return v.decode() if v is not None else None
        op = record_read(worker, recorder, (key, None), read, (grpc.RpcError, redis.RedisError),
                         ekvclient.describe)
        if op.type == OK:
            self._remember(key, op.result)

    def _write(self, worker, recorder, key, use_redis):
        """SET through Redis or RawPut through gRPC: a write refused at connect never reached
        a server (fail); any other error leaves it unknown (info)."""
        value = self.next_value()
        op = worker.invoke(recorder, "write", (key, value))
        try:
            if use_redis:
                worker.redis_conn().set(key, value)
            else:
                worker.grpc().put(key.encode(), value.encode())
        except (grpc.RpcError, redis.RedisError) as e:
            if ekvclient.never_sent(e):
                recorder.complete(op, FAIL, error=ekvclient.describe(e))
                worker.switch_node(e)
            else:
                recorder.complete(op, INFO, error=ekvclient.describe(e))
                worker.crashed()
            return
        recorder.complete(op, OK)
        self._remember(key, value)

    def edn_value(self, op, completed):
        key, value = op.value
        if op.f == "read":
            return [key, op.result if completed and op.type == OK else None]
        return [key, list(value) if op.f == "cas" else value]  # cas: [expected new]

    def text(self, ops):
        lines = []
        for op in ops:
            key, value = op.value
            if op.f == "cas":  # the Redis and DynamoDB registers' compare-and-set
                expected, new = value
                lines.append(f"{op.id} {op.process} {op.invoke_us} {time_field(op)} {op.type or INFO} "
                             f"cas {esc(key)} {esc(expected)} {esc(new)}")
                continue
            shown = op.result if (op.f == "read" and op.type == OK) else (None if op.f == "read" else value)
            lines.append(f"{op.id} {op.process} {op.invoke_us} {time_field(op)} {op.type or INFO} "
                         f"{op.f} {esc(key)} {esc(shown)}")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# bank

class BankWorkload:
    name = "bank"
    model = "bank"
    LOW = [f"acct-a{i}" for i in range(4)]   # group 1: below "m"
    HIGH = [f"acct-z{i}" for i in range(4)]  # group 2: above "m"
    INITIAL = 100

    def __init__(self, rng):
        self.rng = rng
        self.accounts = self.LOW + self.HIGH
        self.total = self.INITIAL * len(self.accounts)

    def setup(self, conn):
        ts = conn.timestamp()
        run_txn(conn, random.Random(0), ts, [(a.encode(), str(self.INITIAL).encode()) for a in self.accounts])

    def read_all(self, conn):
        # Every account sorts in ["acct-", "acct."): one TransactionalKV.Scan reads them all
        # at one snapshot, across both groups.
        return {k.decode(): int(v) for k, v in conn.scan(b"acct-", b"acct.", 100).items()}

    # What the front door raises, and how an error is told (dynamo-bank has its own).
    ERRORS = grpc.RpcError
    describe = staticmethod(ekvclient.describe)

    def connection(self, worker):
        return worker.grpc()

    def step(self, worker, recorder):
        """A snapshot read of every account (30%) or a transfer."""
        conn = self.connection(worker)
        if worker.rng.random() < 0.3:
            record_read(worker, recorder, None, lambda: self.read_all(conn), self.ERRORS, self.describe)
        else:
            self.transfer(worker, recorder, conn)

    def transfer(self, worker, recorder, conn):
        pair = [worker.rng.choice(self.LOW), worker.rng.choice(self.HIGH)]
        worker.rng.shuffle(pair)
        src, dst = pair
        amount = worker.rng.randint(1, 5)
        op = worker.invoke(recorder, "transfer", {"from": src, "to": dst, "amount": amount})
        try:
            ts = conn.timestamp()
            balances = {a: int(conn.get_at(a.encode(), ts) or b"0") for a in (src, dst)}
        except grpc.RpcError as e:
            recorder.complete(op, FAIL, error=ekvclient.describe(e))
            worker.switch_node(e)
            return
        if balances[src] < amount:
            recorder.complete(op, FAIL, error="insufficient funds")
            return
        mutations = [(src.encode(), str(balances[src] - amount).encode()),
                     (dst.encode(), str(balances[dst] + amount).encode())]
        try:
            run_txn(conn, worker.rng, ts, mutations, worker.node_index)
            recorder.complete(op, OK)
        except Abort as e:
            recorder.complete(op, FAIL, error=str(e))
        except Unknown as e:
            recorder.complete(op, INFO, error=str(e))
            worker.crashed()

    def edn_value(self, op, completed):
        if op.f == "read":
            return {":" + k: v for k, v in (op.result or {}).items()} if completed and op.type == OK else None
        return {":from": ":" + op.value["from"], ":to": ":" + op.value["to"], ":amount": op.value["amount"]}

    def text(self, ops):
        lines = [f"accounts {self.total} " + " ".join(esc(a) for a in self.accounts)]
        for op in ops:
            if op.f == "read" and op.type == OK:
                balances = " ".join(f"{esc(a)}={b}" for a, b in sorted(op.result.items()))
                lines.append(f"read {op.id} {op.process} {op.invoke_us} {op.complete_us} {balances}")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# append

class AppendWorkload:
    name = "append"
    model = "append"
    # Four keys below "m" (group 1) and four above (group 2).
    KEYS = [f"list-a{i}" for i in range(4)] + [f"zlist-{i}" for i in range(4)]

    def __init__(self, rng):
        self.rng = rng
        self.counters = {k: 0 for k in self.KEYS}
        self.lock = threading.Lock()

    def setup(self, conn):
        pass

    def generate(self, rng, keys=None):
        """1-4 micro-ops over `keys` (default: all eight), each an append or a read."""
        ops = []
        for _ in range(rng.randint(1, 4)):
            key = rng.choice(keys or self.KEYS)
            if rng.random() < 0.5:
                with self.lock:
                    self.counters[key] += 1
                    ops.append(["append", key, self.counters[key]])
            else:
                ops.append(["r", key, None])
        return ops

    def step(self, worker, recorder):
        conn = worker.grpc()
        micro = self.generate(worker.rng)
        op = worker.invoke(recorder, "txn", micro)
        touched = []
        for _, key, _ in micro:
            if key not in touched:
                touched.append(key)
        try:
            ts = conn.timestamp()
            state = {}
            for key in touched:
                v = conn.get_at(key.encode(), ts)
                state[key] = [int(x) for x in v.decode().split(",") if x] if v else []
        except grpc.RpcError as e:
            recorder.complete(op, FAIL, error=ekvclient.describe(e))
            worker.switch_node(e)
            return
        results = []
        for kind, key, value in micro:
            if kind == "append":
                state[key] = state[key] + [value]
                results.append([kind, key, value])
            else:
                results.append([kind, key, list(state[key])])
        if any(kind == "append" for kind, _, _ in micro):
            # Every key the transaction read is written too (unchanged if only read), so
            # snapshot isolation's write-write conflicts order read-write transactions:
            # the history must then be strictly serializable.
            mutations = [(k.encode(), ",".join(str(x) for x in state[k]).encode()) for k in touched]
            try:
                run_txn(conn, worker.rng, ts, mutations, worker.node_index)
            except Abort as e:
                recorder.complete(op, FAIL, error=str(e))
                return
            except Unknown as e:
                recorder.complete(op, INFO, error=str(e))
                worker.crashed()
                return
        recorder.complete(op, OK, results)

    def touched(self, op):
        """(keys read, keys appended to) by a transaction that completed ok."""
        reads = [key for kind, key, _ in op.result if kind == "r"]
        return reads, [key for kind, key, _ in op.result if kind == "append"]

    def edn_value(self, op, completed):
        ops = op.result if completed and op.type == OK else op.value
        return [[":" + kind, key, value] for kind, key, value in ops]

    def text(self, ops):
        lines = []
        for op in ops:
            parts = []
            for kind, key, value in (op.result if op.type == OK else op.value):
                if kind == "append":
                    parts.append(f"a:{esc(key)}:{value}")
                elif op.type == OK:
                    parts.append(f"r:{esc(key)}:{','.join(str(x) for x in value)}")
                else:
                    parts.append(f"r:{esc(key)}:?")
            lines.append(f"{op.id} {op.process} {op.invoke_us} {time_field(op)} {op.type or INFO} "
                         + " ".join(parts))
        return "\n".join(lines) + "\n"


WORKLOADS = {"register": RegisterWorkload, "bank": BankWorkload, "append": AppendWorkload}
