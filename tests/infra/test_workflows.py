"""The delivery pipeline's workflows pass actionlint, offline."""

import re
import shutil
import subprocess

from tests.conftest import ROOT
from tests.infra.conftest import edit, tool

WORKFLOWS = ROOT / ".github" / "workflows"


def actionlint(root) -> subprocess.CompletedProcess:
    files = sorted(str(path) for path in (root / ".github" / "workflows").glob("*.yml"))
    return subprocess.run(
        [str(tool("actionlint")), "-no-color", *files], cwd=root, capture_output=True, text=True, timeout=120
    )


def test_the_workflows_pass_actionlint():
    result = actionlint(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pipeline_has_its_workflows():
    assert {path.name for path in WORKFLOWS.glob("*.yml")} == {
        "test.yml", "deploy.yml", "deploy-stage.yml", "rollback.yml"
    }  # fmt: skip


def test_prod_waits_for_dev_and_runs_in_its_own_environment():
    deploy = (WORKFLOWS / "deploy.yml").read_text()
    stage = (WORKFLOWS / "deploy-stage.yml").read_text()

    assert "  prod:\n    needs: dev\n" in deploy
    assert "    environment:\n      name: ${{ inputs.stage }}\n" in stage


def test_it_fails_on_a_broken_workflow(tmp_path):
    (tmp_path / ".git").mkdir()
    shutil.copytree(WORKFLOWS, tmp_path / ".github" / "workflows")
    edit(tmp_path / ".github" / "workflows" / "deploy.yml", "    needs: dev\n", "    needs: staging\n")

    result = actionlint(tmp_path)

    assert result.returncode == 1
    assert 'job "prod" needs job "staging" which does not exist' in result.stdout


def test_every_action_is_pinned_to_a_commit():
    """A tag can be moved to other code; a commit cannot (GitHub's security hardening guide)."""
    uses = [
        line.split("uses:", 1)[1].split("#")[0].strip()
        for path in WORKFLOWS.glob("*.yml")
        for line in path.read_text().splitlines()
        if "uses:" in line
    ]
    external = [use for use in uses if not use.startswith("./")]

    assert external, "no action found: the test proves nothing"
    assert [use for use in external if not re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", use)] == []
