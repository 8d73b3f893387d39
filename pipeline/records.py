"""A DynamoDB Streams record of the events table, as Lambda hands it and as the local reader builds it, read once.

https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html (the event's shape)
"""

from dataclasses import dataclass
from typing import Any

from realtime.models import Event


class Unreadable(Exception):
    """A record that is not a stream record of the events table (missing keys, an image that is not an Event)."""


@dataclass(frozen=True)
class StreamRecord:
    sequence_number: str
    event: Event | None  # None for what is not a new event (a TTL expiry's REMOVE): nothing to do

    @classmethod
    def parse(cls, record: Any) -> "StreamRecord":
        try:
            change = record["dynamodb"]
            sequence_number = change["SequenceNumber"]
            if not isinstance(sequence_number, str) or not sequence_number:
                raise Unreadable("the record has no sequence number")
            if record.get("eventName") != "INSERT":
                return cls(sequence_number, None)
            return cls(sequence_number, Event.from_raw_data(change["NewImage"]))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise Unreadable(f"not a stream record of the events table ({type(error).__name__}: {error})") from error
