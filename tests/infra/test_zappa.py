"""zappa_settings.json: one Zappa stage per function (app, reconcile, ws, stream) for each of dev and prod, alike but
for their environment, and every name in it the one Terraform gives the same thing."""

import importlib
import json
import re

import pytest
from zappa.cli import ZappaCLI

from devstack import release, zappa_guard
from devstack.package import FUNCTIONS
from tests.conftest import ROOT
from tests.infra.conftest import INFRA
from tests.infra.terraform import load

SETTINGS = ROOT / "zappa_settings.json"
# What may differ between a stage's dev and prod: where they run and under which role, nothing of the code.
STAGE_SPECIFIC = {"aws_environment_variables", "role_name", "extends"}
SECRETS = {"DJANGO_SECRET_KEY", "GITHUB_CLIENT_SECRET", "GITHUB_APP_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"}


def stage(name: str) -> ZappaCLI:
    cli = ZappaCLI()
    cli.api_stage = name
    cli.load_settings(str(SETTINGS))
    return cli


def test_it_has_every_function_for_each_of_dev_and_prod():
    assert set(json.loads(SETTINGS.read_text())) == {
        f"{s}{suffix}" for s in ("dev", "prod") for suffix in FUNCTIONS.values()
    }


@pytest.mark.parametrize("suffix", FUNCTIONS.values(), ids=FUNCTIONS.keys())
def test_dev_and_prod_differ_only_in_their_environment(suffix):
    dev, prod = stage(f"dev{suffix}").stage_config, stage(f"prod{suffix}").stage_config
    differing = {key for key in dev.keys() | prod.keys() if dev.get(key) != prod.get(key)}

    assert differing <= STAGE_SPECIFIC
    assert dev["aws_environment_variables"].keys() == prod["aws_environment_variables"].keys()


@pytest.mark.parametrize("name", json.loads(SETTINGS.read_text()))
def test_every_stage_is_safe_to_deploy(name):
    config = stage(name).stage_config

    assert config["log_level"] == "INFO"  # DEBUG logs every raw event: cookies, OAuth codes, webhook bodies
    assert config["debug"] is False
    assert config["manage_roles"] is False  # Zappa's own policy grants dynamodb:* and s3:*
    assert config["apigateway_enabled"] is False  # the APIs are Terraform's (infra/apigateway.tf)
    assert config["keep_warm"] is False
    assert config["aws_region"] == "eu-west-2"
    assert {"tests", "infra", "ghsim", "devstack", "bench"} <= set(config["exclude_glob"])
    assert config.get("environment_variables", {}) == {}  # in the zip in clear, and the zip serves every stage
    assert SECRETS.isdisjoint(config["aws_environment_variables"])
    assert config["aws_environment_variables"]["DASHBOARD_SSM_PATH"].endswith(f"/{name.split('_')[0]}/")


def test_each_function_fits_its_trigger():
    app, reconcile, ws, stream = (stage(f"prod{suffix}").stage_config for suffix in FUNCTIONS.values())

    assert app["timeout_seconds"] <= 30  # the HTTP API gives up after 30 s
    assert ws["timeout_seconds"] <= 29  # the WebSocket API after 29 s
    assert reconcile["timeout_seconds"] < 300  # a pass ends before the next one starts
    assert reconcile["lambda_concurrency"] == 1  # and two passes never run at once
    # A stuck batch holds its shard (parallelization 1) for at most a minute per try, 4 tries (infra/stream.tf).
    assert stream["timeout_seconds"] <= 60
    # The schedule and the stream's source mapping are Terraform's (infra/schedule.tf, infra/stream.tf), on the
    # `live` alias: Zappa makes neither.
    assert [config.get("events", []) for config in (app, reconcile, ws, stream)] == [[], [], [], []]
    assert ws["lambda_handler"] == "realtime.lambda_ws.handler"
    assert stream["lambda_handler"] == "pipeline.lambda_stream.handler"


def test_every_stage_runs_on_one_supported_runtime_and_refuses_zappa_by_hand():
    for name in json.loads(SETTINGS.read_text()):
        config = stage(name).stage_config
        assert config["runtime"] == "python3.12", name  # Amazon Linux 2023; python3.11 (Amazon Linux 2) is deprecated
        assert config["callbacks"] == {"settings": "devstack.zappa_guard.settings_loaded"}, name


def test_every_function_path_named_imports():
    named = set()
    for name in json.loads(SETTINGS.read_text()):
        config = stage(name).stage_config
        named.add(config.get("lambda_handler", "handler.lambda_handler"))
    named.discard("handler.lambda_handler")  # Zappa's own, written into the zip by `zappa package`
    schedule = load(INFRA).resources["aws_cloudwatch_event_target"]["reconcile"]["input"]
    named.add(re.search(r'command = "([^"]+)"', schedule).group(1))  # what Zappa's handler runs for the schedule

    assert named == {
        "realtime.lambda_ws.handler",
        "pipeline.lambda_stream.handler",
        "dashboard.reconciliation.scheduled",
    }
    for path in named:
        module, _, function = path.rpartition(".")
        assert callable(getattr(importlib.import_module(module), function)), path


@pytest.mark.parametrize("workspace", ["dev", "prod"])
def test_names_agree_with_terraform(workspace):
    config = load(INFRA)
    functions = {key: config.resolve(value, workspace=workspace) for key, value in config.locals["functions"].items()}
    roles = {key: config.resolve(value, workspace=workspace) for key, value in config.locals["roles"].items()}
    account = "${data.aws_caller_identity.current.account_id}"  # what Terraform fills in from the credentials
    buckets = {
        key: config.resolve(config.resources["aws_s3_bucket"][key]["bucket"], workspace=workspace)
        for key in ("artifacts", "static")
    }
    domain = config.variables["domains"]["default"][workspace]

    for function, suffix in FUNCTIONS.items():
        cli = stage(f"{workspace}{suffix}")
        assert cli.lambda_name == functions[function]
        assert cli.stage_config["role_name"] == roles[function]
        assert (
            config.resolve(config.resources["aws_iam_role"][function]["name"], workspace=workspace) == roles[function]
        )
        assert "s3_bucket" not in cli.stage_config  # the account's, given by the release script (zappa_guard.py)
        assert cli.stage_config["aws_environment_variables"]["DJANGO_ALLOWED_HOSTS"] == domain
    assert buckets == vars(release.Buckets.of(workspace, account))


def test_it_fails_when_a_role_name_differs_from_terraform(tmp_path, monkeypatch):
    settings = json.loads(SETTINGS.read_text())
    settings["prod_ws"]["role_name"] = "actions-dashboard-prod-websocket"
    broken = tmp_path / "zappa_settings.json"
    broken.write_text(json.dumps(settings))
    monkeypatch.setattr(f"{__name__}.SETTINGS", broken)

    with pytest.raises(AssertionError, match="actions-dashboard-prod-websocket"):
        test_names_agree_with_terraform("prod")


def test_snapstart_restores_the_app_from_a_snapshot_of_django_already_started():
    for name in json.loads(SETTINGS.read_text()):
        config = stage(name).stage_config
        app = name in ("dev", "prod")
        # On the app alone: the one a person waits for. The socket and stream functions are light, reconciliation
        # runs on a schedule, and a snapshot is paid for while its version is active (docs/OPERATIONS.md, Cost).
        assert config["snap_start"] == ("PublishedVersions" if app else "None"), name
        # Zappa starts Django while Lambda initialises (otherwise on the first request), so the snapshot holds it.
        assert config["aws_environment_variables"]["INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT"] == "1", name
        # What SnapStart does not support (AWS's SnapStart documentation, "Supported features and limitations").
        assert "provisioned_concurrency" not in config, name
        assert "efs_config" not in config, name
        assert config.get("ephemeral_storage", {"Size": 512})["Size"] <= 512, name


@pytest.fixture
def typed(monkeypatch):
    """A Zappa command as Zappa hands it to the settings callback: after loading the settings."""
    for name in ("DASHBOARD_RELEASE_DEPLOY", "DASHBOARD_ARTIFACTS_BUCKET", "DASHBOARD_DEPLOY"):
        monkeypatch.delenv(name, raising=False)

    def cli(command: str, name: str) -> ZappaCLI:
        loaded = stage(name)
        loaded.command = command
        return loaded

    return cli


def test_zappa_run_by_the_release_script_gets_the_accounts_bucket_and_a_new_mark(typed, monkeypatch):
    monkeypatch.setenv("DASHBOARD_RELEASE_DEPLOY", "1")
    monkeypatch.setenv("DASHBOARD_ARTIFACTS_BUCKET", "actions-dashboard-prod-lambda-artifacts-210987654321")
    monkeypatch.setenv("DASHBOARD_DEPLOY", f"{'a' * 40}@2026-12-07T23:59:00+00:00")
    cli = typed("update", "prod_ws")

    zappa_guard.settings_loaded(cli)

    assert cli.s3_bucket_name == "actions-dashboard-prod-lambda-artifacts-210987654321"
    assert cli.aws_environment_variables == {
        **stage("prod_ws").stage_config["aws_environment_variables"],
        "DASHBOARD_DEPLOY": f"{'a' * 40}@2026-12-07T23:59:00+00:00",
    }


@pytest.mark.parametrize("command", sorted(zappa_guard.GUARDED))
def test_zappa_by_hand_is_refused_and_reads_nothing_of_the_release(typed, command):
    with pytest.raises(SystemExit, match=r"Run instead: (python -m devstack\.release|terraform)"):
        zappa_guard.settings_loaded(typed(command, "prod"))


def test_zappa_commands_that_change_nothing_still_work_by_hand(typed):
    cli = typed("status", "prod")

    zappa_guard.settings_loaded(cli)

    assert "DASHBOARD_DEPLOY" not in cli.aws_environment_variables
