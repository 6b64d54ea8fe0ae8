"""Control: an asyncio loop and a sched.scheduler where every timer either runs or is cancelled, and an ExitStack per
request.

The loop's scheduled callbacks, the scheduler's queue and ExitStack callbacks are what leak_asyncio_call_later,
leak_sched_events and leak_exitstack_callbacks lay their growth at; here they stay empty between requests.
"""
# verdict: no-leak
import asyncio
import sched
import contextlib
import rounds

loop = asyncio.new_event_loop()
planner = sched.scheduler()
fired = {"n": 0}


def on_timeout(ctx):
    fired["n"] += 1


async def serve(n):
    ctx = {"req": n, "body": "x%d" % n}
    h = loop.call_later(3600.0, on_timeout, ctx)
    loop.call_soon(on_timeout, dict(ctx))
    await asyncio.sleep(0)
    h.cancel()          # timeout cancelled once the request finishes
    return n


def handle(n):
    loop.run_until_complete(serve(n))
    job = {"id": n, "payload": ["p%d" % i for i in range(10)]}
    planner.enter(0, 1, on_timeout, argument=(job,))
    planner.run(blocking=False)   # the event runs immediately
    with contextlib.ExitStack() as stack:     # per-request stack, unwound
        stack.callback(job["payload"].clear)


rounds.run(handle, 300)
