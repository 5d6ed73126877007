#!/usr/bin/env python3
"""Prints, every few seconds, where a hot key range lives and how the load spreads over nodes.

Used by `scripts/demo.sh hot` while ekv-load writes to a hot key range. Each row reads one
node's console JSON (/api/cluster): the routes, each group's leader, and the last heat-map
sample of every route (writes + reads per second). A route's load is counted on the node
leading its group, which does the route's work (proposes, replicates, answers). Under each
row come the placement decisions the nodes logged since the previous row.
"""
import argparse
import glob
import json
import sys
import time
import urllib.request


def fetch(url):
    with urllib.request.urlopen(url, timeout=5) as reply:
        return json.load(reply)


def last(samples):
    return samples[-1] if samples else 0.0


def overlaps(route, start, end):
    route_end = route["end"] or None  # "" is +inf
    return (route_end is None or route_end > start) and route["start"] < end


def row(cluster, hot_start, hot_end):
    leader_of = {g["group"]: g["leader"] for g in cluster["groups"]}
    nodes = sorted(n["id"] for n in cluster["nodes"])
    load = {r["route_id"]: last(r["writes"]) + last(r["reads"]) for r in cluster["heat_map"]["routes"]}
    per_node = {n: 0.0 for n in nodes}
    leaders = {n: 0 for n in nodes}
    for leader in leader_of.values():
        if leader in leaders:
            leaders[leader] += 1
    hot = []
    for route in cluster["routes"]:
        leader = leader_of.get(route["group"], 0)
        if leader in per_node:
            per_node[leader] += load.get(route["route_id"], 0.0)
        if overlaps(route, hot_start, hot_end):
            end = route["end"] or "+inf"
            hot.append(f'r{route["route_id"]}[{route["start"] or "-inf"},{end})@g{route["group"]}/n{leader}'
                       f' {load.get(route["route_id"], 0.0):.0f}/s')
    return nodes, per_node, leaders, hot


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--console", default="http://127.0.0.1:8080", help="a node's console URL")
    parser.add_argument("--seconds", type=int, default=150, help="how long to print rows")
    parser.add_argument("--every", type=int, default=10, help="seconds between rows")
    parser.add_argument("--hot_start", default="key_000000", help="first key of the hot range")
    parser.add_argument("--hot_end", default="key_000100", help="end (exclusive) of the hot range")
    parser.add_argument("--logs", default="", help="glob of the nodes' logs for placement lines")
    args = parser.parse_args()

    offsets = {}
    for path in glob.glob(args.logs) if args.logs else []:
        with open(path, "rb") as log:
            offsets[path] = log.seek(0, 2)
    start = time.monotonic()
    header_done = False
    while True:
        elapsed = time.monotonic() - start
        try:
            cluster = fetch(args.console.rstrip("/") + "/api/cluster")
        except OSError as error:
            print(f"{elapsed:5.0f}s  console unreachable: {error}", flush=True)
            cluster = None
        if cluster is not None:
            nodes, per_node, leaders, hot = row(cluster, args.hot_start, args.hot_end)
            if not header_done:
                names = "  ".join(f"n{n:<6}" for n in nodes)
                print(f"{'time':>5}  {'catalog':>7}  {'routes':>6}  req/s led by {names}  leaders  "
                      "hot range (route[start,end)@group/leader load)", flush=True)
                header_done = True
            loads = "  ".join(f"{per_node[n]:7.0f}" for n in nodes)
            led = "/".join(str(leaders[n]) for n in nodes)
            print(f"{elapsed:4.0f}s  {cluster['catalog_version']:>7}  {len(cluster['routes']):>6}  "
                  f"{'':13}{loads}  {led:>7}  {' | '.join(hot)}", flush=True)
        for path in sorted(offsets):
            with open(path, "rb") as log:
                log.seek(offsets[path])
                data = log.read()
                offsets[path] += len(data)
                text = data.decode("utf-8", "replace")
            for line in text.splitlines():
                # A decision is logged when it starts and again with " -> outcome"; the
                # second line carries the whole story.
                if "placement:" in line and " -> " in line:
                    print("        " + (line[line.find("msg="):] if "msg=" in line else line), flush=True)
        if elapsed >= args.seconds:
            return 0
        time.sleep(max(0.0, args.every - (time.monotonic() - start - elapsed)))


if __name__ == "__main__":
    sys.exit(main())
