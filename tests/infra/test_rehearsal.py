"""The deploy rehearsal (devstack/rehearsal.py): the documented deploy path against a local AWS API, whole, and
three broken copies it must refuse."""

import json
import os
import shutil

import pytest

from devstack import package, rehearsal
from devstack.rehearsal import SHAS, Rehearsal, deploy_policy_actions, stand_in

IGNORED = shutil.ignore_patterns(".venv*", "node_modules", ".data", "build", ".git", "__pycache__", ".*cache")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Two releases of the current tree, built once for this module (the stand-in runs them on this Python)."""
    directory = tmp_path_factory.mktemp("rehearsal") / "release"
    rehearsal.build_releases(directory, SHAS)
    return directory


def project_copy(tmp_path, change):
    """This project, copied, with zappa_settings.json changed by `change`: a broken copy to deploy from."""
    copy = tmp_path / "project"
    shutil.copytree(package.ROOT, copy, ignore=IGNORED)
    os.symlink(package.LAMBDA_VENV, copy / ".venv-lambda")
    settings = json.loads((copy / "zappa_settings.json").read_text())
    change(settings)
    (copy / "zappa_settings.json").write_text(json.dumps(settings, indent=4))
    return copy


@pytest.fixture
def deployed_dev(built):
    """A stand-in where Terraform's part is done and dev runs the first release, behind its `live` aliases."""
    with stand_in() as endpoint:
        prepared = Rehearsal(endpoint)
        prepared.terraform()
        prepared.enforce_iam()
        rehearsal.use_release(built, SHAS[0])
        assert prepared.release("publish", "--stage", "dev", "--directory", str(built)).returncode == 0
        assert prepared.release("deploy", "--stage", "dev", "--sha", SHAS[0]).returncode == 0
        yield prepared


def _live(prepared) -> dict[str, str]:
    return {function: state["aliases"]["live"] for function, state in prepared.holds("dev").items()}


def _publish_second(prepared, built):
    rehearsal.use_release(built, SHAS[1])
    assert prepared.release("publish", "--stage", "dev", "--directory", str(built)).returncode == 0


def test_the_whole_deploy_path_holds_for_every_stage_with_exactly_the_deploy_policy(built):
    found = rehearsal.run(built)

    assert found["actions"] == {"missing": [], "unused": []}
    for stage in rehearsal.STAGES:
        first, second = (found[stage][sha] for sha in SHAS)
        assert all(int(second[function]) > int(first[function]) for function in package.FUNCTIONS)


def test_a_deploy_role_missing_an_action_the_calls_need_is_refused_and_moves_nothing(deployed_dev, built):
    before = _live(deployed_dev)
    _publish_second(deployed_dev, built)
    narrower = deployed_dev.deploy_user("narrower", deploy_policy_actions() - {"lambda:GetAlias"})

    result = deployed_dev.release("deploy", "--stage", "dev", "--sha", SHAS[1], env=narrower)

    assert result.returncode != 0
    assert "lambda:GetAlias" in result.stdout + result.stderr
    assert _live(deployed_dev) == before


def test_deploying_the_same_release_again_makes_new_versions_which_start_afresh(deployed_dev):
    before = deployed_dev.holds("dev")

    assert deployed_dev.release("deploy", "--stage", "dev", "--sha", SHAS[0]).returncode == 0

    after = deployed_dev.holds("dev")
    for function in package.FUNCTIONS:  # new containers, and for the app a new snapshot: SSM is read again
        assert int(after[function]["aliases"]["live"]) > int(before[function]["aliases"]["live"])
        marks = [
            state[function]["configuration"]["Environment"]["Variables"]["DASHBOARD_DEPLOY"]
            for state in (before, after)
        ]
        assert marks[0] != marks[1]
        assert marks[1].startswith(SHAS[0])


def test_a_wrong_handler_path_fails_its_check_and_no_function_moves(deployed_dev, built, tmp_path):
    def wrong_handler(settings):
        settings["dev_ws"]["lambda_handler"] = "realtime.lambda_ws.no_such_handler"

    before = _live(deployed_dev)
    _publish_second(deployed_dev, built)
    deployed_dev.project = project_copy(tmp_path, wrong_handler)

    result = deployed_dev.release("deploy", "--stage", "dev", "--sha", SHAS[1])

    assert result.returncode == 1
    assert "WebSocket $connect failed" in result.stderr
    assert _live(deployed_dev) == before  # not mixed: every function still serves the first release


def test_a_package_built_for_a_newer_glibc_than_the_runtime_is_refused_before_anything_changes(
    deployed_dev, built, tmp_path
):
    """This machine's wheels (cryptography's manylinux_2_34) against a copy whose runtime is python3.11."""

    def older_runtime(settings):
        settings["dev"]["runtime"] = "python3.11"

    before = {function: state["versions"] for function, state in deployed_dev.holds("dev").items()}
    _publish_second(deployed_dev, built)
    deployed_dev.project = project_copy(tmp_path, older_runtime)

    result = deployed_dev.release("deploy", "--stage", "dev", "--sha", SHAS[1])

    assert result.returncode == 1
    assert "needs glibc 2.34, and python3.11 has 2.26" in result.stderr
    assert {function: state["versions"] for function, state in deployed_dev.holds("dev").items()} == before


def test_zappa_update_typed_by_hand_is_refused_with_the_command_to_run(tmp_path):
    result = release_zappa(["update", "prod"], env={"DASHBOARD_RELEASE_DEPLOY": ""})

    assert result.returncode != 0
    assert "python -m devstack.release deploy --stage prod --sha COMMIT" in result.stdout + result.stderr


def release_zappa(arguments, *, env):
    """Zappa from the packaging environment, in the project, as an operator would type it."""
    import subprocess

    venv = package.LAMBDA_VENV
    return subprocess.run(
        [str(venv / "bin" / "zappa"), *arguments],
        cwd=package.ROOT,
        env={
            "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
            "VIRTUAL_ENV": str(venv),
            "HOME": os.environ.get("HOME", "/root"),
            **rehearsal.OFFLINE,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
