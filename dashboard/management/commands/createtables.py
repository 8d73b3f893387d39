from django.core.management.base import BaseCommand, CommandError

from dashboard.lib.dynamo import shared_client, table_models
from dashboard.lib.tables import SchemaConflict, ensure_table, table_spec
from runs.models import RepoSummary, WorkflowRun


class Command(BaseCommand):
    help = "Create or update every DynamoDB table (keys, indexes, TTL). Safe to run again: it only adds."

    def add_arguments(self, parser):
        parser.add_argument(
            "--count", action="store_true", help="also say how many repositories and runs are already stored"
        )

    def handle(self, *args, **options):
        client = shared_client()
        conflicts = []
        for model in table_models():
            spec = table_spec(model)
            try:
                actions = ensure_table(client, spec)
            except SchemaConflict as conflict:
                conflicts.append(str(conflict))
                self.stderr.write(self.style.ERROR(f"conflict: {conflict}"))
                continue
            except Exception as error:  # botocore's connection and client errors share no useful base class
                raise CommandError(f"DynamoDB at {client.meta.endpoint_url} failed on {spec.name}: {error}") from error
            for action in actions:
                self.stdout.write(self.style.SUCCESS(action))
            if not actions:
                self.stdout.write(f"{spec.name} is up to date")
        if conflicts:
            raise CommandError(f"{len(conflicts)} table(s) need a person: see the conflicts above.")
        if options["count"]:
            self.stdout.write(stored_summary(client))


def stored_summary(client) -> str:
    """One line: the repositories and runs already stored (a Select=COUNT scan: meant for local data)."""
    repos, runs = (_count(client, model.Meta.table_name) for model in (RepoSummary, WorkflowRun))
    if not runs and not repos:
        return "No kept data: the tables are empty."
    kept = f"{_counted(repos, 'repository', 'repositories')} and {_counted(runs, 'run', 'runs')}"
    return f"Kept data: {kept} already stored."


def _counted(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _count(client, table_name: str) -> int:
    total, start = 0, None
    while True:
        page = client.scan(TableName=table_name, Select="COUNT", **({"ExclusiveStartKey": start} if start else {}))
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return total
