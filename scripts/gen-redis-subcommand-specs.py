#!/usr/bin/env python3
"""Writes adapters/redis/subcommand_specs.cc: the table entries of the subcommands ekv serves
("config|get", ...), as a running Redis (Debian's redis-server 7.0.15) describes them in
COMMAND INFO and COMMAND DOCS: arity, flags, key positions, ACL categories, tips, key
specifications, summary, since, group and complexity. COMMAND INFO/DOCS/LIST and
GETKEYS(ANDFLAGS) answer from them as Redis does from its subcommand table.

SERVED lists what each container's handler answers (commands/*.cc); the subcommands Redis
has beyond it are refused by the handler as unknown, and CommandInfoTest checks that the
two agree. A container that starts serving a subcommand adds it here. Usage:
  redis-server --port 6499 --save '' --daemonize yes
  scripts/gen-redis-subcommand-specs.py 6499 > adapters/redis/subcommand_specs.cc
  clang-format -i adapters/redis/subcommand_specs.cc
"""
import socket
import sys

SERVED = {
    "acl": "cat deluser dryrun genpass getuser help list load log save setuser users whoami",
    "client": "getname help id info kill list no-evict reply setname unblock",
    "command": "count docs getkeys getkeysandflags help info list",
    "config": "get help resetstat set",
    "function": "delete dump flush help kill list load restore stats",
    "memory": "help purge usage",
    "object": "encoding freq help idletime refcount",
    "pubsub": "channels help numpat numsub shardchannels shardnumsub",
    "script": "exists flush help kill load",
    "xgroup": "create createconsumer delconsumer destroy help setid",
    "xinfo": "consumers groups help stream",
}

FLAGS = {
    "write": "kFlagWrite", "readonly": "kFlagReadOnly", "denyoom": "kFlagDenyOom",
    "admin": "kFlagAdmin", "pubsub": "kFlagPubSub", "noscript": "kFlagNoScript",
    "blocking": "kFlagBlocking", "loading": "kFlagLoading", "stale": "kFlagStale",
    "skip_monitor": "kFlagSkipMonitor", "skip_slowlog": "kFlagSkipSlowlog", "fast": "kFlagFast",
    "no_auth": "kFlagNoAuth", "no_mandatory_keys": "kFlagNoMandatoryKeys",
    "movablekeys": "kFlagMovableKeys", "allow_busy": "kFlagAllowBusy",
}


def read(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode()
    if kind in (b"*", b"~"):
        n = int(rest)
        return None if n < 0 else [read(f) for _ in range(n)]
    raise RuntimeError(f"unexpected reply {line!r}")


def call(sock, f, *args):
    sock.sendall(b"".join([f"*{len(args)}\r\n".encode()] +
                          [f"${len(a)}\r\n{a}\r\n".encode() for a in args]))
    return read(f)


def as_map(pairs):
    return {pairs[i]: pairs[i + 1] for i in range(0, len(pairs), 2)}


def key_spec_text(spec):
    """A key spec in CommandSpec::key_specs's compact form (command_table.h, KeySpec)."""
    spec = as_map(spec)
    begin = as_map(spec["begin_search"])
    find = as_map(spec["find_keys"])
    begin_spec = as_map(begin["spec"])
    find_spec = as_map(find["spec"])
    if begin["type"] == "index":
        b = f"i{begin_spec['index']}"
    elif begin["type"] == "keyword":
        b = f"k{begin_spec['keyword']},{begin_spec['startfrom']}"
    else:
        b = "u"
    if find["type"] == "range":
        k = f"r{find_spec['lastkey']},{find_spec['keystep']},{find_spec['limit']}"
    elif find["type"] == "keynum":
        k = f"n{find_spec['keynumidx']},{find_spec['firstkey']},{find_spec['keystep']}"
    else:
        k = "u"
    text = f"{' '.join(spec['flags'])}|{b}|{k}"
    if "notes" in spec:
        text += f"|{spec['notes']}"
    return text


def c_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
    sock = socket.create_connection(("127.0.0.1", port))
    f = sock.makefile("rb")
    rows = []
    for container, subs in sorted(SERVED.items()):
        for sub in sorted(subs.split()):
            name = f"{container}|{sub}"
            info = call(sock, f, "COMMAND", "INFO", name)[0]
            if info is None:
                raise RuntimeError(f"Redis has no {name}")
            docs = as_map(call(sock, f, "COMMAND", "DOCS", name)[1])
            flags = " | ".join(FLAGS[flag] for flag in info[2]) or "0"
            rows.append(
                f"      {{{c_string(name)}, {info[1]}, {flags}, {info[3]}, {info[4]}, {info[5]}, "
                f"{c_string(docs['group'])}, {c_string(docs['since'])}, "
                f"{c_string(docs['summary'])}, {{{', '.join(c_string(c) for c in info[6])}}}, "
                f"nullptr, {c_string(' '.join(info[7]))}, "
                f"{c_string(';'.join(key_spec_text(s) for s in info[8]))}, "
                f"{c_string(docs.get('complexity', ''))}, "
                f"{c_string(docs.get('deprecated_since', ''))}, "
                f"{c_string(docs.get('replaced_by', ''))}}},")
    print(f"""// Generated by scripts/gen-redis-subcommand-specs.py from redis-server 7.0.15's COMMAND
// INFO and COMMAND DOCS: the subcommands ekv serves, as Redis describes them. Do not edit.
#include "adapters/redis/command_table.h"

namespace ekv::redis {{

std::vector<CommandSpec> SubcommandSpecs() {{
  return {{""")
    print("\n".join(rows))
    print("""  };
}

}  // namespace ekv::redis""")


if __name__ == "__main__":
    main()
