"""How long a clean partition must hold: until its cut-off side has been read through.

A clean cut (partition shapes `halves` and `isolate`) leaves a majority that keeps
committing and a minority that cannot: a write invoked after the cut and acknowledged was
committed by the majority alone, and no minority node can apply it before the heal. A
read of that key through a minority node, invoked after the acknowledgement, must
therefore wait for the majority (a correct cluster answers it only after the heal, or
not at all); a node that answers it at once from its own state (the planted bug
follower_read_without_quorum, or a leader whose lease ran out and still answers) returns
a value older than an acknowledged write.

The partition nemesis holds a clean cut until, through every minority node, some key has
been read twice around two acknowledged writes of it, all invoked after the cut:

    w1 acked < r1 invoked,  r1 answered < w2 invoked,  w2 acked < r2 invoked

(r1 and r2 answered ok). Two rounds, not one: a write whose outcome is unknown may be
linearized as late as the checker likes, once, which could excuse one stale read; it
cannot excuse a second read of a pre-cut value after a write acknowledged after the
first read. A correct cluster answers none of these reads before the heal, so the cut
also ends GRACE_S after the majority's first acknowledgement, and in any case MAX_HOLD_S
after it started (a majority that never acknowledges anything, say). Which condition
ended it is written to nemesis.log.

The window looks at which operations completed and through which node, never at the
values they returned: the nemesis holds a correct cluster and a broken one alike, and the
verdict stays the checker's.
"""
import threading

from .history import OK

GRACE_S = 5.0
MAX_HOLD_S = 12.0
# Bounded memory: a window keeps at most this many reads per (node, key) and writes per key.
MAX_RECORDS = 20_000


def two_rounds(acks, reads):
    """acks, reads: (invoke_us, complete_us) of one key's acknowledged writes and of its ok
    reads through one node. True if w1 < r1 < w2 < r2 in real time (see above). Greedy:
    the earliest acknowledgement admits the most first reads, the first read answered
    earliest admits the most second writes, and so on."""
    if not acks or not reads:
        return False
    w1 = min(c for _, c in acks)
    r1 = min((c for i, c in reads if i > w1), default=None)
    if r1 is None:
        return False
    w2 = min((c for i, c in acks if i > r1), default=None)
    return w2 is not None and any(i > w2 for i, _ in reads)


class CutWindow:
    """Fed every completed operation (Recorder.observers); armed by the nemesis for each
    clean cut."""

    def __init__(self, touched):
        self.touched = touched  # op -> (keys read, keys written), for ops that completed ok
        self.lock = threading.Lock()
        self.minority = None  # node indexes cut off; None: no window open
        self.cut_us = 0
        self.first_ack_us = None
        self.acks = {}   # key -> [(invoke_us, complete_us)] of acknowledged writes
        self.reads = {}  # (node, key) -> [(invoke_us, complete_us)] of ok reads
        self.answered = {}  # node -> the first key found read in two rounds through it

    def open(self, minority, cut_us):
        with self.lock:
            self.minority = frozenset(minority)
            self.cut_us = cut_us
            self.first_ack_us = None
            self.acks = {}
            self.reads = {}
            self.answered = {}

    def close(self):
        with self.lock:
            self.minority = None
            self.acks = {}
            self.reads = {}
            self.answered = {}

    def observe(self, op):
        if op.type != OK:
            return
        with self.lock:
            if self.minority is None or op.invoke_us < self.cut_us:
                return
            reads, writes = self.touched(op)
            interval = (op.invoke_us, op.complete_us)
            for key in writes:
                acks = self.acks.setdefault(key, [])
                if len(acks) < MAX_RECORDS:
                    acks.append(interval)
                if self.first_ack_us is None or op.complete_us < self.first_ack_us:
                    self.first_ack_us = op.complete_us
            if op.node in self.minority:
                for key in reads:
                    seen = self.reads.setdefault((op.node, key), [])
                    if len(seen) < MAX_RECORDS:
                        seen.append(interval)

    def status(self, now_us):
        """None while the window must stay open, else how it ended for each minority node:
        {"n2": "answered k3-1"} (a key read in two rounds) or "grace" (the majority has
        acknowledged writes for GRACE_S and the node answered no two rounds)."""
        with self.lock:
            minority = self.minority
            first_ack_us = self.first_ack_us
            pending = [node for node in sorted(minority) if node not in self.answered]
            acks = {key: list(v) for key, v in self.acks.items()}
            reads = {nk: list(v) for nk, v in self.reads.items() if nk[0] in pending}
        for node in pending:
            answered = sorted(key for (n, key), seen in reads.items()
                              if n == node and two_rounds(acks.get(key), seen))
            if answered:
                with self.lock:
                    self.answered.setdefault(node, answered[0])
        grace = first_ack_us is not None and now_us - first_ack_us >= GRACE_S * 1e6
        result = {}
        for node in sorted(minority):
            if node in self.answered:
                result[f"n{node}"] = f"answered {self.answered[node]}"
            elif grace:
                result[f"n{node}"] = "grace"
            else:
                return None
        return result
