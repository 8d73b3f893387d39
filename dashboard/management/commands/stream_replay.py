from pathlib import Path

import botocore.session
from django.conf import settings
from django.core.management.base import BaseCommand

from pipeline.failures import LocalFailures, QueueFailures
from pipeline.local import streams_client
from pipeline.replay import parked_replay


def destination():
    """The deployed failure queue when STREAM_FAILURE_QUEUE_URL is set, else the local reader's file."""
    if settings.STREAM_FAILURE_QUEUE_URL:
        client = botocore.session.get_session().create_client("sqs", region_name=settings.DYNAMODB_REGION)
        return QueueFailures(client, settings.STREAM_FAILURE_QUEUE_URL)
    return LocalFailures(Path(settings.STREAM_LOCAL_STATE_DIR) / "failures.jsonl")


class Command(BaseCommand):
    help = "Run again the stream records whose retries ran out (parked in the failure queue or the local file)."

    def handle(self, *args, **options):
        report = parked_replay(destination(), streams_client(), progress=self.stdout.write)
        self.stdout.write(f"{report.replayed} parked range(s) replayed ({report.records} record(s))")
        for line in report.kept:
            self.stderr.write(self.style.WARNING(f"kept {line}"))
