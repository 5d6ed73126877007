#!/usr/bin/python3
"""A scripted redis-py (Debian python3-redis) session against a 3-node ekv cluster started
with --redis_requirepass: authentication, pipelines, connection/server commands, and
pub/sub across nodes (subscribe on one node, publish on another).

Usage: redis_py_session.py PORT1 PORT2 PORT3 PASSWORD. Exit status 0 when every check
passed; otherwise the first failed check is printed."""
import sys
import time

import redis

port1, port2, port3 = (int(p) for p in sys.argv[1:4])
password = sys.argv[4]
DEADLINE_S = 60  # generous: a loaded CI machine, and members are refreshed every second


def check(condition, what):
    if not condition:
        print("FAILED:", what)
        sys.exit(1)
    print("ok:", what)


def client(port, **kwargs):
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=30, **kwargs)


# Authentication.
try:
    client(port1).get("k")
    check(False, "a command without AUTH is refused")
except redis.exceptions.RedisError as e:
    check("Authentication required" in str(e), "NOAUTH without a password: %s" % e)
try:
    client(port1, password="wrong").ping()
    check(False, "a wrong password is refused")
except redis.exceptions.RedisError as e:
    check("invalid username-password pair" in str(e), "WRONGPASS: %s" % e)
r1, r2, r3 = (client(p, password=password) for p in (port1, port2, port3))
check(r1.ping() is True, "PING after AUTH")

# Pipelines: writes through n1, read back through n2 and n3.
pipe = r1.pipeline(transaction=False)
for i in range(200):
    pipe.set("py-key-%03d" % i, "value-%d" % i)
check(all(pipe.execute()), "200 pipelined SETs")
pipe = r2.pipeline(transaction=False)
for i in range(200):
    pipe.get("py-key-%03d" % i)
values = pipe.execute()
check(values == [b"value-%d" % i for i in range(200)], "200 pipelined GETs on another node")
check(r3.mget(["py-key-000", "py-key-199", "py-none"]) == [b"value-0", b"value-199", None],
      "MGET on a third node")
check(r3.delete("py-key-000", "py-none") == 1, "DEL counts existing keys")

# MULTI/EXEC through redis-py's transaction pipeline, WATCH aborted by another node.
pipe = r1.pipeline(transaction=True)
pipe.set("py-txn", "1").incr("py-txn").get("py-txn")
check(pipe.execute() == [True, 2, b"2"], "MULTI/EXEC pipeline")
with r1.pipeline() as pipe:
    pipe.watch("py-txn")
    r2.set("py-txn", "changed")  # through another node, between WATCH and EXEC
    pipe.multi()
    pipe.incr("py-txn")
    try:
        pipe.execute()
        check(False, "EXEC after a watched key changed is aborted")
    except redis.exceptions.WatchError:
        check(True, "WATCH aborts EXEC after a write through another node")
check(r3.get("py-txn") == b"changed", "the aborted transaction wrote nothing")
check(sorted(r2.scan_iter(match="py-key-00*", count=7)) ==
      [b"py-key-%03d" % i for i in range(1, 10)], "SCAN iterates across nodes' groups")
check(r3.dbsize() >= 199, "DBSIZE")

# Connection and server commands as tools use them.
check(r1.client_setname("py-session") is True, "CLIENT SETNAME")
check(r1.client_getname() == "py-session", "CLIENT GETNAME")
check(isinstance(r1.client_id(), int), "CLIENT ID")
check(any(c.get("name") == "py-session" for c in r1.client_list()), "CLIENT LIST")
info = r1.info()
check(info["redis_version"].startswith("7.0."), "INFO redis_version %s" % info["redis_version"])
check(info["role"] == "master" and info["connected_clients"] >= 1, "INFO role, clients")
check(r1.config_get("maxclients") == {"maxclients": "10000"}, "CONFIG GET maxclients")
check(r1.config_get("requirepass") == {"requirepass": password}, "CONFIG GET requirepass")
seconds, micros = r1.time()
check(seconds > 1600000000 and 0 <= micros < 1000000, "TIME")
try:
    r1.execute_command("NOSUCHCOMMAND", "a")
    check(False, "an unknown command is an error")
except redis.exceptions.ResponseError as e:
    check(str(e).startswith("unknown command 'NOSUCHCOMMAND'"), "unknown command: %s" % e)

# Pub/sub across nodes: a channel subscriber on n3, a pattern subscriber on n2, PUBLISH on n1.
sub3 = r3.pubsub()
sub3.subscribe("py-news")
sub2 = r2.pubsub()
sub2.psubscribe("py-*")
for sub in (sub3, sub2):
    confirmation = sub.get_message(timeout=30)
    check(confirmation is not None and confirmation["type"] in ("subscribe", "psubscribe"),
          "subscription confirmed: %s" % confirmation)
# Every node learns its peers from the member directory within about a second: publish
# until both remote subscribers count (each publish may be delivered, so drain later).
receivers = 0
deadline = time.time() + DEADLINE_S
while receivers < 2 and time.time() < deadline:
    receivers = r1.publish("py-news", "hello")
    if receivers < 2:
        time.sleep(0.2)
check(receivers == 2, "PUBLISH on n1 counts the subscribers on n2 and n3 (%d)" % receivers)


def next_message(sub):
    end = time.time() + DEADLINE_S
    while time.time() < end:
        message = sub.get_message(timeout=1)
        if message is not None and message["type"] in ("message", "pmessage"):
            return message
    return None


message = next_message(sub3)
check(message is not None and message["channel"] == b"py-news" and message["data"] == b"hello",
      "the subscriber on n3 got the message published on n1: %s" % message)
message = next_message(sub2)
check(message is not None and message["pattern"] == b"py-*" and message["data"] == b"hello",
      "the pattern subscriber on n2 got it: %s" % message)
check(r2.publish("py-other", "x") >= 1, "PUBLISH on n2 reaches its own pattern subscriber")
check(r1.pubsub_numsub("py-news") == [(b"py-news", 0)], "PUBSUB NUMSUB counts this node only")
check(r3.pubsub_numsub("py-news") == [(b"py-news", 1)], "PUBSUB NUMSUB on the subscriber's node")
sub3.close()
sub2.close()
print("redis-py session passed")
