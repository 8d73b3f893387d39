"""Which repositories a user may see: decided by GitHub through the user's own token, enforced on every read.

A GitHub App user token sees the intersection of the user's access and the App's installations. The answer
costs GitHub requests, so it is kept on the user's item for a short while; an installation event bumps a
global epoch, which makes every kept answer stale at once. A repository the user may not see is a 404.
"""

import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from django.http import Http404

from accounts.models import UserRecord
from accounts.tokens import user_access_token
from dashboard.lib import github
from dashboard.lib.dynamo import shared_client
from dashboard.lib.github.state import GitHubState
from realtime.publish import visibility_event

logger = logging.getLogger(__name__)

VISIBILITY_TTL = timedelta(minutes=5)
EPOCH_KEY = "visibility-epoch"


@dataclass(frozen=True)
class RepoAccess:
    full_name: str
    id: int
    private: bool
    default_branch: str
    html_url: str
    installation_id: int
    can_write: bool
    topics: tuple[str, ...] = ()  # kept answers from before topics were kept have none until renewed

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


@dataclass(frozen=True)
class Visibility:
    repos: dict[str, RepoAccess]
    stale_reason: str | None = None  # set when GitHub could not be asked and an older answer is served


def visibility_epoch() -> int:
    try:
        return int(GitHubState.get(EPOCH_KEY).epoch or 0)
    except GitHubState.DoesNotExist:
        return 0


def visibility_invalidate() -> None:
    """Make every user's kept visibility stale (an installation or its repositories changed)."""

    shared_client().update_item(
        TableName=GitHubState.Meta.table_name,
        Key={"key": {"S": EPOCH_KEY}},
        UpdateExpression="ADD epoch :one SET updatedAt = :now",
        # In PynamoDB's own timestamp format, so the item still reads back as a GitHubState.
        ExpressionAttributeValues={
            ":one": {"N": "1"},
            ":now": {"S": GitHubState.updated_at.serialize(datetime.now(UTC))},
        },
    )
    # Open sockets re-check their subscriptions now, not at their next reconnect: the stream carries this event to
    # the browser consumer (realtime/fanout.py), so the webhook's request does no more than write it.
    visibility_event().save()


def kept_repos(record: UserRecord) -> dict[str, RepoAccess]:
    return {
        name: RepoAccess(**{**repo, "topics": tuple(repo.get("topics") or ())})
        for name, repo in json.loads(record.visible_repos or "{}").items()
    }


def is_fresh(record: UserRecord, epoch: int) -> bool:
    return bool(
        record.visible_repos is not None
        and record.visible_at
        and record.visible_at > datetime.now(UTC) - VISIBILITY_TTL
        and (record.visibility_epoch or 0) == epoch
    )


def _unchanged(token: str, identity: str, kept: dict[str, RepoAccess]) -> bool:
    """Whether GitHub answers 304 to every list the kept answer came from (each fitting in one page).

    A list that changed is read again in full by the caller, which keeps its ETag only with the new answer.
    """
    installations = github.get_if_changed(
        "/user/installations", token=token, identity=identity, params={"per_page": 100}, keep_etag=False
    )
    if installations is not None:
        return False
    for installation_id in {repo.installation_id for repo in kept.values()}:
        path = f"/user/installations/{installation_id}/repositories"
        changed = github.get_if_changed(path, token=token, identity=identity, params={"per_page": 100}, keep_etag=False)
        if changed is not None:
            return False
    return len(kept) < 100 * max(1, len({repo.installation_id for repo in kept.values()}))


def visibility_refresh(record: UserRecord, epoch: int) -> Visibility:
    """Ask GitHub again with the user's token; on failure serve the last answer, marked stale.

    The lists are first asked for with their ETags: when nothing changed GitHub answers 304, which costs no
    rate limit, and the kept answer is renewed as it is.
    """
    identity = f"user:{record.user_id}"
    try:
        token = user_access_token(int(record.user_id))
        kept = kept_repos(record)
        if (
            record.visible_repos is not None
            and (record.visibility_epoch or 0) == epoch
            and _unchanged(token, identity, kept)
        ):
            record.update(actions=[UserRecord.visible_at.set(datetime.now(UTC))])
            return Visibility(kept)
        # The lists' ETags are kept only with the answer they stand for: kept before it, a failure to store it
        # would turn every later check into 304s that renew the old answer, access that has ended included.
        with github.kept_after() as etags:
            repos = _repos_stored(record, github.user_repositories(token, identity=identity, etags=etags), epoch)
    except github.CANNOT_ASK as error:
        if record.visible_repos is None:
            raise
        logger.info("user %s: visibility served stale (%s)", record.user_id, type(error).__name__)
        return Visibility(kept_repos(record), stale_reason=str(error) or type(error).__name__)
    return Visibility(repos)


def _repos_stored(record: UserRecord, found: list[github.Repository], epoch: int) -> dict[str, RepoAccess]:
    """Keep GitHub's answer as the user's visibility; what is kept, by name."""
    repos = {
        repo.full_name: RepoAccess(
            full_name=repo.full_name,
            id=repo.id,
            private=repo.private,
            default_branch=repo.default_branch,
            html_url=repo.html_url,
            installation_id=repo.installation_id,
            can_write=repo.can_write,
            topics=repo.topics,
        )
        for repo in found
    }
    now = datetime.now(UTC)
    record.update(
        actions=[
            UserRecord.visible_repos.set(json.dumps({name: asdict(repo) for name, repo in repos.items()})),
            UserRecord.visible_at.set(now),
            UserRecord.visibility_epoch.set(epoch),
        ]
    )
    return repos


def visible_repos(record: UserRecord, *, epoch: int | None = None) -> Visibility:
    """The repositories this user may see now."""
    epoch = visibility_epoch() if epoch is None else epoch
    if is_fresh(record, epoch):
        return Visibility(kept_repos(record))
    return visibility_refresh(record, epoch)


def visible_names(user_id: int) -> set[str]:
    """The names of the repositories a user may see now (what the live connections check subscriptions against)."""
    return set(visible_repos(UserRecord.get(user_id)).repos)


def repo_access(record: UserRecord, full_name: str) -> RepoAccess:
    """The user's access to one repository, or 404: a repository they may not see does not exist for them."""
    access = visible_repos(record).repos.get(full_name)
    if access is None:
        raise Http404("No such repository.")
    return access
