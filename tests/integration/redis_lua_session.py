#!/usr/bin/python3
"""Redis scripting (EVAL, EVALSHA, SCRIPT, redis-py's register_script) against a 3-node ekv
cluster: 20 concurrent clients, spread over the three nodes, run a script that INCRs a
counter and LPUSHes to a list; every increment and every element must be there exactly
once. Then the per-node script cache (EVALSHA after SCRIPT LOAD on another node answers
NOSCRIPT, as in Redis Cluster), register_script, EVAL_RO, and the refusals of keys in
another group.

Usage: redis_lua_session.py PORT1 PORT2 PORT3. Exit status 0 when every check passed;
otherwise the first failed check is printed."""
import sys
import threading

import redis

ports = [int(p) for p in sys.argv[1:4]]
CLIENTS = 20
ROUNDS = 25


def check(condition, what):
    if not condition:
        print("FAILED:", what)
        sys.exit(1)
    print("ok:", what)


def client(port):
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=60)


nodes = [client(p) for p in ports]
# Both keys sort before "m": one group in the test cluster's catalog.
KEYS = ["lua-counter", "lua-list"]
BODY = """local n = redis.call('incr', KEYS[1])
redis.call('lpush', KEYS[2], ARGV[1] .. ':' .. n)
return n"""

# 20 clients, through all three nodes, each running the script ROUNDS times: as EVAL, as
# EVALSHA after its own node's SCRIPT LOAD, or through redis-py's register_script.
results = [[] for _ in range(CLIENTS)]
errors = []


def worker(index):
    try:
        r = client(ports[index % 3])
        mode = index % 3
        script = r.register_script(BODY)
        sha = r.script_load(BODY) if mode == 1 else None
        for i in range(ROUNDS):
            tag = "c%d-%d" % (index, i)
            if mode == 0:
                n = r.eval(BODY, 2, KEYS[0], KEYS[1], tag)
            elif mode == 1:
                n = r.evalsha(sha, 2, KEYS[0], KEYS[1], tag)
            else:
                n = script(keys=KEYS, args=[tag])
            results[index].append(n)
    except Exception as e:  # reported below, with the client that saw it
        errors.append("client %d: %r" % (index, e))


threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check(not errors, "no client saw an error: %s" % errors[:3])
total = CLIENTS * ROUNDS
returned = sorted(n for per_client in results for n in per_client)
check(returned == list(range(1, total + 1)),
      "every script saw a distinct counter value 1..%d" % total)
check(int(nodes[1].get(KEYS[0])) == total, "the counter is %d on n2" % total)
elements = nodes[2].lrange(KEYS[1], 0, -1)
check(len(elements) == total, "the list has %d elements on n3 (%d)" % (total, len(elements)))
expected = sorted(b"c%d-%d" % (c, i) for c in range(CLIENTS) for i in range(ROUNDS))
check(sorted(e.rsplit(b":", 1)[0] for e in elements) == expected,
      "each client's push is there exactly once")
# The list order is the counter order: each script's two writes were one atomic step.
counters = [int(e.rsplit(b":", 1)[1]) for e in elements]
check(counters == list(range(total, 0, -1)), "pushes are in counter order (atomic scripts)")

# The script cache is per node, as in Redis Cluster.
for r in nodes:
    r.script_flush()
sha = nodes[0].script_load("return 'from n1'")
check(nodes[0].script_exists(sha) == [True], "SCRIPT EXISTS on the node that loaded it")
check(nodes[1].script_exists(sha) == [False], "another node's cache does not have it")
try:
    nodes[1].evalsha(sha, 0)
    check(False, "EVALSHA of a script loaded on another node answers NOSCRIPT")
except redis.exceptions.NoScriptError as e:
    check("No matching script. Please use EVAL." in str(e), "NOSCRIPT on n2: %s" % e)
check(nodes[0].evalsha(sha, 0) == b"from n1", "EVALSHA on n1")
check(nodes[1].script_load("return 'from n1'") == sha, "the same body loads to the same SHA")
check(nodes[1].evalsha(sha, 0) == b"from n1", "EVALSHA on n2 once loaded there")
# register_script loads on NOSCRIPT by itself, wherever it runs.
greet = nodes[2].register_script("return 'hello ' .. ARGV[1]")
check(greet(args=["n3"]) == b"hello n3", "register_script on n3")
check(greet(args=["again"], client=nodes[0]) == b"hello again", "register_script through n1")

# EVAL_RO reads; its writes are refused.
check(int(nodes[2].eval_ro("return redis.call('get', KEYS[1])", 1, KEYS[0])) == total,
      "EVAL_RO reads the counter on n3")
try:
    nodes[2].eval_ro("return redis.call('incr', KEYS[1])", 1, KEYS[0])
    check(False, "EVAL_RO refuses writes")
except redis.exceptions.ResponseError as e:
    check("Write commands are not allowed from read-only scripts" in str(e), "EVAL_RO: %s" % e)

# A script's keys must share its group: "a..." and "z..." are in different groups.
try:
    nodes[0].eval("return 1", 2, "a-lua", "z-lua")
    check(False, "KEYS in two groups are refused")
except redis.exceptions.ResponseError as e:
    check("CROSSSLOT" in str(e), "KEYS in two groups: %s" % e)
try:
    nodes[0].eval("redis.call('set', KEYS[1], 'x') return redis.call('get', 'z-lua')", 1, "a-lua")
    check(False, "a key outside the script's group is refused")
except redis.exceptions.ResponseError as e:
    check("Script attempted to access a non local key in a cluster node" in str(e),
          "undeclared key in another group: %s" % e)
check(nodes[1].get("a-lua") == b"x", "writes before the refusal stay, as in Redis")
check(nodes[0].eval("return redis.call('get', KEYS[1])", 1, "z-lua") is None,
      "a script keyed in the other group runs there")

# EVAL and EVALSHA inside MULTI run at EXEC with the other commands, also in an EXEC whose
# keys span both groups (one transaction over the groups; each script runs in its keys'
# group and may touch only the keys it declares there).
incr_sha = nodes[1].script_load("return redis.call('incrby', KEYS[1], ARGV[1])")
with nodes[1].pipeline(transaction=True) as tx:
    tx.set("a-multi", "10")
    tx.eval("return redis.call('incrby', KEYS[1], ARGV[1])", 1, "a-multi", 5)
    tx.evalsha(incr_sha, 1, "z-multi", 7)
    tx.eval("return redis.call('get', KEYS[1])", 1, "z-multi")
    replies = tx.execute()
check(replies == [True, 15, 7, b"7"], "MULTI/EVAL/EVALSHA over both groups: %s" % replies)
check(nodes[2].get("a-multi") == b"15" and nodes[0].get("z-multi") == b"7",
      "the scripts' writes landed in both groups")
with nodes[0].pipeline(transaction=True) as tx:
    tx.evalsha("0" * 40, 0)
    tx.incr("a-multi")
    replies = tx.execute(raise_on_error=False)
check(isinstance(replies[0], redis.exceptions.NoScriptError) and replies[1] == 16,
      "NOSCRIPT in its slot, the rest runs: %s" % replies)
print("redis lua session passed")
