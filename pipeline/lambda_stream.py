"""The stream Lambda: the events table's DynamoDB Stream, batch by batch, to the pipeline's consumers.

It is its own function (zappa_settings.json `*_stream`), fed by an event source mapping (infra/), so nothing
downstream of a webhook's write runs in the webhook's request. It sets up Django for settings and the DynamoDB
models only; `pipeline/dispatch.py` does the work, and the local stream reader (`pipeline/local.py`) calls the
same function with the same record shape.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
django.setup()

from pipeline import dispatch  # noqa: E402


def handler(event, context):
    """The Lambda entry point: a batch of stream records in, the records that failed out (partial batch response)."""
    return dispatch.batch_handle(event.get("Records") or [])
