"""The cold-start benchmark's yardstick (bench/cold_start.py): a bare Django project packaged as the app is.

The ratio is only worth something if the bare project really is Django started the app's way: the same
third-party content as the app's zip, none of the app's code, and a real process answering a real request.
Nothing here is timed.
"""

import zipfile

import pytest

from bench import cold_start
from devstack import package

APP_CODE = (
    "accounts/",
    "dashboard/",
    "runs/",
    "webhooks/",
    "realtime/",
    "pipeline/",
    "manage.py",
    "__pycache__/manage.",
)
# Whatever else of the project's the app's zip carries (the static manifest, the project's dot-files).
PROJECT_FILES = (*APP_CODE, "build/", ".chromium", ".java", ".gitignore")


@pytest.fixture(scope="module")
def app_zip(tmp_path_factory):
    return package.build("dev", output=tmp_path_factory.mktemp("app") / "lambda-app-bench.zip", local=True)


@pytest.fixture(scope="module")
def bare_zip(app_zip, tmp_path_factory):
    return cold_start.bare_zip(app_zip, tmp_path_factory.mktemp("bare") / "bare.zip")


def _entries(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_bare_zip_carries_none_of_the_apps_code(bare_zip):
    names = list(_entries(bare_zip))

    assert [name for name in names if name.startswith(APP_CODE)] == []
    assert "handler.py" in names
    assert "bare_django/settings.py" in names


def test_the_bare_zip_carries_the_apps_third_party_content_unchanged(app_zip, bare_zip):
    app, bare = _entries(app_zip), _entries(bare_zip)
    third_party = {name for name in app if not name.startswith(PROJECT_FILES)}

    assert {"django/__init__.py", "zappa/handler.py", "boto3/__init__.py"} <= third_party
    assert {name for name in bare if not name.startswith("bare_django/")} == third_party
    assert [name for name in third_party - {"zappa_settings.py"} if app[name] != bare[name]] == []
    assert "DJANGO_SETTINGS='bare_django.settings'" in bare["zappa_settings.py"].decode()


def test_the_bare_project_ships_bytecode_python_trusts_as_the_apps_is(bare_zip):
    header = _entries(bare_zip)["bare_django/__pycache__/settings.cpython-311.pyc"][:16]

    assert int.from_bytes(header[4:8], "little") == 0b01


@pytest.mark.parametrize("keep_bytecode", [True, False], ids=["with-bytecode", "without-bytecode"])
def test_the_bare_project_starts_as_lambda_starts_it_and_answers(bare_zip, tmp_path, keep_bytecode):
    """A real start: a fresh process importing Zappa's handler from the unpacked zip, serving GET /healthz."""
    directory = cold_start.unpack(bare_zip, tmp_path / "bare", keep_bytecode=keep_bytecode)
    environment = cold_start.lambda_environment("dev", endpoint="http://127.0.0.1:9", table_prefix="unused-")

    answer = cold_start.serve_healthz(directory, environment)

    assert answer["status"] == 200, answer
    assert answer["body"] == "ok"
    assert list(directory.rglob("__pycache__/*.pyc")) if keep_bytecode else not list(directory.rglob("*.pyc"))
