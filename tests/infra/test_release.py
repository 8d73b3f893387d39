"""Releases on S3 (moto): published with their hashes, deployed in order from S3, rolled back by sha."""

import json
import zipfile

import boto3
import pytest
from moto import mock_aws

from devstack import package, release

STAGE = "prod"
TO = release.Buckets.of(STAGE, "123456789012")  # moto's account
NO_CALLS = object()  # a Lambda client that would fail on any use: refused releases never reach Lambda


def _built(directory, sha: str) -> dict:
    """A release directory as `release.build` leaves it, with small stand-in zips."""
    directory.mkdir(parents=True)
    for function in package.FUNCTIONS:
        with zipfile.ZipFile(directory / release.zip_name(function, sha), "w") as archive:
            archive.writestr("handler.py", f"# {function} of {sha}\n")
    with zipfile.ZipFile(directory / "static.zip", "w") as archive:
        archive.writestr("static/dashboard/app.0123456789ab.css", "body{}")
        archive.writestr("static/dashboard/app.css", f"body{{}} /* {sha} */")
        archive.writestr(
            "static/staticfiles.json", json.dumps({"paths": {"dashboard/app.css": "dashboard/app.0123456789ab.css"}})
        )
        archive.writestr("errors/unavailable.html", "<!doctype html>")
    manifest = release.manifest(sha, directory, static_files=4)
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return manifest


@pytest.fixture
def s3(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("s3", region_name=release.REGION)
        for bucket in (TO.artifacts, TO.static):
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": release.REGION})
        yield client


def test_each_function_is_updated_from_its_zip_in_s3_or_created_the_first_time(tmp_path):
    manifest = _built(tmp_path / "a", "a" * 40)
    bucket = TO.artifacts

    commands = [
        release.zappa_command(STAGE, function, manifest, bucket=bucket, first=function == "app")
        for function in release.ORDER
    ]

    assert commands == [
        ["update", "prod_ws", "--zip", f"s3://{bucket}/releases/{'a' * 40}/lambda-ws-{'a' * 40}.zip"],
        ["update", "prod_stream", "--zip", f"s3://{bucket}/releases/{'a' * 40}/lambda-stream-{'a' * 40}.zip"],
        ["update", "prod_reconcile", "--zip", f"s3://{bucket}/releases/{'a' * 40}/lambda-reconcile-{'a' * 40}.zip"],
        ["deploy", "prod", "--zip", f"s3://{bucket}/releases/{'a' * 40}/lambda-app-{'a' * 40}.zip"],
    ]


def test_the_buckets_are_those_of_the_account_the_credentials_belong_to(s3):
    assert release.buckets(STAGE) == release.Buckets(
        "actions-dashboard-prod-lambda-artifacts-123456789012", "actions-dashboard-prod-static-123456789012"
    )


def test_it_puts_static_files_with_their_cache_rules(s3, tmp_path):
    _built(tmp_path / "a", "a" * 40)
    release.publish(TO, directory=tmp_path / "a", s3=s3)

    release.static_upload(TO, release.fetch_manifest(TO, "a" * 40, s3=s3), s3=s3)

    bucket = TO.static
    asset = s3.head_object(Bucket=bucket, Key="static/dashboard/app.0123456789ab.css")
    page = s3.head_object(Bucket=bucket, Key="errors/unavailable.html")
    plain = s3.head_object(Bucket=bucket, Key="static/dashboard/app.css")
    assert asset["CacheControl"] == "public, max-age=31536000, immutable"
    assert asset["ContentType"] == "text/css"
    assert page["CacheControl"] == "max-age=0, must-revalidate"
    # The unhashed copy collectstatic also writes changes with each release: revalidated, and replaced.
    assert plain["CacheControl"] == "max-age=0, must-revalidate"
    _built(tmp_path / "b", "b" * 40)
    release.publish(TO, directory=tmp_path / "b", s3=s3)
    release.static_upload(TO, release.fetch_manifest(TO, "b" * 40, s3=s3), s3=s3)
    updated = s3.get_object(Bucket=bucket, Key="static/dashboard/app.css")["Body"].read()
    assert b"b" * 40 in updated


def test_it_refuses_a_release_that_was_never_published(s3):
    with pytest.raises(release.ReleaseError, match="no release cafe"):
        release.deploy(STAGE, "cafe", to=TO, s3=s3, lambda_client=NO_CALLS, run=pytest.fail)


def test_it_refuses_a_zip_that_is_not_the_one_its_manifest_names(s3, tmp_path):
    _built(tmp_path / "a", "a" * 40)
    release.publish(TO, directory=tmp_path / "a", s3=s3)
    key = release.release_key("a" * 40, release.zip_name("app", "a" * 40))
    s3.put_object(Bucket=TO.artifacts, Key=key, Body=b"something else")

    with pytest.raises(release.ReleaseError, match="is missing|is not the file"):
        release.deploy(STAGE, "a" * 40, to=TO, s3=s3, lambda_client=NO_CALLS, run=pytest.fail)


def test_it_refuses_to_publish_a_zip_changed_since_it_was_built(s3, tmp_path):
    _built(tmp_path / "a", "a" * 40)
    (tmp_path / "a" / release.zip_name("ws", "a" * 40)).write_bytes(b"tampered")

    with pytest.raises(release.ReleaseError, match="is not the file the manifest describes"):
        release.publish(TO, directory=tmp_path / "a", s3=s3)


def test_the_manifest_records_what_runs_on_lambda(tmp_path):
    manifest = _built(tmp_path / "a", "a" * 40)

    assert set(manifest["functions"]) == {"app", "reconcile", "ws", "stream"}
    assert manifest["versions"]["Django"] == "5.2.19"
    assert manifest["versions"]["zappa"] == "0.63.0"
    assert len(manifest["functions"]["app"]["sha256"]) == 64


def test_it_refuses_a_release_whose_extensions_need_a_newer_glibc_than_the_runtime(s3, tmp_path):
    manifest = _built(tmp_path / "a", "a" * 40)
    manifest["functions"]["ws"]["glibc"] = "2.34"

    release.runnable(manifest, "python3.12")  # Amazon Linux 2023 has 2.34
    with pytest.raises(release.ReleaseError, match="needs glibc 2.34, and python3.11 has 2.26"):
        release.runnable(manifest, "python3.11")


def test_every_function_is_deployed_checked_and_rolled_back():
    assert sorted(release.ORDER) == sorted(package.FUNCTIONS)
    assert all(release.checks(function, "dev.actions-dashboard.example.com") for function in package.FUNCTIONS)


def test_the_stream_function_is_deployed_after_the_sockets_it_posts_to_and_before_the_app_that_writes_events():
    assert release.ORDER.index("ws") < release.ORDER.index("stream") < release.ORDER.index("app")


def test_the_stream_functions_deploy_check_passes_on_its_handler():
    """The check a new version of the stream function must pass, on its handler: an empty batch, no failures."""
    from pipeline.lambda_stream import handler

    ((what, event, passes),) = release.checks("stream", "dev.actions-dashboard.example.com")

    assert passes(handler(event, None)), what
    assert not passes({"batchItemFailures": [{"itemIdentifier": "1"}]})
