import os

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from moto import mock_aws

from dashboard.lib.parameters import export_parameters


@pytest.fixture
def ssm(monkeypatch):
    monkeypatch.setattr(os, "environ", os.environ.copy())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("ssm", region_name="eu-west-2")


def test_it_exports_each_secure_parameter_under_the_path(ssm):
    ssm.put_parameter(Name="/actions-dashboard/prod/DJANGO_SECRET_KEY", Value="s" * 60, Type="SecureString")
    ssm.put_parameter(Name="/actions-dashboard/prod/GITHUB_WEBHOOK_SECRET", Value="hook", Type="SecureString")
    ssm.put_parameter(Name="/actions-dashboard/dev/DJANGO_SECRET_KEY", Value="other stage", Type="SecureString")

    exported = export_parameters("/actions-dashboard/prod/", region="eu-west-2")

    assert sorted(exported) == ["DJANGO_SECRET_KEY", "GITHUB_WEBHOOK_SECRET"]
    assert os.environ["DJANGO_SECRET_KEY"] == "s" * 60
    assert os.environ["GITHUB_WEBHOOK_SECRET"] == "hook"


def test_it_lets_the_environment_win_over_a_parameter(ssm, monkeypatch):
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "from the environment")
    ssm.put_parameter(Name="/actions-dashboard/prod/GITHUB_WEBHOOK_SECRET", Value="hook", Type="SecureString")

    assert export_parameters("/actions-dashboard/prod/", region="eu-west-2") == []
    assert os.environ["GITHUB_WEBHOOK_SECRET"] == "from the environment"


def test_it_refuses_a_path_without_slashes(ssm):
    with pytest.raises(ImproperlyConfigured, match="must start and end with '/'"):
        export_parameters("actions-dashboard/prod", region="eu-west-2")


def test_it_fails_loudly_when_parameter_store_cannot_be_read(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "environ", os.environ.copy())
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    with pytest.raises(ImproperlyConfigured, match="could not read parameters under /actions-dashboard/prod/"):
        export_parameters("/actions-dashboard/prod/", region="eu-west-2")
