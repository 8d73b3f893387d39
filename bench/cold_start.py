"""Cold start of the packaged app, and the size of the Lambda zip.

A cold start here is what Lambda pays on a new container: from spawning a fresh Python process to the answer
of its first request, the process importing Zappa's handler from the unzipped package and serving GET /healthz
(which reads DynamoDB Local). The zip is the release zip, the same for every stage: the stage's configuration
comes through the process environment, as Lambda gives it (`lambda_environment`). Interpreter teardown is not
counted: a Lambda answers first and lives on. The process runs with `-I -S -B`: nothing from the machine's
site-packages, and no bytecode written, as on Lambda's read-only /var/task. "Without" removes every __pycache__
from the package, which is what Lambda effectively gets from a default Zappa package (its 1980 timestamps make
shipped bytecode stale).
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
TABLE_PREFIX = "actions-dashboard-dev-"
COMMAND = "make bench-cold-start"

SCRIPT = """
import json, os, sys, time
os.chdir(sys.argv[1])
sys.path.insert(0, sys.argv[1])
from handler import lambda_handler
event = {
    "version": "2.0", "routeKey": "$default", "rawPath": "/healthz", "rawQueryString": "",
    "headers": {"host": sys.argv[2], "x-forwarded-proto": "https"},
    "requestContext": {"http": {"method": "GET", "path": "/healthz", "protocol": "HTTP/1.1",
                                "sourceIp": "192.0.2.1", "userAgent": "bench"}, "stage": "$default"},
    "isBase64Encoded": False,
}
response = lambda_handler(event, None)
print(json.dumps({"status": response["statusCode"], "body": response.get("body"), "answered_at": time.time()}))
"""


def lambda_environment(stage: str, *, endpoint: str, table_prefix: str) -> dict[str, str]:
    """What Lambda's configuration gives the app function of `stage`, with the values SSM would supply on AWS.

    The zip itself is stage-neutral (devstack/package.py), so this is the only place the stage comes from. DynamoDB
    is the local one, and the SSM read is left out: it needs AWS.
    """
    return {
        **package.stage_environment(package.zappa_stage(stage, "app")),
        "DASHBOARD_SSM_PATH": "",
        "DYNAMODB_ENDPOINT_URL": endpoint,
        "DYNAMODB_TABLE_PREFIX": table_prefix,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "GITHUB_CLIENT_ID": "Iv1.bench",
        "GITHUB_CLIENT_SECRET": secrets.token_hex(20),
        "TOKEN_KMS_KEY_ID": "alias/bench",
        "GITHUB_APP_ID": "1",
        "GITHUB_APP_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nunused by this request\n-----END PRIVATE KEY-----\n",
        "GITHUB_WEBHOOK_SECRET": secrets.token_hex(20),
    }


def unpack(zip_path: Path, target: Path, *, keep_bytecode: bool = True) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)
    if not keep_bytecode:
        for cache in list(target.rglob("__pycache__")):
            shutil.rmtree(cache)
    return target


def serve_healthz(
    directory: Path, environment: dict[str, str], *, host: str | None = None, python: str = sys.executable
) -> dict:
    """Start a fresh process as Lambda would and serve GET /healthz from the unpacked package in `directory`.

    The request is for `host` (by default the stage's own). Returns the answer's status and body, and the
    wall-clock time it was ready at.
    """
    host = host or environment["DJANGO_ALLOWED_HOSTS"].split(",")[0]
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", SCRIPT, str(directory), host],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **environment},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the packaged app did not start: {result.stdout[-2000:]}{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _cold_starts(directory: Path, environment: dict[str, str]) -> list[float]:
    timings = []
    for _ in range(RUNS):
        spawned_at = time.time()
        outcome = serve_healthz(directory, environment)
        if outcome["status"] != 200:
            raise RuntimeError(f"the packaged app did not serve /healthz: {outcome}")
        # Until the answer is ready, not until the process exits: a Lambda answers, then lives on.
        timings.append((outcome["answered_at"] - spawned_at) * 1000)
    return timings


def run() -> list[Figure]:
    zip_path = package.build("dev", local=True)
    size_mb = zip_path.stat().st_size / 1e6
    port = dynamodb_local.free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = dynamodb_local.start(port=port)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "createtables"],
            cwd=package.ROOT,
            env={"DYNAMODB_ENDPOINT_URL": endpoint, "DYNAMODB_TABLE_PREFIX": TABLE_PREFIX, "PATH": ""},
            check=True,
            capture_output=True,
        )
        environment = lambda_environment("dev", endpoint=endpoint, table_prefix=TABLE_PREFIX)
        with tempfile.TemporaryDirectory() as scratch:
            with_bytecode = unpack(zip_path, Path(scratch, "with"))
            without_bytecode = unpack(zip_path, Path(scratch, "without"), keep_bytecode=False)
            fast = statistics.median(_cold_starts(with_bytecode, environment))
            slow = statistics.median(_cold_starts(without_bytecode, environment))
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
            notes=f"Fresh `python -I -S -B` process importing Zappa's handler from the unzipped release zip "
            f"(dev's configuration in the environment, as Lambda gives it) and serving GET /healthz against "
            f"DynamoDB Local, timed from spawn to the answer (a Lambda answers, then lives on, "
            f"so interpreter teardown is not counted). Without precompiled bytecode: {slow:.0f} ms "
            f"({slow / fast:.1f}x). The SSM read of secrets (one call on AWS) is not included. This is the local "
            f"build (`package.build(local=True)`: this machine's Python, 3.11, and its bytecode); the pipeline ships "
            f"the runtime build ({package.lambda_runtime()}: its wheels for Lambda's platform, its bytecode compiled "
            f"by a Python of that version in the build job). A runtime build made where no such Python is ships no "
            f"bytecode: the figure without bytecode is what that costs.",
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
