import re

import pytest

from tests.conftest import PRODUCTION_ENV, ROOT


def test_it_passes_the_deploy_checks_with_production_settings(run_manage):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_it_runs_locally_with_no_configuration(run_manage):
    result = run_manage("check", env={})

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DYNAMODB_READ_TIMEOUT", "soon", "DYNAMODB_READ_TIMEOUT must be a number, not 'soon'"),
        ("DYNAMODB_MAX_RETRIES", "2.5", "DYNAMODB_MAX_RETRIES must be a whole number, not '2.5'"),
        ("DYNAMODB_MAX_RETRIES", "50", "DYNAMODB_MAX_RETRIES must be at most 5"),
        ("DASHBOARD_STAGE", "staging", "DASHBOARD_STAGE must be one of local, test, dev, prod, not 'staging'"),
        ("DJANGO_DEBUG", "perhaps", "DJANGO_DEBUG must be a boolean"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR"),
        ("GITHUB_APP_ID", "my-app", "GITHUB_APP_ID must be a whole number, not 'my-app'"),
        ("GITHUB_APP_PRIVATE_KEY", "ghp_notakey", "GITHUB_APP_PRIVATE_KEY must be the App's private key in PEM form"),
        ("SESSION_LIFETIME_SECONDS", "60", "SESSION_LIFETIME_SECONDS must be at least 300"),
    ],
)
def test_it_refuses_to_start_on_a_malformed_value(run_manage, name, value, message):
    result = run_manage("check", env={name: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "GITHUB_CLIENT_ID",
        "GITHUB_CLIENT_SECRET",
        "GITHUB_APP_ID",
        "GITHUB_APP_PRIVATE_KEY",
        "GITHUB_WEBHOOK_SECRET",
        "TOKEN_KMS_KEY_ID",
    ],
)
def test_it_refuses_to_start_in_production_without_a_required_value(run_manage, missing):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert missing in result.stderr


def test_it_refuses_a_short_secret_key_in_production(run_manage):
    result = run_manage("check", env={**PRODUCTION_ENV, "DJANGO_SECRET_KEY": "short"})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be at least 50 characters" in result.stderr


def test_it_documents_every_setting_in_the_readme():
    settings_source = (ROOT / "dashboard" / "settings.py").read_text()
    names = set(re.findall(r'env(?:str|bool|int|float|choice|list)\(\s*"([A-Z0-9_]+)"', settings_source))
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))

    assert names, "no settings found: the pattern no longer matches settings.py"
    assert names - documented == set(), "settings missing from the README's table"
    assert documented - names == set(), "the README documents settings that no longer exist"
