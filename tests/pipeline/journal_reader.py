"""A local stream reader in a process of its own, for killing: its one consumer appends each event id it is given
to a journal file; with `hold`, it then never returns, so the kill lands after a batch was delivered and before
its position was kept.

    python -m tests.pipeline.journal_reader JOURNAL hold|go

Prints "ready" once every shard has an iterator. DynamoDB's endpoint, the table prefix and the state directory come
from the environment, as they do for the app.
"""

import os
import sys
import threading

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
django.setup()

from pipeline import dispatch  # noqa: E402
from pipeline.consumers import Consumer  # noqa: E402
from pipeline.local import StreamReader  # noqa: E402


def main(journal: str, hold: bool) -> None:
    def write(events) -> None:
        with open(journal, "a", encoding="utf-8") as file:
            file.writelines(f"{event.event_id}\n" for event in events)
            file.flush()
            os.fsync(file.fileno())
        if hold:
            threading.Event().wait()  # delivered, never kept: until the test kills the process

    consumers = (Consumer("journal", write),)
    StreamReader(handler=lambda records: dispatch.batch_handle(records, consumers)).start()
    print("ready", flush=True)
    threading.Event().wait()  # until killed


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] == "hold")
