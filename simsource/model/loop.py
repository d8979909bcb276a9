"""The event loop of a replication: SimPy's ``Environment.run(until=t)`` written out.

SimPy's ``run`` calls ``Environment.step`` once per event, and ``step`` sets up a ``try``
block around the callbacks of every event; a replication of the Nacka scenarios processes
60,000-odd events, most with one callback. :func:`run_until` does exactly what ``run(until=t)``
does — the same stop event (urgent, scheduled at the start, so it comes before any event at
``t``), the same events in the same order, the same failure of an undefused failed event, and
the stop event rescheduled at the end as SimPy does (so the event ids and the KPI
``sim_events`` are unchanged) — with the loop inlined. It is hand-written because SimPy offers
no faster loop; ``tests/test_model_loop.py`` checks it against ``Environment.run``.
"""

from __future__ import annotations

from heapq import heappop

import simpy
from simpy.events import URGENT, EventPriority


def run_until(env: simpy.Environment, until: float) -> None:
    """Process the events of ``env`` up to time ``until`` (as ``env.run(until=until)``)."""
    at = float(until)
    if at <= env.now:
        raise ValueError(f"until ({at}) must be greater than the current simulation time")
    stop = simpy.Event(env)
    stop._ok = True
    stop._value = None
    env.schedule(stop, URGENT, at - env.now)
    queue = env._queue
    while True:
        env._now, _, _, event = heappop(queue)  # the stop event is in it: never empty
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        if event is stop:
            # SimPy's StopSimulation path puts the (spent) stop event back, taking an id
            event.callbacks = []
            env.schedule(event, EventPriority(-1))
            return
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            # a failed event nobody handled crashes the run, as in Environment.step
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc
