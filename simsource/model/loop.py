"""The event loop of a replication: SimPy's ``Environment.run(until=t)`` written out, on an
environment that keeps the events of the current instant out of the heap.

**The loop.** SimPy's ``run`` calls ``Environment.step`` once per event, and ``step`` sets up a
``try`` block around the callbacks of every event; a replication of the Nacka scenarios
processes 60,000-odd events, most with one callback. :func:`run_until` does exactly what
``run(until=t)`` does — the same stop event (urgent, scheduled at the start, so it comes before
any event at ``t``), the same events in the same order, the same failure of an undefused failed
event, and the stop event rescheduled at the end as SimPy does (so the event ids and the KPI
``sim_events`` are unchanged) — with the loop inlined, on this module's :class:`Environment`
(a plain SimPy environment is run by SimPy's own ``run``).

**The instant queues** (:class:`Environment`). SimPy keeps every scheduled event in one heap
ordered by (time, priority, id). More than half of a replication's events are scheduled for
*now* (a process starting, a process ending, a grant, an interrupt, a triggered event), and
such an event, being the earliest, climbs to the top of the heap when pushed and is taken off
the top soon after: two walks of the heap's depth (about 6 levels for the 80-odd events a
replication has pending) for an event that never waits. :class:`Environment` puts an event with
no delay and priority ``URGENT`` or ``NORMAL`` at the end of one of two FIFO queues instead. All
of their events are at the current time, in id order, so the next event is the least of three
heads — the heap's and the two queues' — by the same (time, priority, id) key: the events come
out in exactly SimPy's order, with the same ids. ``step``, ``peek`` and ``run`` work as SimPy's.

Hand-written because SimPy offers no faster loop or event queue; ``tests/test_model_loop.py``
checks both against SimPy's ``Environment``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import BoundClass, Infinity, SimTime
from simpy.events import (
    NORMAL,
    URGENT,
    EventPriority,
    Initialize,
    Process,
    ProcessGenerator,
    Timeout,
    _describe_frame,
)

_Item = tuple[SimTime, EventPriority, int, simpy.Event]
_new = object.__new__


class Environment(simpy.Environment):
    """A SimPy environment whose events of the current instant wait in two FIFO queues (one
    per priority) instead of the heap; the same events in the same order as SimPy's."""

    def __init__(self, initial_time: SimTime = 0) -> None:
        super().__init__(initial_time)
        self._urgent: deque[_Item] = deque()
        self._normal: deque[_Item] = deque()
        # SimPy binds ``env.timeout``, ``env.process`` … to the instance once, but only those
        # declared by the instance's own class: without this a subclass would build them
        # anew (through a Python-level descriptor) at every use
        for name, obj in vars(simpy.Environment).items():
            if type(obj) is BoundClass:
                setattr(self, name, getattr(self, name))
        self.timeout = self._timeout  # type: ignore[method-assign]
        self.process = self._process  # type: ignore[method-assign]

    # SimPy's Timeout and Process (with its Initialize event), made as their constructors make
    # them — the same attributes, the same event ids — without the constructor and ``schedule``
    # calls: the model makes a timeout for almost every other event.
    def _timeout(self, delay: SimTime = 0, value: Any = None) -> Timeout:
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        t = _new(Timeout)
        t.env = self
        t.callbacks = []
        t._value = value
        t._delay = delay
        t._ok = True
        if delay:
            heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), t))
        else:
            self._normal.append((self._now, NORMAL, next(self._eid), t))
        return t

    def _process(self, generator: ProcessGenerator) -> Process:
        if not hasattr(generator, "throw"):
            raise ValueError(f"{generator} is not a generator.")
        p = _new(_Process)
        p.env = self
        p.callbacks = []
        p._generator = generator
        p._wake = wake = p._resume
        init = _new(Initialize)
        init.env = self
        init.callbacks = [wake]
        init._value = None
        init._ok = True
        self._urgent.append((self._now, URGENT, next(self._eid), init))
        p._target = init
        return p

    def schedule(self, event: simpy.Event, priority: EventPriority = NORMAL,
                 delay: SimTime = 0) -> None:
        if delay:
            heappush(self._queue, (self._now + delay, priority, next(self._eid), event))
        elif priority is NORMAL:
            self._normal.append((self._now, priority, next(self._eid), event))
        elif priority is URGENT:
            self._urgent.append((self._now, priority, next(self._eid), event))
        else:
            heappush(self._queue, (self._now, priority, next(self._eid), event))

    def _head(self) -> deque[_Item] | None:
        """The instant queue whose head comes next, or None when it is the heap's."""
        q = self._urgent or self._normal or None
        if q is not None and self._queue and self._queue[0] < q[0]:
            return None
        return q

    def peek(self) -> SimTime:
        q = self._head()
        if q is not None:
            return q[0][0]
        return self._queue[0][0] if self._queue else Infinity

    def step(self) -> None:
        q = self._head()
        if q is not None:
            # the least event of all: on top of the heap, SimPy's step takes it next
            heappush(self._queue, q.popleft())
        super().step()

    def pending(self) -> int:
        """The number of scheduled events (heap and instant queues)."""
        return len(self._queue) + len(self._urgent) + len(self._normal)


class _Process(Process):
    """SimPy's Process, resumed by one bound method made once (SimPy makes a new one each time
    the process waits) and, when it ends, scheduled straight into the instant queue. ``_resume``
    is SimPy 4.1's, with those two changes."""

    _wake: Callable[[simpy.Event], None]   # this process's _resume, bound once

    def _resume(self, event: simpy.Event) -> None:
        env: Environment = self.env  # type: ignore[assignment]
        env._active_proc = self
        while True:
            try:
                if event._ok:
                    event = self._generator.send(event._value)
                else:
                    # the process has to handle the failed event (or fail itself): its own
                    # copy of the exception, so that other processes' tracebacks stay apart
                    event._defused = True
                    exc = type(event._value)(*event._value.args)
                    exc.__cause__ = event._value
                    event = self._generator.throw(exc)
            except StopIteration as e:
                event = None  # type: ignore[assignment]
                self._ok = True
                self._value = e.args[0] if len(e.args) else None
                env._normal.append((env._now, NORMAL, next(env._eid), self))
                del self._wake   # the bound method refers back to the process: no cycle left
                break
            except BaseException as e:
                event = None  # type: ignore[assignment]
                self._ok = False
                e.__traceback__ = e.__traceback__.tb_next  # type: ignore[union-attr]
                self._value = e
                env._normal.append((env._now, NORMAL, next(env._eid), self))
                del self._wake
                break
            try:
                if event.callbacks is not None:
                    event.callbacks.append(self._wake)
                    break
            except AttributeError:
                if hasattr(event, "callbacks"):
                    raise
                msg = f'Invalid yield value "{event}"'
                descr = _describe_frame(self._generator.gi_frame)  # type: ignore[attr-defined]
                raise RuntimeError(f"\n{descr}{msg}") from None
        self._target = event
        env._active_proc = None


def run_until(env: simpy.Environment, until: float) -> None:
    """Process the events of ``env`` up to time ``until`` (as ``env.run(until=until)``)."""
    at = float(until)
    if at <= env.now:
        raise ValueError(f"until ({at}) must be greater than the current simulation time")
    if not isinstance(env, Environment):
        env.run(until=at)   # a plain SimPy environment: SimPy's own loop
        return
    stop = simpy.Event(env)
    stop._ok = True
    stop._value = None
    env.schedule(stop, URGENT, at - env.now)
    _loop_instant_queues(env, stop)


def _stopped(env: simpy.Environment, stop: simpy.Event) -> None:
    # SimPy's StopSimulation path puts the (spent) stop event back, taking an id
    stop.callbacks = []
    env.schedule(stop, EventPriority(-1))


def _fail(event: Any) -> None:
    # a failed event nobody handled crashes the run, as in Environment.step
    exc = type(event._value)(*event._value.args)
    exc.__cause__ = event._value
    raise exc


def _loop_instant_queues(env: Environment, stop: simpy.Event) -> None:
    queue, urgent, normal = env._queue, env._urgent, env._normal
    while True:
        # the stop event is in the heap until it is taken: the heap is never empty here
        if urgent:
            if queue[0] < urgent[0]:
                env._now, _, _, event = heappop(queue)
            else:
                env._now, _, _, event = urgent.popleft()
        elif normal:
            if queue[0] < normal[0]:
                env._now, _, _, event = heappop(queue)
            else:
                env._now, _, _, event = normal.popleft()
        else:
            env._now, _, _, event = heappop(queue)
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        if event is stop:
            _stopped(env, stop)
            return
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            _fail(event)
