#!/usr/bin/env python3
"""One command, one run: ekv against etcd and Redis on this machine, in interleaved rounds.

  bench/compare.py [--rounds N] [--duration_s S] [--markdown FILE]

Starts, on 127.0.0.1 only, a 3-node ekv cluster (the demo layout: fsync on, Redis port on
every node), a 3-member etcd cluster (Debian etcd-server) and one redis-server with
appendonly yes and appendfsync always, then measures in rounds:

  grpc put   ekv RawPut             vs etcd Put     (bench/load/ekv-load, same options)
  grpc get   ekv RawGet (lineariz.) vs etcd Range   (linearizable)
  SET/GET P1 and P16 through redis-benchmark (50 clients, 100-byte values) against
             ekv node n1's Redis port vs the redis-server

Within a round each pair runs back to back, the reference first in odd rounds and ekv
first in even ones, so a burst of load from elsewhere hits both. For every run it prints
throughput, p50, p99 and the CPU seconds the system's server processes used per
operation (utime + stime from /proc/PID/stat, all of a system's processes summed); at the
end the median of each figure over the rounds and the ratio ekv / reference. Everything
it starts is stopped on exit. A benchmark, not a test: CI does not run it.
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        except FileNotFoundError:
            pass
    return total


class Run:
    """Processes started by this script; all stopped at exit."""

    def __init__(self, work):
        self.work = work
        self.procs = []

    def start(self, name, argv):
        log = open(os.path.join(self.work, name + ".log"), "w")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc.pid

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


def wait_until(what, check, timeout_s=60):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.3)
    sys.exit(f"compare: {what} did not become ready within {timeout_s}s")


def quiet(argv, timeout_s=30):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return None


def load_run(load, target, addrs, op, duration_s, concurrency, pids, preload):
    before = cpu_seconds(pids)
    out = subprocess.run([load, "--target", target, "--addrs", addrs, "--op", op,
                          "--duration_s", str(duration_s), "--concurrency", str(concurrency),
                          "--value_size", "100", f"--preload={'true' if preload else 'false'}"],
                         capture_output=True, text=True, timeout=duration_s + 120).stdout
    used = cpu_seconds(pids) - before
    m = re.search(r"ops_per_sec=(\d+) p50_ms=([\d.]+) p99_ms=([\d.]+) ok=(\d+) errors=(\d+)", out)
    if not m:
        return None
    ops = int(m.group(4))
    return {"ops_s": float(m.group(1)), "p50": float(m.group(2)), "p99": float(m.group(3)),
            "cpu_us_op": used / max(ops, 1) * 1e6, "errors": int(m.group(5))}


def redis_run(port, command, pipeline, requests, pids):
    before = cpu_seconds(pids)
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", "50",
                          "-n", str(requests), "-d", "100", "-r", "10000", "-P", str(pipeline),
                          "-t", command.lower(), "--csv"],
                         capture_output=True, text=True, timeout=600).stdout
    used = cpu_seconds(pids) - before
    for line in out.splitlines():
        cells = [c.strip('"') for c in line.split(",")]
        if cells and cells[0] == command.upper():
            # test, rps, avg, min, p50, p95, p99, max
            return {"ops_s": float(cells[1]), "p50": float(cells[4]), "p99": float(cells[6]),
                    "cpu_us_op": used / requests * 1e6, "errors": 0}
    return None


def fmt(r):
    if r is None:
        return "FAILED"
    return (f"{r['ops_s']:9.0f} ops/s  p50 {r['p50']:7.2f} ms  p99 {r['p99']:7.2f} ms  "
            f"cpu {r['cpu_us_op']:7.1f} us/op")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration_s", type=int, default=8, help="per gRPC run")
    parser.add_argument("--concurrency", type=int, default=64, help="gRPC calls in flight")
    parser.add_argument("--redis_seconds", type=float, default=6,
                        help="target length of one redis-benchmark run (requests are sized "
                             "from a short calibration run)")
    parser.add_argument("--port_base", type=int, default=36000,
                        help="ports port_base .. port_base+40 are used")
    parser.add_argument("--build_dir", default=os.environ.get("EKV_BUILD_DIR",
                                                              os.path.join(ROOT, "build")))
    parser.add_argument("--server_bin", default=os.environ.get("EKV_SERVER_BIN", ""),
                        help="another ekv-server binary (e.g. one built before a change)")
    parser.add_argument("--skip", default="", help="comma-separated: grpc,redis")
    parser.add_argument("--markdown", default="", help="also write the summary table here")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    for tool in ("etcd", "redis-server", "redis-benchmark"):
        if shutil.which(tool) is None:
            sys.exit(f"compare: {tool} not found: run scripts/install-deps.sh and "
                     "apt-get install etcd-server")
    server = args.server_bin or os.path.join(args.build_dir, "runtime/server/bin/ekv-server")
    load = os.path.join(args.build_dir, "bench/load/ekv-load")
    for path in (server, load):
        if not os.access(path, os.X_OK):
            sys.exit(f"compare: {path} missing: cmake --build build --target ekv-server ekv-load")

    load_before = os.getloadavg()[0]
    work = tempfile.mkdtemp(prefix="ekv-compare.")
    run = Run(work)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        b = args.port_base
        # etcd: client ports b..b+2, peer ports b+3..b+5.
        cluster = ",".join(f"e{i + 1}=http://127.0.0.1:{b + 3 + i}" for i in range(3))
        etcd_pids = [run.start(f"etcd{i}", [
            "etcd", "--name", f"e{i + 1}", "--data-dir", os.path.join(work, f"etcd{i}"),
            "--listen-client-urls", f"http://127.0.0.1:{b + i}",
            "--advertise-client-urls", f"http://127.0.0.1:{b + i}",
            "--listen-peer-urls", f"http://127.0.0.1:{b + 3 + i}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{b + 3 + i}",
            "--initial-cluster", cluster, "--initial-cluster-state", "new"]) for i in range(3)]
        etcd_addrs = ",".join(f"127.0.0.1:{b + i}" for i in range(3))
        # ekv: gRPC b+10.., raft b+13.., Redis b+16.. (the demo layout on other ports).
        peers = ",".join(f"n{i + 1}=127.0.0.1:{b + 13 + i}" for i in range(3))
        ekv_pids = [run.start(f"ekv{i + 1}", [
            server, "--id", f"n{i + 1}", "--grpc_address", f"127.0.0.1:{b + 10 + i}",
            "--raft_address", f"127.0.0.1:{b + 13 + i}", "--redis_address",
            f"127.0.0.1:{b + 16 + i}", "--peers", peers,
            "--data_dir", os.path.join(work, f"ekv{i + 1}")]) for i in range(3)]
        ekv_addrs = ",".join(f"127.0.0.1:{b + 10 + i}" for i in range(3))
        ekv_redis = b + 16
        # redis-server: every write fsynced before the reply, like ekv's quorum fsync.
        redis_port = b + 20
        redis_pids = [run.start("redis", [
            "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
            "--dir", work, "--appendonly", "yes", "--appendfsync", "always",
            "--save", "", "--daemonize", "no"])]

        def load_ready(target, addrs):
            r = quiet([load, "--target", target, "--addrs", addrs, "--op", "put",
                       "--duration_s", "1", "--concurrency", "1"])
            return r is not None and r.returncode == 0

        def redis_ready(port):
            r = quiet(["redis-cli", "-p", str(port), "set", "compare:ready", "1"], 5)
            return r is not None and r.stdout.strip() == "OK"

        wait_until("etcd", lambda: load_ready("etcd", etcd_addrs))
        wait_until("ekv", lambda: load_ready("ekv", ekv_addrs))
        wait_until("ekv's Redis port", lambda: redis_ready(ekv_redis))
        wait_until("redis-server", lambda: redis_ready(redis_port))

        # Requests per redis-benchmark run: sized per system and test from a short run so
        # each run lasts about --redis_seconds whatever the machine does.
        def sized(port, command, pipeline, pids):
            probe = redis_run(port, command, pipeline, 2000 * pipeline, pids)
            rate = probe["ops_s"] if probe else 1000.0
            return max(2000, int(rate * args.redis_seconds))

        tests = []
        if "grpc" not in skip:
            for op in ("put", "get"):
                tests.append((f"grpc {op}", "etcd",
                              lambda rnd, op=op: load_run(load, "etcd", etcd_addrs, op,
                                                          args.duration_s, args.concurrency,
                                                          etcd_pids, False),
                              lambda rnd, op=op: load_run(load, "ekv", ekv_addrs, op,
                                                          args.duration_s, args.concurrency,
                                                          ekv_pids, False)))
        if "redis" not in skip:
            for pipeline in (1, 16):
                for command in ("SET", "GET"):
                    n_ref = sized(redis_port, command, pipeline, redis_pids)
                    n_ekv = sized(ekv_redis, command, pipeline, ekv_pids)
                    tests.append((f"redis {command} P{pipeline}", "redis",
                                  lambda rnd, c=command, p=pipeline, n=n_ref:
                                  redis_run(redis_port, c, p, n, redis_pids),
                                  lambda rnd, c=command, p=pipeline, n=n_ekv:
                                  redis_run(ekv_redis, c, p, n, ekv_pids)))

        if "grpc" not in skip:
            # Every key the gets read exists before anything is measured (not counted).
            load_run(load, "etcd", etcd_addrs, "get", 1, args.concurrency, etcd_pids, True)
            load_run(load, "ekv", ekv_addrs, "get", 1, args.concurrency, ekv_pids, True)
        results = {}  # (test, system) -> [result]
        for rnd in range(1, args.rounds + 1):
            for name, ref_name, ref, ekv in tests:
                order = [(ref_name, ref), ("ekv", ekv)]
                if rnd % 2 == 0:
                    order.reverse()
                for system, fn in order:
                    r = fn(rnd)
                    results.setdefault((name, system), []).append(r)
                    print(f"round {rnd}  {name:14s} {system:5s} {fmt(r)}", flush=True)

        def median(name, system, key):
            values = [r[key] for r in results.get((name, system), []) if r is not None]
            return statistics.median(values) if values else float("nan")

        host = os.uname().nodename
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        lines = [
            f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {host}: "
            f"{os.cpu_count()} cores ({cpu}), load average {load_before:.1f} before the run and "
            f"{os.getloadavg()[0]:.1f} after; {args.rounds} interleaved rounds, medians.",
            "",
            "| test | ekv ops/s | ref ops/s | ratio | ekv p50 / p99 ms | ref p50 / p99 ms "
            "| ekv CPU us/op | ref CPU us/op |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, ref_name, _, _ in tests:
            e_ops, r_ops = median(name, "ekv", "ops_s"), median(name, ref_name, "ops_s")
            ratio = e_ops / r_ops if r_ops > 0 else float("nan")
            lines.append(
                f"| {name} (vs {ref_name}) | {e_ops:.0f} | {r_ops:.0f} | {ratio:.2f}x | "
                f"{median(name, 'ekv', 'p50'):.2f} / {median(name, 'ekv', 'p99'):.2f} | "
                f"{median(name, ref_name, 'p50'):.2f} / {median(name, ref_name, 'p99'):.2f} | "
                f"{median(name, 'ekv', 'cpu_us_op'):.0f} | "
                f"{median(name, ref_name, 'cpu_us_op'):.0f} |")
        print()
        print("\n".join(lines))
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write("\n".join(lines) + "\n")
    finally:
        run.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
