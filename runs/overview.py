"""The data behind the overview: the user's visible repositories and each one's latest runs, in few reads."""

from dataclasses import dataclass

from accounts.models import UserRecord, UserSettings
from dashboard.lib.dynamo import batch_get
from dashboard.lib.github.state import GitHubState
from runs.backfill import repos_backfill
from runs.models import RepoSummary
from runs.summaries import summaries_read, summaries_request
from runs.visibility import EPOCH_KEY, Visibility, is_fresh, kept_repos, visibility_refresh


@dataclass(frozen=True)
class Overview:
    visibility: Visibility
    summaries: dict[str, dict]
    failed: dict[str, str]  # repositories GitHub could not be asked about, with why
    settings: UserSettings


def _first_read(user_id: int, repo_ids: list[str]) -> tuple[int, UserSettings, dict[str, dict]]:
    """The visibility epoch, the user's settings and up to 98 summaries in one BatchGetItem; more summaries
    cost more batches."""
    first, rest = repo_ids[:98], repo_ids[98:]
    request = summaries_request(first) if first else {}
    request[GitHubState.Meta.table_name] = {"Keys": [{"key": {"S": EPOCH_KEY}}]}
    request[UserSettings.Meta.table_name] = {"Keys": [{"userId": {"N": str(user_id)}}]}
    items = batch_get(request, raw=frozenset({UserSettings.Meta.table_name}))
    epoch = next((int(item.get("epoch") or 0) for item in items.get(GitHubState.Meta.table_name, [])), 0)
    stored = items.get(UserSettings.Meta.table_name)
    # A user who never saved settings has the defaults, which are not written until they are changed.
    settings = UserSettings.from_raw_data(stored[0]) if stored else UserSettings(user_id=user_id)
    summaries = {item["repoId"]: item for item in items.get(RepoSummary.Meta.table_name, [])}
    if rest:
        summaries.update(summaries_read(rest))
    return epoch, settings, summaries


def overview_read(record: UserRecord) -> Overview:
    """Visible repositories, their summaries and the user's settings; repositories never shown before are
    backfilled first."""
    kept = kept_repos(record) if record.visible_repos else {}
    epoch, settings, summaries = _first_read(int(record.user_id), sorted(kept))
    visibility = Visibility(kept) if is_fresh(record, epoch) else visibility_refresh(record, epoch)
    missing = [name for name in visibility.repos if name not in summaries]
    if missing:
        summaries.update(summaries_read(missing))
    never_loaded = [
        visibility.repos[name] for name in visibility.repos if "backfilledAt" not in summaries.get(name, {})
    ]
    failed = repos_backfill(never_loaded) if never_loaded else {}
    if never_loaded:
        summaries.update(summaries_read([access.full_name for access in never_loaded]))
    return Overview(visibility, {name: summaries.get(name, {}) for name in visibility.repos}, failed, settings)
