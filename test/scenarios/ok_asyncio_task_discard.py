"""An asyncio service that keeps its background tasks in a set and discards each one when it finishes.

The correct form of leak_asyncio_task_set: task.add_done_callback(BACKGROUND.discard), so the set only holds
tasks in flight (none between requests). Every request creates and finishes tasks on one long-lived loop.
A right diagnosis says no leak.
"""
# verdict: no-leak
import asyncio

import rounds

BACKGROUND = set()
loop = asyncio.new_event_loop()


async def audit(n, event):
    await asyncio.sleep(0)
    return {"event": event, "request": n, "detail": "x" * 64}


async def handle(n):
    for event in ("received", "validated", "stored"):
        task = asyncio.ensure_future(audit(n, event))
        BACKGROUND.add(task)
        task.add_done_callback(BACKGROUND.discard)
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def request(n):
    loop.run_until_complete(handle(n))


rounds.run(request, 120)
