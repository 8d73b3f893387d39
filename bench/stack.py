"""The local stack for in-process benchmarks: DynamoDB Local, the simulator, Django configured against them."""

import contextlib
import os
import threading
from collections import Counter

from devstack import dynamodb_local


def _app_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@contextlib.contextmanager
def local_stack(*, simulator: bool = False, **simulator_options):
    """DynamoDB Local (in memory, free port) with every table, Django set up for it, and optionally ghsim."""
    port = dynamodb_local.free_port()
    sim_port = dynamodb_local.free_port()
    key = _app_key()
    os.environ.update(
        {
            "DASHBOARD_STAGE": "test",
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "DYNAMODB_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "DYNAMODB_TABLE_PREFIX": "bench-",
            "GITHUB_URL": f"http://127.0.0.1:{sim_port}",
            "GITHUB_APP_PRIVATE_KEY": key.decode(),
            "LOG_LEVEL": "WARNING",
        }
    )
    server = dynamodb_local.start(port=port)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("createtables", stdout=open(os.devnull, "w"))  # noqa: SIM115
        if not simulator:
            yield None
            return
        from ghsim.testing import running_simulator

        with running_simulator(port=sim_port, jwt_clock="wall", private_key_pem=key, **simulator_options) as sim:
            yield sim
    finally:
        dynamodb_local.stop(server)


class DynamoDBRequests:
    """Counts the DynamoDB API calls made through the shared client (every table's)."""

    def __init__(self):
        self.counts: Counter = Counter()
        self._lock = threading.Lock()

    def __enter__(self):
        from dashboard.dynamo import shared_client

        self._client = shared_client()
        self._client.meta.events.register("before-call.dynamodb.*", self._count)
        return self

    def _count(self, model, **kwargs):
        with self._lock:
            self.counts[model.name] += 1

    def __exit__(self, *exc):
        self._client.meta.events.unregister("before-call.dynamodb.*", self._count)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def reset(self):
        with self._lock:
            self.counts.clear()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
