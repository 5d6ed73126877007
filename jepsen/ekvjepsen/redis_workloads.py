"""Workloads through the Redis front door only, now that it has lists and transactions.

redis-register  GET, SET and compare-and-set by WATCH k / GET k / MULTI / SET k new / EXEC,
                checked per key for linearizability (the register checker). A CAS whose GET
                saw another value than expected sends no EXEC and is `fail`; one that EXEC
                answers with a null array (the watched key changed) is `fail` too: Redis
                guarantees nothing ran. Only an EXEC whose reply never came, or came as an
                error other than EXECABORT/CROSSSLOT, is `info`.
redis-append    Elle's list-append as Redis transactions: MULTI, RPUSH k v for appends and
                LRANGE k 0 -1 for reads, EXEC. A transaction's keys are all in one Raft group
                (Redis transactions cannot span groups: CROSSSLOT), alternating between the
                group below "m" and the one above. Checked by the list-append checker for
                strict serializability.
"""
import redis

from . import client as ekvclient
from .history import FAIL, INFO, OK
from .workloads import AppendWorkload, RegisterWorkload

# EXEC refusals that guarantee nothing ran: the transaction was discarded while queuing, or
# its keys were not in one group.
_NOTHING_RAN = ("EXECABORT", "CROSSSLOT")


def _exec_error_outcome(error):
    """The outcome of a transaction that writes, given the error its EXEC raised."""
    if isinstance(error, redis.WatchError):
        # redis-py raises WatchError for a null EXEC ("Watched variable changed.") and also
        # for a connection that died or timed out during EXEC while watching: only the
        # first is certain.
        return FAIL if "Watched variable changed" in str(error) else INFO
    if isinstance(error, redis.exceptions.ExecAbortError):
        return FAIL  # redis-py's name for -EXECABORT (it strips the word from the message)
    if isinstance(error, redis.ResponseError) and str(error).startswith(_NOTHING_RAN):
        return FAIL
    if ekvclient.never_sent(error):
        return FAIL
    return INFO


class RedisRegisterWorkload(RegisterWorkload):
    name = "redis-register"
    model = "register"

    def step(self, worker, recorder):
        key = self.key(self.key_epoch(recorder.now_us()), worker.rng.randrange(self.KEYS_PER_EPOCH))
        roll = worker.rng.random()
        if roll < 0.4:
            self._read(worker, recorder, key, use_redis=True)
        elif roll < 0.7:
            self._write(worker, recorder, key, use_redis=True)
        else:
            self._cas(worker, recorder, key)

    def read_key(self, worker, recorder, key):  # a pinned reader's read (read_step)
        self._read(worker, recorder, key, use_redis=True)

    def _cas(self, worker, recorder, key):
        with self.lock:
            expected = self.seen.get(key)
        new = self.next_value()
        op = worker.invoke(recorder, "cas", (key, (expected, new)))
        conn = worker.redis_conn()
        try:
            with conn.pipeline(transaction=True) as pipe:
                # WATCH and GET run at once (redis-py's immediate mode after watch()).
                try:
                    pipe.watch(key)
                    current = pipe.get(key)
                except redis.RedisError as e:
                    # Nothing was queued, no EXEC sent: certainly not applied.
                    recorder.complete(op, FAIL, error=ekvclient.describe(e))
                    worker.switch_node(e)
                    return
                current = current.decode() if current is not None else None
                if current != expected:
                    recorder.complete(op, FAIL, error=f"cas: saw {current!r}")
                    self._remember(key, current)
                    return
                pipe.multi()
                pipe.set(key, new)
                try:
                    pipe.execute()
                except redis.RedisError as e:
                    outcome = _exec_error_outcome(e)
                    recorder.complete(op, outcome, error=ekvclient.describe(e))
                    if outcome == INFO:
                        worker.crashed()
                    return
        except redis.RedisError as e:
            # Only the pipeline's reset (UNWATCH on a dead connection) gets here, after the
            # operation was completed.
            assert op.type is not None, f"cas without an outcome: {e}"
            worker.switch_node(e)
            return
        recorder.complete(op, OK)
        self._remember(key, new)


class RedisAppendWorkload(AppendWorkload):
    name = "redis-append"
    model = "append"
    GROUPS = [AppendWorkload.KEYS[:4], AppendWorkload.KEYS[4:]]  # below "m", above "m"

    def generate(self, rng):
        return super().generate(rng, rng.choice(self.GROUPS))

    def step(self, worker, recorder):
        self._run(worker, recorder, self.generate(worker.rng))

    def read_step(self, worker, recorder):
        """A pinned reader: a read-only transaction over every key of one group, the two
        groups in turn (one group per transaction: CROSSSLOT otherwise)."""
        keys = self.GROUPS[worker.reads % len(self.GROUPS)]
        worker.reads += 1
        self._run(worker, recorder, [["r", key, None] for key in keys])

    def _run(self, worker, recorder, micro):
        op = worker.invoke(recorder, "txn", micro)
        writes = any(kind == "append" for kind, _, _ in micro)
        try:
            with worker.redis_conn().pipeline(transaction=True) as pipe:
                for kind, key, value in micro:
                    if kind == "append":
                        pipe.rpush(key, value)
                    else:
                        pipe.lrange(key, 0, -1)
                replies = pipe.execute()
        except redis.RedisError as e:
            outcome = _exec_error_outcome(e) if writes else FAIL
            recorder.complete(op, outcome, error=ekvclient.describe(e))
            if outcome == INFO:
                worker.crashed()
            else:
                worker.switch_node(e)
            return
        assert len(replies) == len(micro), f"EXEC answered {len(replies)} replies for {len(micro)} commands"
        results = []
        for (kind, key, value), reply in zip(micro, replies):
            if kind == "append":
                results.append([kind, key, value])
            else:
                results.append([kind, key, [int(x) for x in reply]])
        recorder.complete(op, OK, results)
