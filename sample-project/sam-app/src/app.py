"""The sample function: answers with the configured greeting."""

import json
import os


def handler(event, context):
    """Return the greeting and the environment as JSON."""
    body = {"greeting": os.environ.get("GREETING", "hello"), "environment": os.environ.get("ENVIRONMENT", "dev")}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
