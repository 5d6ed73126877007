"""The history of one run: every operation's invocation and completion, as Jepsen records
them, written in two forms:
  history.edn  Jepsen's own format ({:type :invoke ...} then {:type :ok|:fail|:info ...}),
               so Elle or Knossos can re-check a run elsewhere;
  history.txt  ekv-check's text format (sim/tools/history_text.h), checked here by the
               simulator's checkers.
Times are microseconds since the run started (EDN :time is nanoseconds, as in Jepsen).
"""
import threading
import time
import urllib.parse

OK, FAIL, INFO = "ok", "fail", "info"


def esc(s):
    if s is None:
        return "%nil"
    if isinstance(s, bytes):
        return urllib.parse.quote_from_bytes(s, safe="")
    return urllib.parse.quote(str(s), safe="")


class Op:
    __slots__ = ("id", "process", "f", "value", "invoke_us", "complete_us", "type", "result", "error",
                 "node")

    def __init__(self, op_id, process, f, value, invoke_us, node=None):
        self.id = op_id
        self.process = process
        # The node the client sent it to (1-based; None: not tied to one). Not part of the
        # history files: the nemesis uses it to see which reads went through a cut-off node.
        self.node = node
        self.f = f
        self.value = value
        self.invoke_us = invoke_us
        self.complete_us = None
        self.type = None
        self.result = None
        self.error = None


class Recorder:
    def __init__(self):
        self.t0 = time.monotonic_ns()
        self.lock = threading.Lock()
        self.ops = []
        # Called with every completed operation, in the completing client's thread (see
        # cut_window.py). Registered before the clients start.
        self.observers = []

    def now_us(self):
        return (time.monotonic_ns() - self.t0) // 1000

    def invoke(self, process, f, value, node=None):
        with self.lock:
            op = Op(len(self.ops), process, f, value, self.now_us(), node)
            self.ops.append(op)
        return op

    def complete(self, op, outcome, result=None, error=None):
        assert op.type is None, "completed twice"
        op.complete_us = max(self.now_us(), op.invoke_us)
        op.type = outcome
        op.result = result
        op.error = error
        for observe in self.observers:
            observe(op)

    def counts(self):
        c = {OK: 0, FAIL: 0, INFO: 0}
        for op in self.ops:
            c[op.type or INFO] += 1
        return c


# ---------------------------------------------------------------------------------------
# EDN

def edn(v):
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        if v.startswith(":"):
            return v  # a keyword
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(edn(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{edn(k)} {edn(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"no EDN for {type(v)}")


def write_edn(path, ops, edn_value):
    """edn_value(op, completed) -> the op's :value at invocation (False) or completion."""
    events = []
    for op in ops:
        events.append((op.invoke_us, 0, op, False))
        events.append((op.complete_us if op.complete_us is not None else 1 << 62, 1, op, True))
    events.sort(key=lambda e: (e[0], e[1], e[2].id))
    with open(path, "w") as f:
        for index, (t, _, op, completed) in enumerate(events):
            if completed and op.type is None:
                continue
            m = {":index": index, ":type": ":" + (op.type if completed else "invoke"),
                 ":f": ":" + op.f, ":value": edn_value(op, completed), ":process": op.process,
                 ":time": t * 1000}
            if completed and op.error:
                m[":error"] = op.error
            f.write(edn(m) + "\n")


def time_field(op):
    return "-" if op.complete_us is None else str(op.complete_us)
