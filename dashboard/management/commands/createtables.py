from django.core.management.base import BaseCommand, CommandError

from dashboard.dynamo import shared_client, table_models
from dashboard.tables import SchemaConflict, ensure_table, table_spec


class Command(BaseCommand):
    help = "Create or update every DynamoDB table (keys, indexes, TTL). Safe to run again: it only adds."

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
