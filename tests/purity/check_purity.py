#!/usr/bin/env python3
"""Enforces ekv's one architectural rule: core/ is deterministic and never touches the OS.

core/ may not include OS, thread, clock, file, socket, gRPC, Protobuf or RocksDB headers,
nor call std::rand, random_device, system_clock, steady_clock, getenv or std::thread.
sim/ may not use threads or wall clocks (it runs on virtual time).

Usage: check_purity.py ROOT            check ROOT/core and ROOT/sim; exit 1 on violations
       check_purity.py --self-test     plant violations in a scratch tree; they must be found
"""
import os
import re
import sys
import tempfile

FORBIDDEN_CORE_INCLUDES = [
    # OS and POSIX
    r"unistd\.h", r"fcntl\.h", r"sys/.*", r"signal\.h", r"csignal", r"pthread\.h",
    r"dlfcn\.h", r"poll\.h", r"windows\.h",
    # threads and synchronization
    r"thread", r"mutex", r"shared_mutex", r"condition_variable", r"future", r"atomic",
    r"semaphore", r"latch", r"barrier", r"stop_token", r"absl/synchronization/.*",
    # clocks
    r"chrono", r"ctime", r"time\.h", r"absl/time/clock\.h",
    # files
    r"fstream", r"filesystem", r"cstdio", r"stdio\.h",
    # sockets and networking
    r"netinet/.*", r"arpa/.*", r"netdb\.h", r"sys/socket\.h",
    # RPC and storage libraries
    r"grpc.*", r"google/protobuf/.*", r"rocksdb/.*",
]
FORBIDDEN_CORE_CALLS = [
    r"\bstd::rand\b", r"\brand\s*\(", r"\bsrand\s*\(", r"\brandom_device\b",
    r"\bsystem_clock\b", r"\bsteady_clock\b", r"\bhigh_resolution_clock\b", r"\bgetenv\b",
    r"\bstd::thread\b", r"\bstd::jthread\b", r"\bstd::async\b", r"\btime\s*\(\s*(nullptr|NULL|0)\s*\)",
    r"\babsl::Now\b", r"\bsleep\b", r"\busleep\b",
]
FORBIDDEN_SIM_INCLUDES = [
    r"thread", r"mutex", r"condition_variable", r"future", r"chrono", r"ctime", r"time\.h",
    r"pthread\.h", r"absl/synchronization/.*", r"absl/time/clock\.h",
]
FORBIDDEN_SIM_CALLS = [
    r"\bstd::thread\b", r"\bstd::jthread\b", r"\bstd::async\b", r"\bsystem_clock\b",
    r"\bsteady_clock\b", r"\bhigh_resolution_clock\b", r"\babsl::Now\b", r"\brandom_device\b",
    r"\bstd::rand\b", r"\bgettimeofday\b", r"\bclock_gettime\b",
]
# The single sanctioned exception: the assertion handler prints its reason to stderr
# before aborting (no driver can be asked to do it at that point).
ALLOWED = {("core/util/assert.cc", "cstdio")}
ALLOWED_CALLS = set()
# sim/main.cc is the command-line entry point: it may print and parse flags, but it
# still may not use threads or clocks, so it is checked like the rest of sim/.

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')


def strip_comments(line, in_block):
    out = []
    i = 0
    while i < len(line):
        if in_block:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out), True
            i = end + 2
            in_block = False
        elif line.startswith("//", i):
            break
        elif line.startswith("/*", i):
            in_block = True
            i += 2
        elif line[i] == '"':
            # skip string literals so that text inside strings is not flagged
            j = i + 1
            while j < len(line) and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            out.append('""')
            i = j + 1
        else:
            out.append(line[i])
            i += 1
    return "".join(out), in_block


def check_tree(root, subdir, includes, calls):
    violations = []
    base = os.path.join(root, subdir)
    if not os.path.isdir(base):
        return violations
    include_res = [re.compile("^(" + pattern + ")$") for pattern in includes]
    call_res = [re.compile(pattern) for pattern in calls]
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith((".h", ".cc", ".hpp", ".cpp")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            in_block = False
            with open(path, encoding="utf-8", errors="replace") as f:
                for number, raw in enumerate(f, 1):
                    match = INCLUDE_RE.match(raw)
                    if match:
                        header = match.group(1)
                        if (rel, header) in ALLOWED:
                            continue
                        for pattern in include_res:
                            if pattern.match(header):
                                violations.append(f"{rel}:{number}: forbidden include <{header}>")
                                break
                        continue
                    code, in_block = strip_comments(raw, in_block)
                    for pattern in call_res:
                        if (rel, pattern.pattern) in ALLOWED_CALLS:
                            continue
                        if pattern.search(code):
                            violations.append(
                                f"{rel}:{number}: forbidden use of {pattern.pattern}: {raw.strip()}")
    return violations


def check(root):
    violations = check_tree(root, "core", FORBIDDEN_CORE_INCLUDES, FORBIDDEN_CORE_CALLS)
    violations += check_tree(root, "sim", FORBIDDEN_SIM_INCLUDES, FORBIDDEN_SIM_CALLS)
    return violations


def self_test():
    planted = {
        "core/raft/a.h": "#include <thread>\n",
        "core/kv/b.cc": "#include <rocksdb/db.h>\n",
        "core/kv/c.cc": "int f() { return std::rand(); }\n",
        "core/route/d.cc": "auto t = std::chrono::steady_clock::now();\n",
        "core/node/e.cc": "const char* p = getenv(\"HOME\");\n",
        "core/util/f.h": "#include <sys/socket.h>\n",
        "core/util/g.cc": "#include <google/protobuf/message.h>\n",
        "sim/h.cc": "#include <chrono>\n",
        "sim/i.cc": "std::thread worker;\n",
    }
    clean = {
        "core/raft/ok.cc": "// std::thread in a comment is fine\nconst char* s = \"std::rand\";\n",
        "sim/ok.cc": "#include <map>\n",
    }
    failures = []
    with tempfile.TemporaryDirectory() as root:
        for rel, text in {**planted, **clean}.items():
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        found = check(root)
        for rel in planted:
            if not any(v.startswith(rel + ":") for v in found):
                failures.append(f"planted violation in {rel} was not detected")
        for rel in clean:
            if any(v.startswith(rel + ":") for v in found):
                failures.append(f"clean file {rel} was flagged: {found}")
    for failure in failures:
        print("SELF-TEST FAILURE:", failure)
    print(f"purity self-test: {len(planted)} planted violations, {len(failures)} missed")
    return 1 if failures else 0


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--self-test":
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    violations = check(sys.argv[1])
    for v in violations:
        print(v)
    print(f"purity: {len(violations)} violation(s) in core/ and sim/")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
