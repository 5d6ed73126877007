"""RESP2/RESP3 replies read from a socket file, for the scripts that generate ekv's tables
from a running redis-server (gen-redis-acl-catalog.py, gen-redis-subcommand-specs.py)."""


def read(f):
    """One reply: a str, int, None or list (sets as lists); an error reply raises."""
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
