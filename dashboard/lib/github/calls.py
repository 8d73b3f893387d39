"""Typed calls: what the app asks GitHub for as a user, each linked to the page of GitHub's docs it implements."""

from dataclasses import dataclass
from typing import Any

from dashboard.lib.github.etags import Page, get_if_changed
from dashboard.lib.github.transport import paginate, paginate_rest


@dataclass(frozen=True)
class Repository:
    id: int
    full_name: str
    private: bool
    default_branch: str
    html_url: str
    installation_id: int
    can_write: bool
    topics: tuple[str, ...] = ()


def _all_pages(
    path: str, *, token: str, identity: str | None, key: str, etags: list[Page | None] | None = None
) -> list[dict[str, Any]]:
    """Every item of a list; with an identity, the first page's ETag is kept for later conditional requests.

    With `etags` (a `kept_after()` block's list), the first page is added to it instead.
    """
    if identity is None:
        return list(paginate(path, token=token, key=key))
    first = get_if_changed(
        path, token=token, identity=identity, params={"per_page": 100}, conditional=False, keep_etag=etags is None
    )
    assert first is not None  # an unconditional GET is never answered 304
    assert isinstance(first.body, dict)  # GitHub's lists of installations and repositories are objects
    items = [*first.body[key], *paginate_rest(first.next_url, token=token, identity=identity, key=key)]
    if etags is not None:
        etags.append(first)
    return items


def user_installations(
    token: str, *, identity: str | None = None, etags: list[Page | None] | None = None
) -> list[dict[str, Any]]:
    """Installations of our GitHub App that the user can access.

    https://docs.github.com/en/rest/apps/installations#list-app-installations-accessible-to-the-user-access-token
    """
    return _all_pages("/user/installations", token=token, identity=identity, key="installations", etags=etags)


def user_installation_repositories(
    token: str, installation_id: int, *, identity: str | None = None, etags: list[Page | None] | None = None
) -> list[Repository]:
    """Repositories of one installation that the user can access.

    https://docs.github.com/en/rest/apps/installations#list-repositories-accessible-to-the-user-access-token
    """
    path = f"/user/installations/{installation_id}/repositories"
    return [
        Repository(
            id=repo["id"],
            full_name=repo["full_name"],
            private=repo["private"],
            default_branch=repo.get("default_branch") or "main",
            html_url=repo["html_url"],
            installation_id=installation_id,
            can_write=bool(repo.get("permissions", {}).get("push")),
            topics=tuple(topic for topic in repo.get("topics") or () if isinstance(topic, str)),
        )
        for repo in _all_pages(path, token=token, identity=identity, key="repositories", etags=etags)
    ]


def user_repositories(
    token: str, *, identity: str | None = None, etags: list[Page | None] | None = None
) -> list[Repository]:
    """Every repository the user can see through our App: the user's access intersected with the App's.

    With `etags`, the lists' ETags are added to it rather than kept, for the caller to keep once it has stored
    the answer (see `etags.kept_after`).
    """
    repos: dict[str, Repository] = {}
    for installation in user_installations(token, identity=identity, etags=etags):
        for repo in user_installation_repositories(token, installation["id"], identity=identity, etags=etags):
            repos[repo.full_name] = repo
    return sorted(repos.values(), key=lambda repo: repo.full_name.lower())
