"""Conditional requests: a GET sent with the ETag of the last answer costs no rate limit when GitHub says 304.

An ETag may be kept only once what its answer brought is stored: kept before, a failure in between would make
every later read a 304 over data that was never stored. `kept_after()` is that rule as a block.
https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate
"""

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dashboard.lib.github.state import ETAG_RETENTION, GitHubState
from dashboard.lib.github.transport import api_url, send


@dataclass(frozen=True)
class Page:
    body: dict[str, Any] | list[Any]
    next_url: str | None
    etag_key: str | None = None
    etag: str | None = None


def get_if_changed(
    path: str,
    *,
    token: str,
    identity: str,
    params: dict[str, Any] | None = None,
    conditional: bool = True,
    keep_etag: bool = True,
) -> Page | None:
    """A GET sent with the ETag of the last answer; None when GitHub says 304.

    With `conditional=False` the GET is sent plainly, and its ETag kept for the next conditional one. With
    `keep_etag=False` the ETag is not kept yet: add the page to a `kept_after()` block's list instead.
    """
    url = api_url(path)
    key = "etag#" + hashlib.sha256(f"{identity}|{url}|{sorted((params or {}).items())}".encode()).hexdigest()
    etag = None
    if conditional:
        with contextlib.suppress(GitHubState.DoesNotExist):
            etag = GitHubState.get(key).etag
    headers = {"If-None-Match": etag} if etag else {}
    response = send("GET", url, token=token, identity=identity, params=params, headers=headers)
    if response.status_code == 304:
        return None
    page = Page(response.json(), response.links.get("next", {}).get("url"), key, response.headers.get("etag"))
    if keep_etag:
        etags_keep([page])
    return page


def etags_keep(pages: list[Page | None]) -> None:
    """Keep the pages' ETags for the next conditional request of the same resource."""
    now = datetime.now(UTC)
    for page in pages:
        if page is not None and page.etag and page.etag_key:
            GitHubState(key=page.etag_key, etag=page.etag, updated_at=now, expires_at=now + ETAG_RETENTION).save()


@contextlib.contextmanager
def kept_after() -> Iterator[list[Page | None]]:
    """A list to put the pages of a read in; their ETags are kept when the block ends without an exception, so
    store what they brought inside it:

        with github.kept_after() as pages:
            pages.append(first := github.get_if_changed(path, ..., keep_etag=False))
            store(first)
    """
    pages: list[Page | None] = []
    yield pages
    etags_keep(pages)
