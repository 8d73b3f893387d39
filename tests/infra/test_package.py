"""The release zip builds offline, stays under its size budget, and carries what Lambda needs and nothing else."""

import ast
import gzip
import json
import os
import subprocess
import sys
import zipfile

import pytest

from devstack import glibc, package

EXCLUDED = ("tests/", "infra/", "ghsim/", "devstack/", "bench/", ".github/", "docs/", "requirements/", "node_modules/")


@pytest.fixture(scope="module")
def release_zip(tmp_path_factory):
    """The app function's zip, stage-neutral, built for this machine's Python so the tests can run it here."""
    return package.build("dev", output=tmp_path_factory.mktemp("release") / "lambda-app-test.zip", local=True)


@pytest.fixture(scope="module")
def runtime_zip(tmp_path_factory):
    """The app function's zip as the pipeline ships it: built for the Lambda runtime's Python and platform."""
    return package.build("dev", output=tmp_path_factory.mktemp("runtime") / "lambda-app-runtime.zip")


def _settings(archive: zipfile.ZipFile) -> dict:
    source = archive.read("zappa_settings.py").decode()
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
    }


def test_it_stays_under_its_size_budget(release_zip):
    assert release_zip.stat().st_size <= package.SIZE_BUDGET


def test_it_leaves_out_what_lambda_never_runs(release_zip):
    with zipfile.ZipFile(release_zip) as archive:
        names = archive.namelist()

    assert [name for name in names if name.startswith(EXCLUDED)] == []
    assert "handler.py" in names
    assert "dashboard/settings.py" in names


def test_it_ships_bytecode_python_trusts_without_timestamps(release_zip):
    with zipfile.ZipFile(release_zip) as archive:
        header = archive.read("dashboard/__pycache__/settings.cpython-311.pyc")[:16]

    # PEP 552 flags: bit 0 set = hash-based, bit 1 clear = not checked against the source.
    assert int.from_bytes(header[4:8], "little") == 0b01


def test_it_carries_the_static_manifest_django_names_files_by(release_zip):
    with zipfile.ZipFile(release_zip) as archive:
        manifest = json.loads(archive.read(str(package.STATIC_MANIFEST)))

    assert "dashboard/app.css" in manifest["paths"]
    assert manifest["paths"]["dashboard/app.css"] != "dashboard/app.css"  # a hashed name


# Each AWS client the functions make, in the region they run in, and the endpoint botocore resolves for it.
CLIENTS = """
import json, sys
sys.path.insert(0, sys.argv[1])
import botocore.session
session = botocore.session.get_session()
session.set_credentials("x", "y")
print(json.dumps({name: session.create_client(name, "eu-west-2").meta.endpoint_url for name in sys.argv[2:]}))
"""


def test_botocores_data_carries_no_documentation_nor_other_services_and_every_client_still_resolves(
    release_zip, tmp_path
):
    """Each start parses these files: the zip's are slimmed (devstack/package.py `_slimmed`), and botocore loaded
    from the zip makes each client the functions make, at the same endpoint as from the full data."""
    with zipfile.ZipFile(release_zip) as archive:
        archive.extractall(tmp_path, [name for name in archive.namelist() if name.startswith("botocore/")])
    endpoints = json.loads((tmp_path / "botocore/data/endpoints.json").read_bytes())
    model = (tmp_path / "botocore/data/dynamodb/2012-08-10/service-2.json.gz").read_bytes()
    services = sorted(package.BOTOCORE_SERVICES)

    assert all(set(partition["services"]) <= package.BOTOCORE_SERVICES for partition in endpoints["partitions"])
    assert b"documentation" not in gzip.decompress(model)
    slim = subprocess.run([sys.executable, "-I", "-c", CLIENTS, str(tmp_path), *services], capture_output=True)
    full = subprocess.run([sys.executable, "-c", CLIENTS, "", *services], capture_output=True, check=True)
    assert slim.returncode == 0, slim.stderr.decode()[-2000:]
    assert json.loads(slim.stdout) == json.loads(full.stdout)


def test_a_release_zip_serves_every_stage(release_zip):
    """What differs between dev and prod comes from the function's configuration, not from the zip."""
    with zipfile.ZipFile(release_zip) as archive:
        assert _settings(archive)["ENVIRONMENT_VARIABLES"] == {"AWS_REGION": "eu-west-2"}


@pytest.mark.parametrize(
    ("stage", "host"), [("dev", "dev.actions-dashboard.example.com"), ("prod", "actions-dashboard.example.com")]
)
def test_the_release_zip_runs_as_the_stage_its_configuration_names(release_zip, dynamodb_server, tmp_path, stage, host):
    """Unpacked and started as Lambda starts it, with only the stage's configuration in the environment."""
    from bench.cold_start import lambda_environment, serve_healthz, unpack

    environment = lambda_environment(stage, endpoint=dynamodb_server, table_prefix=os.environ["DYNAMODB_TABLE_PREFIX"])
    assert environment["DJANGO_ALLOWED_HOSTS"] == host

    answer = serve_healthz(unpack(release_zip, tmp_path / stage), environment)

    assert answer["status"] == 200, answer
    assert json.loads(answer["body"]) == {"status": "ok", "dynamodb": "ok"}


def test_the_release_zip_configured_as_prod_refuses_devs_host(release_zip, dynamodb_server, tmp_path):
    """The stage really comes from the environment: prod's container does not answer for dev's domain."""
    from bench.cold_start import lambda_environment, serve_healthz, unpack

    environment = lambda_environment("prod", endpoint=dynamodb_server, table_prefix=os.environ["DYNAMODB_TABLE_PREFIX"])

    answer = serve_healthz(
        unpack(release_zip, tmp_path / "prod"), environment, host="dev.actions-dashboard.example.com"
    )

    assert answer["status"] == 400


def test_the_runtime_zip_needs_no_newer_glibc_than_its_runtime_has(runtime_zip):
    runtime = package.lambda_runtime()
    version = runtime.removeprefix("python").replace(".", "")

    assert glibc.too_new(runtime_zip, runtime) == {}
    with zipfile.ZipFile(runtime_zip) as archive:
        extensions = [name for name in archive.namelist() if name.endswith(".so") and ".cpython-" in name]
    assert extensions, "no compiled extension: the test proves nothing"
    assert all(f".cpython-{version}-x86_64-linux-gnu.so" in name for name in extensions), extensions
    # Zappa searches the project for modules importing zappa.websocket; none of its own copies may be named.
    with zipfile.ZipFile(runtime_zip) as archive:
        assert "WEBSOCKET_HANDLER_MODULE" not in _settings(archive)


def test_the_glibc_check_fails_on_an_extension_built_for_a_newer_glibc_than_the_runtime(tmp_path):
    """This machine's own cryptography wheel (manylinux_2_34) in a zip meant for python3.11 (Amazon Linux 2)."""
    extension = next(package.venv_site_packages().glob("cryptography/hazmat/bindings/_rust.abi3.so"))
    planted = tmp_path / "planted.zip"
    with zipfile.ZipFile(planted, "w") as archive:
        archive.write(extension, "cryptography/hazmat/bindings/_rust.abi3.so")

    assert glibc.too_new(planted, "python3.11") == {"cryptography/hazmat/bindings/_rust.abi3.so": (2, 34)}
    assert glibc.too_new(planted, "python3.12") == {}


def test_the_runtime_zip_runs_under_the_runtimes_python(runtime_zip, dynamodb_server, tmp_path):
    """Where a Python of the runtime's version is on this machine (GitHub's runners have one)."""
    from bench.cold_start import lambda_environment, serve_healthz, unpack

    python = package.runtime_python(package.lambda_runtime())
    if python is None:
        pytest.skip(f"no {package.lambda_runtime()} interpreter here: the pipeline's build job runs this check")
    environment = lambda_environment("dev", endpoint=dynamodb_server, table_prefix=os.environ["DYNAMODB_TABLE_PREFIX"])

    answer = serve_healthz(unpack(runtime_zip, tmp_path / "runtime"), environment, python=python)

    assert answer["status"] == 200, answer
