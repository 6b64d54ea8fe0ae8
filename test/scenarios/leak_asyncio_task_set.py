"""An asyncio service that keeps a strong reference to its fire-and-forget tasks in a module-level set.

Real-world bug class: the asyncio documentation says to keep a reference to background tasks so they are not
collected mid-flight, and to drop it with task.add_done_callback(BACKGROUND.discard). Without the done callback
the set keeps every finished task, with its result (or exception) and its coroutine, for ever.
A right diagnosis names the set (sys.modules['__main__'].BACKGROUND) as a growing container of asyncio Tasks and
says to discard finished tasks (add_done_callback(BACKGROUND.discard)).
"""
# verdict: leak
# kinds: growing-container
# holder: __main__'].BACKGROUND
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
        BACKGROUND.add(task)  # no task.add_done_callback(BACKGROUND.discard)
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def request(n):
    loop.run_until_complete(handle(n))


rounds.run(request, 120)
