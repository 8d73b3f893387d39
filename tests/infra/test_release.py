"""Releases on S3 (moto): published with their hashes, deployed in order from S3, rolled back by sha."""

import json
import zipfile

import boto3
import pytest
from moto import mock_aws

from devstack import release

STAGE = "prod"


def _built(directory, sha: str) -> dict:
    """A release directory as `release.build` leaves it, with small stand-in zips."""
    directory.mkdir(parents=True)
    for function in ("app", "reconcile", "ws"):
        with zipfile.ZipFile(directory / release.zip_name(function, sha), "w") as archive:
            archive.writestr("handler.py", f"# {function} of {sha}\n")
    with zipfile.ZipFile(directory / "static.zip", "w") as archive:
        archive.writestr("static/dashboard/app.0123456789ab.css", "body{}")
        archive.writestr("errors/unavailable.html", "<!doctype html>")
    manifest = release.manifest(sha, directory, static_files=2)
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return manifest


@pytest.fixture
def s3(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("s3", region_name=release.REGION)
        for bucket in (release.artifacts_bucket(STAGE), release.static_bucket(STAGE)):
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": release.REGION})
        yield client


def test_it_deploys_a_published_release_function_by_function_from_s3(s3, tmp_path):
    _built(tmp_path / "a", "a" * 40)
    release.publish(STAGE, directory=tmp_path / "a", s3=s3)
    commands = []

    release.deploy(STAGE, "a" * 40, s3=s3, run=commands.append)

    bucket = release.artifacts_bucket(STAGE)
    assert commands == [
        ["update", "prod_ws", "--zip", f"s3://{bucket}/releases/{'a' * 40}/lambda-ws-{'a' * 40}.zip"],
        ["update", "prod_reconcile", "--zip", f"s3://{bucket}/releases/{'a' * 40}/lambda-reconcile-{'a' * 40}.zip"],
        ["update", "prod", "--zip", f"s3://{bucket}/releases/{'a' * 40}/lambda-app-{'a' * 40}.zip"],
    ]


def test_it_puts_static_files_with_their_cache_rules(s3, tmp_path):
    _built(tmp_path / "a", "a" * 40)
    release.publish(STAGE, directory=tmp_path / "a", s3=s3)

    release.deploy(STAGE, "a" * 40, s3=s3, run=lambda command: None)

    bucket = release.static_bucket(STAGE)
    asset = s3.head_object(Bucket=bucket, Key="static/dashboard/app.0123456789ab.css")
    page = s3.head_object(Bucket=bucket, Key="errors/unavailable.html")
    assert asset["CacheControl"] == "public, max-age=31536000, immutable"
    assert asset["ContentType"] == "text/css"
    assert page["CacheControl"] == "max-age=0, must-revalidate"


def test_a_rollback_deploys_the_earlier_release_again(s3, tmp_path):
    for sha in ("a" * 40, "b" * 40):
        _built(tmp_path / sha, sha)
        release.publish(STAGE, directory=tmp_path / sha, s3=s3)
    commands = []

    release.deploy(STAGE, "a" * 40, s3=s3, run=commands.append)

    assert all(command[3].endswith(f"-{'a' * 40}.zip") for command in commands)


def test_it_refuses_a_release_that_was_never_published(s3):
    with pytest.raises(release.ReleaseError, match="no release cafe"):
        release.deploy(STAGE, "cafe", s3=s3, run=pytest.fail)


def test_it_refuses_a_zip_that_is_not_the_one_its_manifest_names(s3, tmp_path):
    _built(tmp_path / "a", "a" * 40)
    release.publish(STAGE, directory=tmp_path / "a", s3=s3)
    key = release.release_key("a" * 40, release.zip_name("app", "a" * 40))
    s3.put_object(Bucket=release.artifacts_bucket(STAGE), Key=key, Body=b"something else")

    with pytest.raises(release.ReleaseError, match="is missing|is not the file"):
        release.deploy(STAGE, "a" * 40, s3=s3, run=pytest.fail)


def test_it_refuses_to_publish_a_zip_changed_since_it_was_built(s3, tmp_path):
    _built(tmp_path / "a", "a" * 40)
    (tmp_path / "a" / release.zip_name("ws", "a" * 40)).write_bytes(b"tampered")

    with pytest.raises(release.ReleaseError, match="is not the file the manifest describes"):
        release.publish(STAGE, directory=tmp_path / "a", s3=s3)


def test_the_manifest_records_what_runs_on_lambda(tmp_path):
    manifest = _built(tmp_path / "a", "a" * 40)

    assert set(manifest["functions"]) == {"app", "reconcile", "ws"}
    assert manifest["versions"]["Django"] == "5.2.19"
    assert manifest["versions"]["zappa"] == "0.63.0"
    assert len(manifest["functions"]["app"]["sha256"]) == 64


def test_the_first_deploy_creates_the_functions(s3, tmp_path):
    _built(tmp_path / "a", "a" * 40)
    release.publish(STAGE, directory=tmp_path / "a", s3=s3)
    commands = []

    release.deploy(STAGE, "a" * 40, first=True, s3=s3, run=commands.append)

    assert [command[:2] for command in commands] == [
        ["deploy", "prod_ws"],
        ["deploy", "prod_reconcile"],
        ["deploy", "prod"],
    ]
