"""Five real ekv-server processes, one per network namespace, and their lifecycle.

Every node is started by the same command line each time (so a kill -9 and restart is
exactly what an operator's supervisor would do). Processes get PR_SET_PDEATHSIG=SIGKILL
(through setpriv), so even a SIGKILLed harness leaves no server behind; a normal exit,
Ctrl-C or an error stops them through Cluster.stop_all().
"""
import os
import signal
import subprocess
import time

from . import netns

GRPC_PORT = 50051
RAFT_PORT = 50061
REDIS_PORT = 6379
DYNAMO_PORT = 8000
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


class Node:
    def __init__(self, index, server, network, run_dir, extra_flags, fake_clock, dynamo=False):
        self.index = index
        self.id = f"n{index}"
        self.address = netns.node_address(index)
        self.ns = network.node_ns(index)
        self.data_dir = os.path.join(run_dir, "nodes", self.id, "data")
        self.log_path = os.path.join(run_dir, "nodes", f"{self.id}.log")
        self.clock_file = os.path.join(run_dir, "nodes", self.id, "faketime")
        self.server = server
        self.extra_flags = extra_flags
        self.fake_clock = fake_clock
        self.dynamo = dynamo  # serve the DynamoDB front door (only the dynamo workloads use it)
        self.process = None
        self.paused = False
        self.starts = 0
        self.join = None  # after a membership fault: the member it (re)joined through
        os.makedirs(self.data_dir, exist_ok=True)
        self.set_clock_offset(0)

    @property
    def grpc_target(self):
        return f"{self.address}:{GRPC_PORT}"

    @property
    def redis_port(self):
        return REDIS_PORT

    @property
    def dynamo_endpoint(self):
        return f"http://{self.address}:{DYNAMO_PORT}"

    def command(self, peers):
        cmd = ["ip", "netns", "exec", self.ns]
        if self.fake_clock:
            # Only the wall clock moves (what `date -s` would do); CLOCK_MONOTONIC, which
            # Raft ticks and leases use, is left alone, as on a real host.
            cmd += ["env", f"LD_PRELOAD={FAKETIME_LIB}", f"FAKETIME_TIMESTAMP_FILE={self.clock_file}",
                    "FAKETIME_DONT_FAKE_MONOTONIC=1", "FAKETIME_CACHE_DURATION=1"]
        cmd += [self.server, "--id", self.id,
                "--grpc_address", f"{self.address}:{GRPC_PORT}",
                "--raft_address", f"{self.address}:{RAFT_PORT}",
                "--redis_address", f"{self.address}:{REDIS_PORT}",
                "--peers", peers, "--data_dir", self.data_dir] + self.extra_flags
        if self.dynamo:
            cmd += ["--dynamo_address", f"{self.address}:{DYNAMO_PORT}"]
        if self.join:
            # Ignored by ekv-server once the data dir has state, so every later restart
            # keeps this command line.
            cmd += ["--join", self.join]
        return cmd

    def start(self, peers):
        assert self.process is None or self.process.poll() is not None, f"{self.id} already runs"
        log = open(self.log_path, "ab")
        log.write(f"\n=== start {self.starts + 1} at {time.strftime('%H:%M:%S')}\n".encode())
        log.flush()
        # setpriv sets PR_SET_PDEATHSIG in the child instead of a preexec_fn: a preexec_fn
        # makes Python fork() rather than vfork(), and fork() runs gRPC's prefork handlers,
        # which wait for the clients' in-flight calls and can hang a restart for good.
        self.process = subprocess.Popen(["setpriv", "--pdeathsig", "KILL"] + self.command(peers),
                                        stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        self.paused = False
        self.starts += 1

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.process.pid, sig)

    def kill(self):
        if self.alive():
            if self.paused:
                os.kill(self.process.pid, signal.SIGCONT)
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.paused = False

    def stop(self, timeout_s=10):
        if not self.alive():
            return
        if self.paused:
            self.signal(signal.SIGCONT)
            self.paused = False
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def wipe(self):
        """A removed node's state is gone for good: it comes back only as a new member."""
        import shutil
        shutil.rmtree(self.data_dir, ignore_errors=True)
        os.makedirs(self.data_dir, exist_ok=True)

    def set_clock_offset(self, offset_s):
        # libfaketime's relative format: "+N" / "-N" seconds from the real time.
        with open(self.clock_file + ".tmp", "w") as f:
            f.write(f"{'+' if offset_s >= 0 else '-'}{abs(int(offset_s))}\n")
        os.replace(self.clock_file + ".tmp", self.clock_file)


class Cluster:
    def __init__(self, server, network, run_dir, node_count, extra_flags, fake_clock, dynamo=False):
        self.network = network
        self.nodes = [Node(i, server, network, run_dir, extra_flags, fake_clock, dynamo)
                      for i in range(1, node_count + 1)]
        self.peers = ",".join(f"{n.id}={n.address}:{RAFT_PORT}" for n in self.nodes)

    def node(self, index):
        return self.nodes[index - 1]

    def start_all(self):
        for node in self.nodes:
            node.start(self.peers)

    def restart(self, node):
        node.start(self.peers)

    def stop_all(self):
        for node in self.nodes:
            if node.alive() and node.paused:
                node.signal(signal.SIGCONT)
        for node in self.nodes:
            node.signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                node.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                node.kill()

    def kill_all(self):
        for node in self.nodes:
            node.kill()
