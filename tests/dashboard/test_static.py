"""Static files: hashed names from collectstatic's manifest when deployed, pages never cached, no other origin, and
nothing inline that the Content-Security-Policy refuses."""

import json
import re

from django.core.management import call_command
from django.test import Client, override_settings

from tests.conftest import ROOT

# What a policy without 'unsafe-inline' refuses to run or apply: inline scripts (a <script> without src), style
# elements and attributes, event handler attributes, and javascript: URLs.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)
# Everything that writes HTML: the templates, the cards written in Python, and the error page CloudFront serves.
HTML_SOURCES = [
    *ROOT.glob("*/templates/**/*.html"),
    ROOT / "dashboard" / "cards.py",
    ROOT / "dashboard" / "templatetags" / "board.py",
    *(ROOT / "infra" / "errors").glob("*.html"),
]

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


def test_no_page_holds_what_the_content_security_policy_refuses():
    found = {path.relative_to(ROOT).as_posix(): INLINE.findall(path.read_text()) for path in HTML_SOURCES}

    assert "dashboard/templates/dashboard/base.html" in found
    assert {path: inline for path, inline in found.items() if inline} == {}
