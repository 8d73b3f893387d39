"""checkov over infra/ finds nothing, but what is skipped in the HCL with a written reason."""

import json
import subprocess

import pytest

from tests.infra.conftest import INFRA, edit, tool


def checkov(directory) -> dict:
    result = subprocess.run(
        [str(tool("checkov")), "-d", str(directory), "--framework", "terraform", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.stdout, result.stderr[-2000:]
    report = json.loads(result.stdout)
    return {"failed": [], "skipped": []} | {
        "failed": [
            f"{check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}"
            for part in (report if isinstance(report, list) else [report])
            for check in part["results"]["failed_checks"]
        ],
        "skipped": [
            (check["check_id"], check["resource"], check.get("check_result", {}).get("suppress_comment", ""))
            for part in (report if isinstance(report, list) else [report])
            for check in part["results"]["skipped_checks"]
        ],
    }


@pytest.fixture(scope="module")
def report():
    return checkov(INFRA)


def test_checkov_finds_no_failed_check(report):
    assert report["failed"] == []


def test_every_skipped_check_says_why(report):
    assert report["skipped"], "nothing skipped: has checkov stopped reading the inline skips?"
    unexplained = [(check, resource) for check, resource, reason in report["skipped"] if len(reason.split()) < 6]

    assert unexplained == []


def test_it_fails_when_a_key_stops_rotating(infra_copy):
    edit(infra_copy / "kms.tf", "enable_key_rotation     = true", "enable_key_rotation     = false")

    assert checkov(infra_copy)["failed"] == [
        "CKV_AWS_7 aws_kms_key.tokens (/kms.tf): Ensure rotation for customer created CMKs is enabled"
    ]
