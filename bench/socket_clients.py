"""A separate process holding many WebSocket clients: subscribes them all, then counts what arrives and when.

    python -m bench.socket_clients URL COOKIE SOCKETS REPO

Prints `ready` once every socket is subscribed, then, when the server has been quiet for 3 seconds after the
first message, one JSON line: messages received, first and last arrival, and each message's latency (its
`sent_at` to arrival, in ms).
"""

import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect


async def client(url, cookie, repo, ready, latencies, arrivals):
    async with connect(
        url, additional_headers={"Cookie": cookie}, origin=url.replace("ws", "http").rsplit("/", 1)[0], max_queue=None
    ) as socket:
        await socket.recv()  # hello
        await socket.send(json.dumps({"type": "subscribe", "repos": [repo]}))
        await socket.recv()  # subscribed
        ready.set()
        async for text in socket:
            now = time.time() * 1000
            message = json.loads(text)
            if message.get("type") == "change":
                latencies.append(now - message["event"]["sent_at"])
                arrivals.append(now)


async def main(url, cookie, sockets, repo):
    latencies, arrivals, tasks, readies = [], [], [], []
    for _ in range(sockets):
        ready = asyncio.Event()
        readies.append(ready)
        tasks.append(asyncio.create_task(client(url, cookie, repo, ready, latencies, arrivals)))
        await asyncio.sleep(0.001)
    await asyncio.gather(*(ready.wait() for ready in readies))
    print("ready", flush=True)
    while not arrivals:
        await asyncio.sleep(0.05)
    seen = -1
    while seen != len(arrivals):
        seen = len(arrivals)
        await asyncio.sleep(3)
    print(
        json.dumps({"received": len(arrivals), "first": min(arrivals), "last": max(arrivals), "latencies": latencies})
    )
    for task in tasks:
        task.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
