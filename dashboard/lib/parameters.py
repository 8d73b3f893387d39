"""Secrets for deployed stages, read from SSM Parameter Store at start-up.

Zappa writes `environment_variables` in clear into the zip, so secrets never go there. Each SecureString under
the stage's path (e.g. `/actions-dashboard/prod/DJANGO_SECRET_KEY`) becomes the environment variable of the
same name, unless the environment already sets it.
"""

import os

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ImproperlyConfigured


def export_parameters(path: str, *, region: str) -> list[str]:
    """Copy every parameter under `path` into os.environ; return the names set."""
    if not path.startswith("/") or not path.endswith("/"):
        raise ImproperlyConfigured(f"DASHBOARD_SSM_PATH must start and end with '/', not {path!r}.")
    client = botocore.session.get_session().create_client("ssm", region_name=region)
    exported = []
    try:
        for page in client.get_paginator("get_parameters_by_path").paginate(Path=path, WithDecryption=True):
            for parameter in page["Parameters"]:
                name = parameter["Name"][len(path) :]
                if name and name not in os.environ:
                    os.environ[name] = parameter["Value"]
                    exported.append(name)
    except (BotoCoreError, ClientError) as error:
        raise ImproperlyConfigured(
            f"DASHBOARD_SSM_PATH: could not read parameters under {path}: {type(error).__name__}"
        ) from error
    return exported
