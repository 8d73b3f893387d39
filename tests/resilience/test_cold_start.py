"""A cold start in the middle of a burst: a new process, and this one losing its module state, lose nothing.

On Lambda a burst of deliveries starts new containers, whose first request finds no DynamoDB client, no App
token and no rate-limit memory yet, and which get many deliveries at once. Here a fresh app process is started
mid-burst and given the burst's remaining deliveries, concurrently and each twice (GitHub's exact bytes and
headers, as the simulator signed them), as its very first requests; and the in-process app drops its module
state between two deliveries.
"""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import requests

from accounts import crypto
from dashboard.lib import dynamo, github
from dashboard.lib.dynamo import table_models
from devstack.dynamodb_local import free_port
from realtime import gateway
from tests.conftest import ROOT
from tests.runs.conftest import settle
from tests.waiting import wait_until
from tests.webhooks.test_storms import (
    assert_cache_equals_truth,
    assert_each_change_announced_once,
    assert_summaries_equal_truth,
    busy_hour,
)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True
    return False


@contextlib.contextmanager
def fresh_app_process():
    """The app in a new process (uvicorn, as `make run` serves it), on the test's DynamoDB Local and settings.

    Ready once its port accepts connections, so its first HTTP request is the test's.
    """
    port = free_port()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "dashboard.asgi:application", "--host", "127.0.0.1"]
            + ["--port", str(port), "--lifespan", "off", "--log-level", "warning"],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: _listening(port) or process.poll() is not None, timeout=60, what="the new process")
            assert process.poll() is None, "the new process exited"
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


def _this_process_starts_cold() -> None:
    """What a new container has: no DynamoDB client or connections yet, no App tokens, budgets or data keys."""
    github.forget_process_state()
    crypto.token_cipher.cache_clear()
    gateway.management_client.cache_clear()
    for model in table_models():
        model._connection = None
    dynamo._client = None


def _replay(url: str, delivery) -> int:
    """Send one delivery again exactly as GitHub sent it: the same bytes and headers, signature included."""
    return requests.post(url, data=delivery.body, headers=delivery.request_headers, timeout=15).status_code


def test_a_burst_split_across_a_warm_process_a_reset_one_and_a_brand_new_one_loses_nothing(hooked, live_app):
    busy_hour(hooked, seed=3, minutes=10)  # the warm app takes the start of the burst
    _this_process_starts_cold()
    busy_hour(hooked, seed=4, minutes=6)  # and goes on from a standing start, runs in flight
    hooked.receiver.status = 503
    hooked.set_hook(url=hooked.receiver.url)  # the rest of the burst waits for the new process
    busy_hour(hooked, seed=5, minutes=10)
    settle(hooked)
    waiting = [delivery for delivery in hooked.deliveries() if delivery.url == hooked.receiver.url]
    assert len(waiting) > 50

    with fresh_app_process() as cold, ThreadPoolExecutor(max_workers=16) as senders:
        statuses = list(senders.map(lambda delivery: _replay(f"{cold}/webhooks/github", delivery), waiting * 2))

    assert set(statuses) <= {200, 202}  # 202: ignored events (none here) or accepted past the time budget
    assert all(delivery.status_code == 200 for delivery in hooked.deliveries() if delivery.url != hooked.receiver.url)
    assert_cache_equals_truth(hooked)
    assert_summaries_equal_truth(hooked)
    assert_each_change_announced_once(hooked)
