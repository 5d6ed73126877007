"""Network namespaces for one run: a switch namespace and one namespace per node.

Layout (nothing is added to the host's namespace, so cleanup is deleting namespaces):
  <prefix>-sw   the switch: bridge br0 with 10.77.0.1/24; the harness's clients run here
  <prefix>-nI   node I: eth0 = 10.77.0.(10+I)/24, the peer end of a veth in the switch
The /24 exists only inside these namespaces, so concurrent runs never collide.
Partitions are nftables rules in each node's namespace that drop input from the peers it
must not hear (as Jepsen does with iptables); the clients' address is never dropped.
"""
import ctypes
import os
import re
import subprocess

SUBNET_PREFIX = "10.77.0."
SWITCH_ADDRESS = SUBNET_PREFIX + "1"
NAME_PREFIX = "ekvj"
CLONE_NEWNET = 0x40000000


def run(args, check=True):
    result = subprocess.run(args, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def node_address(index):
    return f"{SUBNET_PREFIX}{10 + index}"


def list_namespaces():
    out = run(["ip", "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def remove_stale():
    """Deletes namespaces of earlier runs whose harness process is gone (e.g. SIGKILLed)."""
    for name in list_namespaces():
        m = re.match(rf"^{NAME_PREFIX}(\d+)-", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            run(["ip", "netns", "del", name], check=False)


class Network:
    def __init__(self, node_count):
        self.prefix = f"{NAME_PREFIX}{os.getpid()}"
        self.switch = f"{self.prefix}-sw"
        self.nodes = [f"{self.prefix}-n{i}" for i in range(1, node_count + 1)]
        self.created = []

    def node_ns(self, index):
        return self.nodes[index - 1]

    def create(self):
        if os.geteuid() != 0:
            raise RuntimeError("the jepsen harness needs root (ip netns, nftables)")
        remove_stale()
        self._add_ns(self.switch)
        sw = ["ip", "-n", self.switch]
        run(sw + ["link", "add", "br0", "type", "bridge"])
        run(sw + ["addr", "add", f"{SWITCH_ADDRESS}/24", "dev", "br0"])
        run(sw + ["link", "set", "br0", "up"])
        run(sw + ["link", "set", "lo", "up"])
        for index, ns in enumerate(self.nodes, start=1):
            self._add_ns(ns)
            port = f"veth{index}"
            run(sw + ["link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns])
            run(sw + ["link", "set", port, "master", "br0"])
            run(sw + ["link", "set", port, "up"])
            node = ["ip", "-n", ns]
            run(node + ["addr", "add", f"{node_address(index)}/24", "dev", "eth0"])
            run(node + ["link", "set", "eth0", "up"])
            run(node + ["link", "set", "lo", "up"])
            run(["ip", "netns", "exec", ns, "nft", "add", "table", "inet", "ekvj"])
            run(["ip", "netns", "exec", ns, "nft", "add", "chain", "inet", "ekvj", "input",
                 "{ type filter hook input priority 0 ; policy accept ; }"])

    def _add_ns(self, name):
        run(["ip", "netns", "add", name])
        self.created.append(name)

    def enter_switch(self):
        """Moves this (still single-threaded) process into the switch namespace, so every
        client socket opened afterwards lives there."""
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        fd = os.open(f"/var/run/netns/{self.switch}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns into the switch namespace failed")
        finally:
            os.close(fd)

    def isolate(self, index, unreachable):
        """Node `index` drops everything from the nodes in `unreachable` (1-based)."""
        ns = self.node_ns(index)
        run(["ip", "netns", "exec", ns, "nft", "flush", "chain", "inet", "ekvj", "input"])
        if unreachable:
            addresses = ", ".join(node_address(i) for i in sorted(unreachable))
            run(["ip", "netns", "exec", ns, "nft", "add", "rule", "inet", "ekvj", "input",
                 "ip", "saddr", f"{{ {addresses} }}", "drop"])

    def heal(self):
        for index in range(1, len(self.nodes) + 1):
            self.isolate(index, [])

    def destroy(self):
        for name in reversed(self.created):
            run(["ip", "netns", "del", name], check=False)
        self.created = []
