"""A separate process holding many WebSocket clients: subscribes them all, then records what each one receives.

    python -m bench.socket_clients URL COOKIE SOCKETS REPO

Prints `ready` once every socket is subscribed. Then, for each line `report` read on stdin, prints one JSON line
with what each socket received since the last report: its `changes` messages, and each change it carried as
[the change's run id, arrival in ms since the epoch], in the order they came. Ends at the end of stdin.

A message is only timed and kept as it arrives; it is parsed when reported, so that the clients' own work
delays the next arrival as little as it can.
"""

import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect


class Received:
    """What one socket got since its last report: each message's text and arrival time."""

    def __init__(self):
        self.texts: list[tuple[float, str]] = []

    def take(self) -> dict:
        """Its `changes` messages, and each change they carried as (run id, arrival); forgotten once taken."""
        messages, changes = 0, []
        for at, text in self.texts:
            message = json.loads(text)
            if message.get("type") == "changes":
                messages += 1
                changes += [(change["event"]["id"], at) for change in message["changes"]]
        self.texts = []
        return {"messages": messages, "changes": changes}


async def client(url: str, cookie: str, repo: str, ready: asyncio.Event, received: Received) -> None:
    async with connect(
        url, additional_headers={"Cookie": cookie}, origin=url.replace("ws", "http").rsplit("/", 1)[0], max_queue=None
    ) as socket:
        await socket.recv()  # hello
        await socket.send(json.dumps({"type": "subscribe", "repos": [repo]}))
        await socket.recv()  # subscribed
        ready.set()
        async for text in socket:
            received.texts.append((time.time() * 1000, text))


async def main(url: str, cookie: str, sockets: int, repo: str) -> None:
    receiving = [Received() for _ in range(sockets)]
    readies = [asyncio.Event() for _ in range(sockets)]
    tasks = []
    for ready, received in zip(readies, receiving, strict=True):
        tasks.append(asyncio.create_task(client(url, cookie, repo, ready, received)))
        await asyncio.sleep(0.001)
    await asyncio.gather(*(ready.wait() for ready in readies))
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    while (line := await loop.run_in_executor(None, sys.stdin.readline)) != "":
        if line.strip() == "report":
            print(json.dumps([received.take() for received in receiving]), flush=True)
    for task in tasks:
        task.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
