"""A long-running asyncio loop where each request schedules a far-future timeout with loop.call_later and drops it.

Real-world bug class: per-request timeouts scheduled and never cancelled. Each TimerHandle, with the request's
context as its argument, waits in the loop's heap of scheduled callbacks for an hour.
A right diagnosis names the loop's scheduled callbacks (sys.modules['__main__'].loop._scheduled) and says to keep
the handle and cancel() it, or use asyncio.timeout().
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: sys.modules['__main__'].loop._scheduled
# remedy: cancel()
import asyncio
import rounds

loop = asyncio.new_event_loop()


def on_timeout(ctx):
    ctx["timed_out"] = True


async def serve(n):
    ctx = {"req": n, "peer": "10.0.%d.%d" % (n // 250 % 250, n % 250), "body": "x%d" % n}
    loop.call_later(3600.0, on_timeout, ctx)   # the handle is dropped; the request finishes long before
    await asyncio.sleep(0)
    return ctx["req"]


def handle(n):
    loop.run_until_complete(serve(n))


rounds.run(handle, 300)
