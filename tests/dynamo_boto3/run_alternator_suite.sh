#!/usr/bin/env bash
# Runs ScyllaDB's Alternator DynamoDB-API tests (an independent suite, not part of ekv and
# never run by ctest) against a running ekv DynamoDB endpoint, one file at a time.
#
#   tests/dynamo_boto3/run_alternator_suite.sh SCYLLA_CHECKOUT URL OUT_DIR [FILE...]
#
# SCYLLA_CHECKOUT: a git checkout (or bare mirror) of github.com/scylladb/scylladb that you
# fetched yourself; nothing is downloaded here. URL: e.g. http://127.0.0.1:8000. FILE: the
# names after test_ (default: the files covering the DynamoDB API ekv implements).
# Needs Debian's python3-pytest and python3-boto3. The suite's harness imports ScyllaDB's
# test framework and the Cassandra driver; the files written under $WORK/stubs stand in
# for them (no CQL, no Scylla REST API), so Scylla-only tests skip or fail as artefacts.
# Scylla's configuration table (.scylla.alternator.system.config, read by util.py's
# scylla_config_read) is not served by ekv: the stand-in answers the settings ekv has an
# equivalent of from ekv's own ones -- alternator_ttl_period_in_seconds (how often expired
# items are looked for) is the node's --dynamo_ttl_sweep_interval_ms, which the caller
# passes in EKV_TTL_SWEEP_INTERVAL_MS (default 2000, the server's default; Scylla's TTL
# tests that wait for expiry skip unless it is at most 1000) -- and skips a test that asks
# for any other one (e.g. query_tombstone_page_limit: ekv's reads have no tombstone limit).
# EKV_PYTEST_ARGS adds pytest options (e.g. --runveryslow, which the suite's @veryslow
# tests need). Per file, OUT_DIR gets FILE.log and FILE.xml (JUnit) and a summary line is printed.
set -euo pipefail
CHECKOUT="$1"; URL="$2"; OUT="$(realpath -m "$3")"; shift 3
FILES=("$@")
if [ ${#FILES[@]} -eq 0 ]; then
  FILES=(item condition_expression update_expression projection_expression filter_expression
    key_condition_expression key_conditions expected query query_filter scan batch transact
    describe_table table tag number limits nested returnvalues returnconsumedcapacity
    describe_endpoints gsi lsi gsi_updatetable ttl provisioned_throughput manual_requests
    no_exception)
fi
WORK="$(mktemp -d /tmp/ekv-alternator.XXXXXX)"
if [ -d "$CHECKOUT/.git" ]; then GIT=(git -C "$CHECKOUT"); else GIT=(git --git-dir="$CHECKOUT"); fi
"${GIT[@]}" archive HEAD test/alternator | tar -x -C "$WORK"
T="$WORK/test"
mkdir -p "$T/pylib" "$T/cqlpy" "$WORK/stubs/cassandra" "$OUT"
echo 'TEST_RUNNER = "runpy"' >"$T/__init__.py"
cat >"$T/conftest.py" <<'PY'
import pytest
def dynamic_scope():
    return "session"
def pytest_runtest_setup(item):
    m = item.get_closest_marker("skip_env")
    if m:
        pytest.skip(m.kwargs.get("reason", "skip_env"))
PY
touch "$T/pylib/__init__.py" "$T/cqlpy/__init__.py"
cat >"$T/pylib/skip_types.py" <<'PY'
import pytest
def skip_env(reason):
    pytest.skip(reason)
def skip_bug(link, reason=""):
    pytest.skip(reason or link)
PY
printf 'def safe_driver_shutdown(cluster):\n    cluster.shutdown()\n' >"$T/pylib/driver_utils.py"
printf 'def add_host_option(parser):\n    parser.addoption("--host", action="store", default=None)\n' \
  >"$T/pylib/connect_options.py"
printf 'import pytest\n@pytest.fixture(scope="session")\ndef host(request):\n    return request.config.getoption("--host")\n' \
  >"$T/cqlpy/conftest.py"
printf 'import contextlib\n@contextlib.contextmanager\ndef config_value_context(*a, **k):\n    yield\n' \
  >"$T/cqlpy/util.py"
cat >>"$T/alternator/util.py" <<'PY'

# ekv stand-in (run_alternator_suite.sh): replaces the definition above, which queries
# Scylla's configuration table. Test files import this name after util.py has run.
def scylla_config_read(dynamodb, name):
    import os
    ekv_settings = {
        'alternator_ttl_period_in_seconds':
            str(int(os.environ.get('EKV_TTL_SWEEP_INTERVAL_MS', '2000')) / 1000),
    }
    if name not in ekv_settings:
        pytest.skip(f"ekv has no equivalent of Scylla's setting {name}")
    return ekv_settings[name]
PY
S="$WORK/stubs/cassandra"
printf 'class ConsistencyLevel:\n    LOCAL_QUORUM = 1\n    LOCAL_SERIAL = 2\n    ONE = 3\nclass InvalidRequest(Exception):\n    pass\n' >"$S/__init__.py"
printf 'class NoHostAvailable(Exception):\n    pass\nclass Cluster:\n    def __init__(self, *a, **k):\n        raise NoHostAvailable("no CQL")\n' >"$S/cluster.py"
printf 'class PlainTextAuthProvider:\n    def __init__(self, *a, **k):\n        pass\n' >"$S/auth.py"
echo 'class SimpleStatement: pass' >"$S/query.py"
echo 'class RoundRobinPolicy: pass' >"$S/policies.py"
printf '[pytest]\nmarkers =\n    veryslow\n    skip_env\n    skip_bug\n' >"$WORK/pytest.ini"
cd "$WORK"
for f in "${FILES[@]}"; do
  PYTHONPATH="$WORK/stubs" timeout 1200 /usr/bin/python3 -m pytest -q -p no:cacheprovider -rfEs \
    ${EKV_PYTEST_ARGS:-} "test/alternator/test_$f.py" --url "$URL" --junitxml="$OUT/$f.xml" >"$OUT/$f.log" 2>&1 || true
  echo "$f: $(tail -1 "$OUT/$f.log")"
done
