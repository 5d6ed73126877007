"""Faults, scheduled from the run's seed and logged with timestamps.

  partition  nftables drops inside the node namespaces: random halves, one node isolated,
             a majority ring (each node sees a different majority) or a bridge (two
             halves that both see one middle node); each round of shapes starts with a
             clean cut (halves or isolate), which, with pinned readers, holds until its
             minority has been read through (cut_window.py)
  kill       kill -9 of one or two nodes (half the time: the node serving a client's
             Commit), restarted later with the same command line
  kill-all   kill -9 of every node at once (a power loss: whatever a node acknowledged
             but had not made durable is gone), every node restarted later
  pause      SIGSTOP of one or two nodes, SIGCONT later
  clock      per-node wall-clock offsets (libfaketime), then a jump back to true time
  split      Distribution.SplitRange of a random route at a random key inside it
  member     proto.Cluster RemoveNode of one node (through another), which is then killed
             and its data dir deleted; later it rejoins as a new member (ekv-server --join:
             AddNode as a learner, PromoteNode once caught up) under the same id

Every fault but split lasts a few seconds and is healed before the next one starts, so
the cluster keeps a working majority most of the time and the run exercises recovery.
"""
import json
import signal
import time

import grpc

from . import cut_window

FAULTS = ("partition", "kill", "kill-all", "pause", "clock", "split", "member")
# Clean cuts leave a minority cut off from a majority that keeps committing (cut_window.py);
# each round of shapes starts with one of them, so every run that partitions has one.
CLEAN_SHAPES = ("halves", "isolate")
OTHER_SHAPES = ("majority-ring", "bridge")
# The time clean cuts hold beyond their drawn length (waiting for cut_window) is added to the
# run, so the faults after them still run; at most this much per run.
MAX_EXTENSION_S = 20.0
MAX_SPLITS = 8
SPLIT_PREFIXES = ["a", "acct-a", "acct-z", "list-a", "zlist-", "r", "t", "x"]


class Nemesis:
    def __init__(self, cluster, network, faults, rng, recorder, log_path, conn_factory, workload=None):
        self.cluster = cluster
        # Told when a fault starts and when the calm after it ends (fault_started /
        # faults_settled), so a workload can aim at what the fault may have broken.
        self.workload = workload
        self.network = network
        self.faults = faults
        self.rng = rng
        self.recorder = recorder
        self.log = open(log_path, "w")
        self.conn_factory = conn_factory
        self.windows = []  # (kind, start_us, stop_us) for the plot
        self.counts = {f: 0 for f in faults}
        self.splits = 0
        self.active = None
        self.shapes = []  # the partition shapes left in this round
        self.minority = None  # the cut-off nodes of the clean cut in force
        # Workloads with pinned readers (read_step) read through every node; a clean cut
        # then holds until its minority has been read through (cut_window.py).
        self.window = None
        if workload is not None and hasattr(workload, "read_step"):
            self.window = cut_window.CutWindow(workload.touched)
            recorder.observers.append(self.window.observe)

    def note(self, event, kind, **detail):
        entry = {"time_us": self.recorder.now_us(), "wall": time.strftime("%H:%M:%S"), "event": event,
                 "fault": kind, **detail}
        self.log.write(json.dumps(entry) + "\n")
        self.log.flush()
        return entry["time_us"]

    def run(self, duration_s, stop_event):
        """Runs faults until duration_s has passed (in the calling thread: nodes restarted
        here must be children of a thread that outlives them, see cluster.py)."""
        deadline = time.monotonic() + duration_s
        extension_left = MAX_EXTENSION_S
        # Short runs (CI) hold faults and calms for less, so they still see several.
        short = duration_s < 40
        hold_s, calm_s = ((1.5, 3.0), (0.5, 1.5)) if short else ((2.0, 6.0), (1.0, 3.0))
        order = []
        time.sleep(min(2.0, duration_s / 4))  # a fault-free start
        while time.monotonic() < deadline - 3 and not stop_event.is_set():
            # Every kind once, in a seeded order, before any kind repeats.
            if not order:
                order = list(self.faults)
                self.rng.shuffle(order)
            kind = order.pop()
            hold = self.rng.uniform(*hold_s)
            self._tell("fault_started", kind)
            start = self.start(kind)
            if start is not None:
                held_from = time.monotonic()
                drawn = min(hold, max(0.0, deadline - time.monotonic() - 1))
                self._sleep(drawn, stop_event)
                if self.minority is not None:
                    self._hold_until_read_through(held_from, stop_event)
                    extra = min(extension_left, max(0.0, time.monotonic() - held_from - drawn))
                    deadline += extra
                    extension_left -= extra
                self.stop(kind, start)
            # The calm: its first half still belongs to the fault (a workload keeps reading
            # what the fault may have broken), the second half precedes the next fault.
            calm = self.rng.uniform(*calm_s)
            after, before = calm / 2, calm / 2
            if kind == "kill-all":
                # After a whole-cluster restart (stop() waits until it serves again): long
                # enough to read what the crash may have lost, then long enough to write
                # what the next crash may lose.
                after, before = max(after, 3.0), max(before, 2.0)
            self._sleep(after, stop_event)
            self._tell("faults_settled", kind)
            self._sleep(before, stop_event)
        self.heal_all()

    def _tell(self, event, kind):
        handler = getattr(self.workload, event, None)
        if handler is not None:
            handler(kind)

    def _sleep(self, seconds, stop_event):
        stop_event.wait(seconds)

    def _hold_until_read_through(self, held_from, stop_event, poll_s=0.1):
        """A clean cut, after its drawn length: until cut_window says every minority node
        was read through (or its grace ran out), at most MAX_HOLD_S from the cut."""
        while not stop_event.is_set():
            status = self.window.status(self.recorder.now_us())
            if status is not None:
                self.note("read-through", "partition", nodes=status)
                return
            if time.monotonic() - held_from >= cut_window.MAX_HOLD_S:
                self.note("not-read-through", "partition", max_hold_s=cut_window.MAX_HOLD_S)
                return
            stop_event.wait(poll_s)

    def _next_shape(self):
        """Every shape once per round, in a seeded order that starts with a clean cut."""
        if not self.shapes:
            first = self.rng.choice(CLEAN_SHAPES)
            rest = [s for s in CLEAN_SHAPES + OTHER_SHAPES if s != first]
            self.rng.shuffle(rest)
            self.shapes = [first] + rest
        return self.shapes.pop(0)

    def start(self, kind):
        n = len(self.cluster.nodes)
        nodes = list(range(1, n + 1))
        if kind == "partition":
            shape = self._next_shape()
            self.rng.shuffle(nodes)
            blocked = {i: set() for i in nodes}
            if shape == "halves":
                a, b = nodes[: n // 2], nodes[n // 2:]
                for i in a: blocked[i] = set(b)
                for i in b: blocked[i] = set(a)
            elif shape == "isolate":
                lone = nodes[0]
                blocked[lone] = set(nodes[1:])
                for i in nodes[1:]: blocked[i] = {lone}
            elif shape == "majority-ring":
                for p, i in enumerate(nodes):
                    blocked[i] = {nodes[(p + 2) % n], nodes[(p + 3) % n]}
            else:  # bridge: nodes[2] sees both halves
                a, b = nodes[:2], nodes[3:]
                for i in a: blocked[i] = set(b)
                for i in b: blocked[i] = set(a)
            for i, drop in blocked.items():
                self.network.isolate(i, drop)
            self.active = blocked
            started = self._started(kind, shape=shape, drops={f"n{i}": sorted(f"n{j}" for j in d)
                                                              for i, d in sorted(blocked.items())})
            if shape in CLEAN_SHAPES and self.window is not None:
                # The minority: the smaller side, which cannot commit (halves: nodes[:n//2]).
                self.minority = [nodes[0]] if shape == "isolate" else nodes[: n // 2]
                self.window.open(self.minority, started)
            return started
        if kind in ("kill", "pause"):
            victims = self.rng.sample(nodes, self.rng.choice([1, 1, 2]))
            aimed = kind == "kill" and self.rng.random() < 0.5
            if aimed:
                # Aim at a node serving a transaction's Commit (it commits the primary's
                # group first, then the others): dying in between leaves secondaries locked
                # for readers to resolve.
                victims = self._committing_node() or victims
            for i in victims:
                node = self.cluster.node(i)
                if kind == "kill":
                    node.kill()
                else:
                    node.signal(signal.SIGSTOP)
                    node.paused = True
            self.active = victims
            return self._started(kind, nodes=[f"n{i}" for i in victims], **({"aimed": True} if aimed else {}))
        if kind == "kill-all":
            victims = nodes
            for i in victims:  # every SIGKILL sent before waiting for any: at once
                self.cluster.node(i).signal(signal.SIGCONT)
                self.cluster.node(i).signal(signal.SIGKILL)
            for i in victims:
                self.cluster.node(i).kill()  # reaps it
            self.active = victims
            return self._started(kind, nodes=[f"n{i}" for i in victims])
        if kind == "clock":
            offsets = {i: self.rng.choice([-1, 1]) * self.rng.randint(1, 20)
                       for i in self.rng.sample(nodes, self.rng.randint(1, n))}
            for i, offset in offsets.items():
                self.cluster.node(i).set_clock_offset(offset)
            self.active = offsets
            return self._started(kind, offsets_s={f"n{i}": o for i, o in sorted(offsets.items())})
        if kind == "split":
            self.split()
            return None
        if kind == "member":
            return self._remove_member(nodes)
        raise ValueError(kind)

    def _remove_member(self, nodes, timeout_s=30):
        """RemoveNode of a random node through another one (retried: every membership call
        is idempotent), then the removed node is killed and its state deleted. None (and no
        fault) if the removal never succeeded."""
        victim = self.rng.choice(nodes)
        others = [i for i in nodes if i != victim]
        deadline = time.monotonic() + timeout_s
        error = None
        while time.monotonic() < deadline:
            via = self.cluster.node(self.rng.choice(others))
            conn = self.conn_factory(via.grpc_target)
            try:
                conn.remove_node(victim)
                break
            except grpc.RpcError as e:
                error = f"{e.code().name}: {e.details()}"
                time.sleep(0.5)
            finally:
                conn.close()
        else:
            self.note("remove-failed", "member", node=f"n{victim}", error=error)
            return None
        node = self.cluster.node(victim)
        node.kill()
        node.wipe()
        node.join = via.grpc_target
        self.active = victim
        return self._started("member", removed=f"n{victim}", via=via.id)

    def _committing_node(self, wait_s=2.0):
        from . import workloads
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            busy = [n for n in workloads.committing_nodes() if n is not None]
            if busy:
                time.sleep(self.rng.uniform(0, 0.02))
                return [busy[0]]
            time.sleep(0.001)
        return None

    def _started(self, kind, **detail):
        self.counts[kind] += 1
        return self.note("start", kind, **detail)

    def stop(self, kind, start_us):
        if kind == "partition":
            self.network.heal()
            if self.minority is not None:
                self.window.close()
                self.minority = None
        elif kind in ("kill", "kill-all"):
            for i in self.active:
                self.cluster.restart(self.cluster.node(i))
            if kind == "kill-all":
                self._wait_serving()
        elif kind == "pause":
            for i in self.active:
                node = self.cluster.node(i)
                node.signal(signal.SIGCONT)
                node.paused = False
        elif kind == "clock":
            for i in self.active:
                self.cluster.node(i).set_clock_offset(0)
        elif kind == "member":
            node = self.cluster.node(self.active)
            self.cluster.restart(node)  # with --join: a new member under the same id
            self._wait_voter(node)
        self.active = None
        stop_us = self.note("stop", kind)
        self.windows.append((kind, start_us, stop_us))

    def _wait_serving(self, timeout_s=30):
        """After a whole-cluster restart: until some node answers a timestamp and a read in
        both data groups (keys below and above "m"), or timeout_s (a planted bug may leave
        the cluster unable to serve)."""
        deadline = time.monotonic() + timeout_s
        attempt = 0
        while True:
            node = self.cluster.nodes[attempt % len(self.cluster.nodes)]
            attempt += 1
            conn = self.conn_factory(node.grpc_target)
            try:
                conn.timestamp()
                conn.get(b"a")
                conn.get(b"r")
                self.note("serving", "kill-all", node=node.id)
                return
            except grpc.RpcError as e:
                if time.monotonic() > deadline:
                    self.note("not-serving", "kill-all", error=f"{e.code().name}: {e.details()}")
                    return
                time.sleep(0.2)
            finally:
                conn.close()

    def _wait_voter(self, node, timeout_s=60):
        """Until another node sees the rejoined node as a voter in every group (it joins as a
        learner and promotes itself once caught up), or timeout_s."""
        deadline = time.monotonic() + timeout_s
        others = [n for n in self.cluster.nodes if n is not node]
        attempt = 0
        while time.monotonic() < deadline:
            via = others[attempt % len(others)]
            attempt += 1
            conn = self.conn_factory(via.grpc_target)
            try:
                if conn.voter_everywhere(node.index):
                    self.note("voter", "member", node=node.id)
                    return
            except grpc.RpcError:
                pass
            finally:
                conn.close()
            if not node.alive():
                break
            time.sleep(0.5)
        self.note("not-voter", "member", node=node.id, alive=node.alive())

    def split(self):
        if self.splits >= MAX_SPLITS:
            return
        node = self.cluster.node(self.rng.randrange(len(self.cluster.nodes)) + 1)
        conn = self.conn_factory(node.grpc_target)
        try:
            routes = conn.list_routes()
            route = self.rng.choice(list(routes.routes))
            for _ in range(20):
                key = (self.rng.choice(SPLIT_PREFIXES) + f"{self.rng.randrange(16):x}").encode()
                if key > route.start and (not route.end or key < route.end):
                    break
            else:
                return
            reply = conn.split(routes.catalog_version, route.route_id, key)
            self.splits += 1
            self.counts["split"] += 1
            self.note("split", "split", node=node.id, route=route.route_id, key=key.decode(),
                      catalog_version=reply.catalog_version)
        except grpc.RpcError as e:
            self.note("split-failed", "split", node=node.id, error=f"{e.code().name}: {e.details()}")
        finally:
            conn.close()

    def heal_all(self):
        """Ends every fault: the end-of-run state Jepsen's final generator restores."""
        self.network.heal()
        for node in self.cluster.nodes:
            node.set_clock_offset(0)
            if node.alive() and node.paused:
                node.signal(signal.SIGCONT)
                node.paused = False
            if not node.alive():
                self.cluster.restart(node)
        self.note("heal", "all")
