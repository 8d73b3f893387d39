from datetime import timedelta

from django.core.management.base import BaseCommand

from dashboard.reconciliation import reconcile


class Command(BaseCommand):
    help = "Re-read unfinished runs the webhooks may have missed, and redeliver failed webhook deliveries."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=None,
            help="re-read runs unfinished this long after their last update (default: RECONCILE_AFTER_MINUTES)",
        )
        parser.add_argument("--no-redeliver", action="store_true", help="leave failed deliveries alone")

    def handle(self, *args, older_than_minutes, no_redeliver, **options):
        older_than = timedelta(minutes=older_than_minutes) if older_than_minutes is not None else None
        report = reconcile(older_than=older_than, redeliver=not no_redeliver, progress=self.stdout.write)
        for line in report.lines():
            self.stdout.write(line)
        if report.errors:
            self.stderr.write(self.style.WARNING(f"{len(report.errors)} problem(s); see above"))
