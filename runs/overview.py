"""The data behind the overview: the user's visible repositories and each one's latest runs, in few reads."""

from dataclasses import dataclass

from accounts.models import UserRecord
from dashboard.models import GitHubState
from runs.backfill import repos_backfill
from runs.cache import batch_get, summaries_read, summaries_request
from runs.models import RepoSummary
from runs.visibility import EPOCH_KEY, Visibility, is_fresh, kept_repos, visibility_refresh


@dataclass(frozen=True)
class Overview:
    visibility: Visibility
    summaries: dict[str, dict]
    failed: dict[str, str]  # repositories GitHub could not be asked about, with why


def _epoch_and_summaries(repo_ids: list[str]) -> tuple[int, dict[str, dict]]:
    """The visibility epoch and up to 99 summaries in one BatchGetItem; more summaries cost more batches."""
    first, rest = repo_ids[:99], repo_ids[99:]
    request = summaries_request(first) if first else {}
    request[GitHubState.Meta.table_name] = {"Keys": [{"key": {"S": EPOCH_KEY}}]}
    items = batch_get(request)
    epoch = next((int(item.get("epoch") or 0) for item in items.get(GitHubState.Meta.table_name, [])), 0)
    summaries = {item["repoId"]: item for item in items.get(RepoSummary.Meta.table_name, [])}
    if rest:
        summaries.update(summaries_read(rest))
    return epoch, summaries


def overview_read(record: UserRecord) -> Overview:
    """Visible repositories and their summaries; repositories never shown before are backfilled first."""
    kept = kept_repos(record) if record.visible_repos else {}
    epoch, summaries = _epoch_and_summaries(sorted(kept))
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
    return Overview(visibility, {name: summaries.get(name, {}) for name in visibility.repos}, failed)
