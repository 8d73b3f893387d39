"""Zappa's `settings` callback (zappa_settings.json): `zappa deploy`, `update`, `rollback` and `undeploy` typed by
hand are refused with the command that does the job; run by devstack/release.py, Zappa is given what only the
release script knows.

By hand, `zappa update prod` would package this machine's virtual environment (the wrong wheels for the runtime),
ship a zip without the static manifest (every page a 500), upload no static files, run no check and move no
alias, and leave ~50 MB in the artifacts bucket. The release script runs Zappa itself with
DASHBOARD_RELEASE_DEPLOY set, after building for the runtime and before checking and promoting the new versions.
Zappa loads this file by its path, so it imports nothing of the project.
"""

import os

GUARDED = {"deploy", "update", "rollback", "undeploy"}
DEPLOY = "python -m devstack.release deploy --stage {stage} --sha COMMIT   (after make release; docs/OPERATIONS.md)"
INSTEAD = {
    "deploy": DEPLOY,
    "update": DEPLOY,
    "rollback": "python -m devstack.release rollback --stage {stage}   (moves the `live` alias back; no build needed)",
    "undeploy": "terraform, which owns what the functions need (docs/OPERATIONS.md)",
}


def settings_loaded(cli) -> None:
    """Stop a guarded command not run by devstack/release.py, naming the one to run instead; for one that is,
    set the account's artifacts bucket and this deploy's mark."""
    command = getattr(cli, "command", None)
    if command not in GUARDED:
        return
    if os.environ.get("DASHBOARD_RELEASE_DEPLOY") != "1":
        stage = (getattr(cli, "api_stage", None) or "STAGE").split("_")[0]
        raise SystemExit(
            f"`zappa {command}` by hand is not how this project deploys: it would ship a zip built for this machine "
            f"without the static manifest, skip the checks, and leave the stage's functions on different releases.\n"
            f"Run instead: {INSTEAD[command].format(stage=stage)}"
        )
    # The bucket's name carries the account's id (infra/artifacts.tf), which zappa_settings.json cannot know.
    cli.s3_bucket_name = os.environ["DASHBOARD_ARTIFACTS_BUCKET"]
    # A value that differs on every deploy, so that each one publishes a new version even of the same release:
    # new containers (and a new SnapStart snapshot) that read SSM again, which is how a rotated secret is taken up.
    mark = os.environ["DASHBOARD_DEPLOY"]
    cli.aws_environment_variables = {**cli.aws_environment_variables, "DASHBOARD_DEPLOY": mark}
