"""Cold start of the packaged app, and the size of the Lambda zip.

A cold start here is what Lambda pays on a new container: from spawning a fresh Python process to the answer
of its first request, the process importing Zappa's handler from the unzipped package and serving GET /healthz
(which reads DynamoDB Local). Interpreter teardown is not counted: a Lambda answers first and lives on. The process runs
with `-I -S -B`: nothing from the machine's site-packages, and no bytecode written, as on Lambda's read-only
/var/task. "Without" removes every __pycache__ from the package, which is what Lambda effectively gets from a
default Zappa package (its 1980 timestamps make shipped bytecode stale).
"""

import json
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bench.report import Figure
from devstack import dynamodb_local, package

RUNS = 5
COMMAND = "make bench-cold-start"

SCRIPT = """
import json, os, sys, time
os.chdir(sys.argv[1])
sys.path.insert(0, sys.argv[1])
from handler import lambda_handler
event = {
    "version": "2.0", "routeKey": "$default", "rawPath": "/healthz", "rawQueryString": "",
    "headers": {"host": "dev.actions-dashboard.example.com", "x-forwarded-proto": "https"},
    "requestContext": {"http": {"method": "GET", "path": "/healthz", "protocol": "HTTP/1.1",
                                "sourceIp": "192.0.2.1", "userAgent": "bench"}, "stage": "$default"},
    "isBase64Encoded": False,
}
response = lambda_handler(event, None)
print(json.dumps({"status": response["statusCode"], "answered_at": time.time()}))
"""


def _unpack(zip_path: Path, target: Path, *, endpoint: str, keep_bytecode: bool) -> None:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)
    if not keep_bytecode:
        for cache in list(target.rglob("__pycache__")):
            shutil.rmtree(cache)
    # Point the packaged stage at the local DynamoDB, and give it the values SSM would supply on AWS.
    settings = target / "zappa_settings.py"
    supplied = {
        "DYNAMODB_ENDPOINT_URL": endpoint,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "GITHUB_CLIENT_ID": "Iv1.bench",
        "GITHUB_CLIENT_SECRET": secrets.token_hex(20),
        "TOKEN_KMS_KEY_ID": "alias/bench",
        "GITHUB_APP_ID": "1",
        "GITHUB_APP_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nunused by this request\n-----END PRIVATE KEY-----\n",
        "GITHUB_WEBHOOK_SECRET": secrets.token_hex(20),
    }
    text = settings.read_text()
    text = text.replace("ENVIRONMENT_VARIABLES={", "ENVIRONMENT_VARIABLES={" + repr(supplied)[1:-1] + ", ", 1)
    text = text.replace("'DASHBOARD_SSM_PATH': '/actions-dashboard/dev/'", "'DASHBOARD_SSM_PATH': ''")
    settings.write_text(text)


def _cold_starts(directory: Path) -> list[float]:
    timings = []
    for _ in range(RUNS):
        spawned_at = time.time()
        result = subprocess.run(
            [sys.executable, "-I", "-S", "-B", "-c", SCRIPT, str(directory)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        outcome = json.loads(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else None
        if not outcome or outcome["status"] != 200:
            raise RuntimeError(
                f"the packaged app did not serve /healthz: {result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
        # Until the answer is ready, not until the process exits: a Lambda answers, then lives on.
        timings.append((outcome["answered_at"] - spawned_at) * 1000)
    return timings


def run() -> list[Figure]:
    zip_path = package.build("dev")
    size_mb = zip_path.stat().st_size / 1e6
    port = dynamodb_local.free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = dynamodb_local.start(port=port)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "createtables"],
            cwd=package.ROOT,
            env={"DYNAMODB_ENDPOINT_URL": endpoint, "DYNAMODB_TABLE_PREFIX": "actions-dashboard-dev-", "PATH": ""},
            check=True,
            capture_output=True,
        )
        with tempfile.TemporaryDirectory() as scratch:
            with_bytecode, without_bytecode = Path(scratch, "with"), Path(scratch, "without")
            _unpack(zip_path, with_bytecode, endpoint=endpoint, keep_bytecode=True)
            _unpack(zip_path, without_bytecode, endpoint=endpoint, keep_bytecode=False)
            fast = statistics.median(_cold_starts(with_bytecode))
            slow = statistics.median(_cold_starts(without_bytecode))
    finally:
        dynamodb_local.stop(server)
    return [
        Figure(
            key="lambda.cold_start",
            label="Lambda cold start, precompiled bytecode (median of 5)",
            value=fast,
            unit="ms",
            target="≤ 400 ms",
            met=fast <= 400,
            command=COMMAND,
            notes=f"Fresh `python -I -S -B` process importing Zappa's handler from the unzipped package and serving "
            f"GET /healthz against DynamoDB Local, timed from spawn to the answer (a Lambda answers, then lives on, "
            f"so interpreter teardown is not counted). Without precompiled bytecode: {slow:.0f} ms "
            f"({slow / fast:.1f}x). The SSM read of secrets (one call on AWS) is not included.",
        ),
        Figure(
            key="lambda.cold_start_without_bytecode",
            label="Lambda cold start, no bytecode shipped (median of 5)",
            value=slow,
            unit="ms",
            target="(comparison)",
            met=None,
            command=COMMAND,
        ),
        Figure(
            key="lambda.zip_size",
            label="Lambda zip size",
            value=size_mb,
            unit="MB",
            target="≤ 25 MB",
            met=size_mb <= 25,
            command="make package",
            notes="After pruning Zappa's deploy-time dependencies, unused botocore service models, other allauth "
            "providers and translation files (devstack/package.py lists each rule and its reason).",
        ),
    ]
