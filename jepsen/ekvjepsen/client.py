"""gRPC and Redis connections to the nodes, through the front doors users use.

The Python stubs are generated from proto/ into a temporary directory at run time
(python3-grpc-tools), so nothing generated is checked in.
"""
import importlib
import os
import subprocess
import sys
import tempfile

import grpc

pb = None
pb_grpc = None
cluster_pb = None  # proto.Cluster (membership)
cluster_pb_grpc = None


def load_stubs(repo_root):
    global pb, pb_grpc
    out = tempfile.mkdtemp(prefix="ekvj-stubs-")
    proto_dir = os.path.join(repo_root, "proto")
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", proto_dir, f"--python_out={out}",
                    f"--grpc_python_out={out}", os.path.join(proto_dir, "ekv.proto"),
                    os.path.join(proto_dir, "cluster.proto")], check=True)
    sys.path.insert(0, out)
    pb = importlib.import_module("ekv_pb2")
    pb_grpc = importlib.import_module("ekv_pb2_grpc")
    global cluster_pb, cluster_pb_grpc
    cluster_pb = importlib.import_module("cluster_pb2")
    cluster_pb_grpc = importlib.import_module("cluster_pb2_grpc")
    return out


class GrpcConn:
    """One channel to one node with the three public services."""

    def __init__(self, target, timeout_s):
        self.target = target
        self.timeout_s = timeout_s
        self.channel = grpc.insecure_channel(target, options=[
            ("grpc.enable_retries", 0), ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 1000)])
        self.raw = pb_grpc.RawKVStub(self.channel)
        self.txn = pb_grpc.TransactionalKVStub(self.channel)
        self.dist = pb_grpc.DistributionStub(self.channel)
        self.members = cluster_pb_grpc.ClusterStub(self.channel)

    def close(self):
        self.channel.close()

    def get(self, key, ts=0):
        r = self.raw.RawGet(pb.RawGetRequest(key=key, ts=ts), timeout=self.timeout_s)
        return r.value if r.exists else None

    def get_at(self, key, ts, attempts=20):
        """A snapshot read at ts with lock resolution. RawGet at ts reports another
        transaction's lock instead of resolving it; TransactionalKV.Get resolves any lock it
        meets (CheckTxnStatus on the primary, then commit or roll back the lock), so on a
        lock we ask it to, then read at ts again."""
        for attempt in range(attempts):
            try:
                return self.get(key, ts)
            except grpc.RpcError as e:
                if not is_lock_error(e) or attempt == attempts - 1:
                    raise
            try:
                self.txn.Get(pb.GetRequest(key=key), timeout=self.timeout_s)
            except grpc.RpcError:
                pass

    def scan(self, start, end, limit):
        """TransactionalKV.Scan: one snapshot at a fresh timestamp, across every route,
        resolving the locks it meets."""
        r = self.txn.Scan(pb.ScanRequest(start_key=start, end_key=end, limit=limit), timeout=self.timeout_s)
        return {kv.key: kv.value for kv in r.kv}

    def put(self, key, value):
        self.raw.RawPut(pb.RawPutRequest(key=key, value=value), timeout=self.timeout_s)

    def timestamp(self):
        return self.dist.GetTimestamp(pb.GetTimestampRequest(), timeout=self.timeout_s).timestamp

    def prewrite(self, mutations, start_ts, lock_ttl_ms):
        r = self.txn.PreWrite(pb.PreWriteRequest(
            mutations=[pb.Kv(key=k, value=v) for k, v in mutations], start_ts=start_ts,
            lock_ttl=lock_ttl_ms), timeout=self.timeout_s)
        return list(r.errors)

    def commit(self, start_ts, keys):
        r = self.txn.Commit(pb.CommitRequest(start_ts=start_ts, keys=keys), timeout=self.timeout_s)
        return r.success, list(r.errors)

    def rollback(self, start_ts):
        return self.txn.Rollback(pb.RollbackRequest(start_ts=start_ts), timeout=self.timeout_s).success

    def list_routes(self):
        return self.dist.ListRoutes(pb.ListRoutesRequest(), timeout=self.timeout_s)

    def split(self, version, route_id, split_key):
        return self.dist.SplitRange(pb.SplitRangeRequest(
            expected_catalog_version=version, route_id=route_id, split_key=split_key),
            timeout=self.timeout_s)


    def remove_node(self, node_id):
        return self.members.RemoveNode(cluster_pb.RemoveNodeRequest(node_id=node_id), timeout=self.timeout_s)

    def list_nodes(self):
        return self.members.ListNodes(cluster_pb.ListNodesRequest(), timeout=self.timeout_s).nodes

    def voter_everywhere(self, node_id):
        """True if this node's view of the membership has node_id as a voter in every group."""
        groups = {m.raft_group_id for n in self.list_nodes() for m in n.groups}
        for n in self.list_nodes():
            if n.node_id == node_id:
                voting = {m.raft_group_id for m in n.groups if m.role == cluster_pb.MEMBER_ROLE_VOTER}
                return bool(groups) and voting == groups
        return False


def is_lock_error(error):
    return isinstance(error, grpc.RpcError) and "is locked" in (error.details() or "")


def never_sent(error):
    """True if the request certainly never reached a server (the connection was refused),
    so a write with this error did not happen: Jepsen's :fail, not :info."""
    text = str(error) if not isinstance(error, grpc.RpcError) else (error.details() or "")
    return "Connection refused" in text


def describe(error):
    if isinstance(error, grpc.RpcError):
        return f"{error.code().name}: {error.details()}"
    return f"{type(error).__name__}: {error}"
