#!/usr/bin/python3
"""boto3 (Debian's python3-boto3) against one ekv node whose DynamoDB port serves TLS.

    /usr/bin/python3 dynamo_tls_session.py PORT CA_FILE

Checks: with the test CA as the bundle, a table is created and an item written and read
back over HTTPS; trusting only the system's CAs fails certificate verification; plaintext
HTTP to the port gets no DynamoDB answer. Prints PASS/FAIL lines, then
"dynamo-tls: N passed, M failed"; the exit code is non-zero when anything failed.
"""
import sys
import time
import traceback

import boto3
import botocore.exceptions
from botocore.config import Config

PORT, CA = int(sys.argv[1]), sys.argv[2]
results = {"passed": 0, "failed": 0}


def client(scheme, verify):
    return boto3.client(
        "dynamodb", endpoint_url=f"{scheme}://127.0.0.1:{PORT}", region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", verify=verify,
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))


def check(name, fn):
    try:
        fn()
        results["passed"] += 1
        print(f"PASS {name}", flush=True)
    except Exception:  # reported, never raised
        results["failed"] += 1
        print(f"FAIL {name}: {traceback.format_exc()}", flush=True)


def trusted_round_trip():
    dynamo = client("https", CA)
    table = f"tls_{int(time.time() * 1000)}"
    deadline = time.time() + 60
    while True:  # the cluster may still be electing leaders
        try:
            dynamo.create_table(
                TableName=table, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
            break
        except botocore.exceptions.ClientError as e:
            if time.time() > deadline:
                raise
            print(f"retrying create_table: {e}", flush=True)
            time.sleep(0.5)
    dynamo.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"S": "over tls"}})
    got = dynamo.get_item(TableName=table, Key={"pk": {"S": "k"}}, ConsistentRead=True)
    assert got["Item"]["v"] == {"S": "over tls"}, got


def untrusted_refused():
    try:
        client("https", True).list_tables()
    except botocore.exceptions.SSLError as e:
        print(f"  (expected) {e}", flush=True)
        return
    raise AssertionError("a client that does not trust the test CA got an answer")


def plaintext_refused():
    try:
        answer = client("http", False).list_tables()
    except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError,
            botocore.exceptions.ClientError) as e:
        print(f"  (expected) {type(e).__name__}: {e}", flush=True)
        return
    raise AssertionError(f"plaintext HTTP was answered: {answer}")


check("boto3 over HTTPS trusting the test CA", trusted_round_trip)
check("boto3 trusting only the system CAs is refused", untrusted_refused)
check("plaintext HTTP on the TLS port is refused", plaintext_refused)
print(f"dynamo-tls: {results['passed']} passed, {results['failed']} failed", flush=True)
sys.exit(1 if results["failed"] else 0)
