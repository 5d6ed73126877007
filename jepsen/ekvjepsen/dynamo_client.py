"""boto3 clients for the DynamoDB front door, and what an error says about an operation.

Retries are off: a retried conditional write whose first attempt applied would come back
as ConditionalCheckFailed and be recorded as `fail` although it happened. The harness
records each attempt as what it is instead.
"""
import boto3
import botocore.config
import botocore.exceptions

# Errors after which the request certainly did not change anything.
_REFUSED = {
    "ConditionalCheckFailedException",  # the condition was false: nothing written
    "TransactionCanceledException",      # a condition failed or a conflict: nothing written
    "ValidationException",
    "ResourceNotFoundException",
}


def connect(node, timeout_s):
    config = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"},
                                    connect_timeout=timeout_s, read_timeout=timeout_s,
                                    max_pool_connections=2)
    # Signatures are not checked (no --dynamo_credentials_file), but boto3 signs anyway.
    return boto3.client("dynamodb", endpoint_url=node.dynamo_endpoint, region_name="us-east-1",
                        aws_access_key_id="jepsen", aws_secret_access_key="jepsen", config=config)


def error_code(error):
    if isinstance(error, botocore.exceptions.ClientError):
        return error.response.get("Error", {}).get("Code", "")
    return ""


def refused(error):
    """True if the request certainly did not write: DynamoDB refused it, or it never
    reached the node (connection refused or not established in time)."""
    if error_code(error) in _REFUSED:
        return True
    return isinstance(error, (botocore.exceptions.EndpointConnectionError,
                              botocore.exceptions.ConnectTimeoutError))


def describe(error):
    code = error_code(error)
    if code:
        return f"{code}: {error.response.get('Error', {}).get('Message', '')}"
    return f"{type(error).__name__}: {error}"


ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
