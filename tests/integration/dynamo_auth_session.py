#!/usr/bin/python3
"""boto3 (Debian's python3-boto3) against one ekv node started with --dynamo_credentials_file.

    /usr/bin/python3 dynamo_auth_session.py PORT ACCESS_KEY_ID SECRET_ACCESS_KEY

Checks: with the configured key a table is created and an item written and read back;
the same key id with a wrong secret is refused with InvalidSignatureException, an unknown
key id with UnrecognizedClientException, an unsigned request with
MissingAuthenticationTokenException (each with DynamoDB's message, HTTP 400), and none of
them wrote anything. Prints PASS/FAIL lines, then "dynamo-auth: N passed, M failed"; the
exit code is non-zero when anything failed.
"""
import sys
import time
import traceback

import boto3
import botocore
import botocore.exceptions
from botocore.config import Config

PORT, KEY_ID, SECRET = int(sys.argv[1]), sys.argv[2], sys.argv[3]
TABLE = f"auth_{int(time.time() * 1000)}"
results = {"passed": 0, "failed": 0}


def client(key_id, secret, unsigned=False):
    config = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30)
    if unsigned:
        config = config.merge(Config(signature_version=botocore.UNSIGNED))
    return boto3.client(
        "dynamodb", endpoint_url=f"http://127.0.0.1:{PORT}", region_name="eu-west-3",
        aws_access_key_id=key_id, aws_secret_access_key=secret, config=config)


def check(name, fn):
    try:
        fn()
        results["passed"] += 1
        print(f"PASS {name}", flush=True)
    except Exception:  # reported, never raised
        results["failed"] += 1
        print(f"FAIL {name}: {traceback.format_exc()}", flush=True)


def right_key_round_trip():
    dynamo = client(KEY_ID, SECRET)
    deadline = time.time() + 60
    while True:  # the cluster may still be electing leaders
        try:
            dynamo.create_table(
                TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
            break
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] != "InternalServerError" or time.time() > deadline:
                raise
            time.sleep(0.5)
    dynamo.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "v": {"S": "signed"}})
    got = dynamo.get_item(TableName=TABLE, Key={"pk": {"S": "a"}}, ConsistentRead=True)
    assert got["Item"]["v"]["S"] == "signed", got


def expect_refused(dynamo, code, message):
    try:
        dynamo.put_item(TableName=TABLE, Item={"pk": {"S": "b"}, "v": {"S": "forged"}})
    except botocore.exceptions.ClientError as e:
        error = e.response["Error"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert (error["Code"], error["Message"], status) == (code, message, 400), e.response
        return
    raise AssertionError(f"a request that should answer {code} was accepted")


def wrong_secret():
    expect_refused(
        client(KEY_ID, SECRET + "x"), "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details.")


def unknown_key():
    expect_refused(client("AKIDNOBODY", SECRET), "UnrecognizedClientException",
                   "The security token included in the request is invalid.")


def unsigned():
    expect_refused(client(KEY_ID, SECRET, unsigned=True), "MissingAuthenticationTokenException",
                   "Request is missing Authentication Token")


def nothing_forged_was_written():
    got = client(KEY_ID, SECRET).get_item(TableName=TABLE, Key={"pk": {"S": "b"}},
                                          ConsistentRead=True)
    assert "Item" not in got, got


check("right key: create, put, get", right_key_round_trip)
check("wrong secret: InvalidSignatureException", wrong_secret)
check("unknown key id: UnrecognizedClientException", unknown_key)
check("unsigned: MissingAuthenticationTokenException", unsigned)
check("refused requests wrote nothing", nothing_forged_was_written)
print(f"dynamo-auth: {results['passed']} passed, {results['failed']} failed", flush=True)
sys.exit(1 if results["failed"] else 0)
