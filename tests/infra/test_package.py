"""The release zip builds offline, stays under its size budget, and carries what Lambda needs and nothing else."""

import ast
import json
import zipfile

import pytest

from devstack import package

EXCLUDED = ("tests/", "infra/", "ghsim/", "devstack/", "bench/", ".github/", "docs/", "requirements/", "node_modules/")


@pytest.fixture(scope="module")
def release_zip(tmp_path_factory):
    """The app function's release zip, built as the pipeline builds it (stage-neutral)."""
    return package.build("dev", output=tmp_path_factory.mktemp("release") / "lambda-app-test.zip", neutral=True)


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


def test_a_release_zip_serves_every_stage(release_zip):
    """What differs between dev and prod comes from the function's configuration, not from the zip."""
    with zipfile.ZipFile(release_zip) as archive:
        assert _settings(archive)["ENVIRONMENT_VARIABLES"] == {"AWS_REGION": "eu-west-2"}


def test_a_zip_built_to_look_at_runs_as_its_stage():
    source = b"DEBUG=False\nENVIRONMENT_VARIABLES={'AWS_REGION': 'eu-west-2'}\nAPI_STAGE='dev'\n"

    changed = package._with_environment(source, package.stage_environment("prod_ws")).decode()

    assert (
        "ENVIRONMENT_VARIABLES={'AWS_REGION': 'eu-west-2', 'DASHBOARD_STAGE': 'prod', "
        "'DJANGO_ALLOWED_HOSTS': 'actions-dashboard.example.com', 'DASHBOARD_SSM_PATH': '/actions-dashboard/prod/'}"
    ) in changed
