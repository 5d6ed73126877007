"""What every boto3 test script here shares: the three nodes' ports from the command line,
boto3 clients and resources for them (SigV4 with fake credentials, which ekv accepts
without checking), the check decorator that reports PASS/FAIL per check, expect_error, and
the closing "NAME: N passed, M failed" line with the exit code.

    import harness
    N1, N2, N3 = harness.clients()

    @harness.check("what it checks")
    def _():
        ...

    harness.finish("dynamo-boto3")
"""
import sys
import time
import traceback

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if len(sys.argv) != 4:
    print(f"usage: {sys.argv[0]} PORT_N1 PORT_N2 PORT_N3", file=sys.stderr)
    sys.exit(2)
PORTS = [int(p) for p in sys.argv[1:]]
results = {"passed": 0, "failed": 0}


def client(port, max_attempts=5):
    return boto3.client(
        "dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id="fakeMyKeyId", aws_secret_access_key="fakeSecretAccessKey",
        config=Config(retries={"max_attempts": max_attempts, "mode": "standard"}))


def clients(max_attempts=5):
    return [client(p, max_attempts) for p in PORTS]


def resource(port):
    return boto3.resource(
        "dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id="fakeMyKeyId", aws_secret_access_key="fakeSecretAccessKey")


def check(name):
    """Runs the decorated function at once and reports it; a failure never stops the rest."""
    def run(fn):
        start = time.time()
        try:
            fn()
            results["passed"] += 1
            print(f"PASS {name} ({time.time() - start:.1f} s)", flush=True)
        except Exception:  # a failed check is reported, never raised
            results["failed"] += 1
            print(f"FAIL {name}: {traceback.format_exc()}", flush=True)
        return fn
    return run


def expect_error(call, name):
    """The error response of call(), which must fail with error code `name`."""
    try:
        call()
    except ClientError as e:
        got = e.response["Error"]["Code"]
        if got != name:
            raise AssertionError(f"error {got} ({e.response['Error']['Message']}), want {name}")
        return e.response
    raise AssertionError(f"no error, want {name}")


def finish(label):
    print(f"{label}: {results['passed']} passed, {results['failed']} failed")
    sys.exit(0 if results["failed"] == 0 else 1)
