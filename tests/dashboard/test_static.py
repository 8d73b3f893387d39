"""Static files: hashed names from collectstatic's manifest when deployed, pages never cached, no other origin."""

import json
import re

from django.core.management import call_command
from django.test import Client, override_settings

MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}


def test_deployed_pages_name_static_files_by_their_content_hash(tmp_path, dynamodb):
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=MANIFEST_STORAGE, DEBUG=False):
        call_command("collectstatic", interactive=False, verbosity=0)
        manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
        assert re.fullmatch(r"dashboard/app\.[0-9a-f]{12}\.js", manifest["dashboard/app.js"])
        assert (tmp_path / manifest["dashboard/app.css"]).read_bytes() == (tmp_path / "dashboard/app.css").read_bytes()

        page = Client().get("/").content.decode()

    assert f'href="/static/{manifest["dashboard/app.css"]}"' in page
    assert f'href="/static/{manifest["dashboard/favicon.svg"]}"' in page


def test_pages_are_never_cached_and_load_nothing_from_another_origin(alice):
    response = alice.get("/")
    assert "no-store" in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]
    page = response.content.decode()
    loaded = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert loaded
    assert all(url.startswith("/static/") for url in loaded), loaded
