"""Supplier staff: identical people serving non-preemptive priority classes.

:class:`SupplierStaff` has the semantics of a SimPy ``PriorityResource`` (non-preemptive, FIFO
within a class, lower class first) for ``shared`` people, without its per-request sorting —
suppliers are on the model's hot path — plus ``dedicated`` people ring-fenced for change and
project work (class :data:`~simsource.model.core.SUP_CHANGE`) only: a heavy partner
organisation protects part of the supplier's team for innovation (MODEL.md §9).

``request(cls)`` returns an event whose value is the kind of person assigned (``True`` for a
dedicated one); ``release(dedicated)`` hands that person to the next waiting request it may
serve.
"""

from __future__ import annotations

from collections import deque

import simpy
from simpy.events import Event

from simsource.model.core import SUP_CHANGE

N_CLASSES = 3


class SupplierStaff:
    __slots__ = ("env", "free_dedicated", "free_shared", "queues")

    def __init__(self, env: simpy.Environment, shared: int, dedicated: int = 0) -> None:
        self.env = env
        self.free_shared = shared
        self.free_dedicated = dedicated
        self.queues: tuple[deque[simpy.Event], ...] = tuple(deque() for _ in range(N_CLASSES))

    def request(self, cls: int) -> simpy.Event:
        # the hot path of every incident: the event is succeeded in place (what
        # ``Event.succeed`` does, without the call)
        env = self.env
        ev = Event(env)
        if cls == SUP_CHANGE and self.free_dedicated > 0:
            self.free_dedicated -= 1
            dedicated = True
        elif self.free_shared > 0:
            self.free_shared -= 1
            dedicated = False
        else:
            self.queues[cls].append(ev)
            return ev
        ev._ok = True
        ev._value = dedicated
        env.schedule(ev)
        return ev

    def release(self, dedicated: bool = False) -> None:
        q = self.queues
        if dedicated:
            if q[SUP_CHANGE]:
                q[SUP_CHANGE].popleft().succeed(True)
            else:
                self.free_dedicated += 1
            return
        for queue in q:
            if queue:
                queue.popleft().succeed(False)
                return
        self.free_shared += 1


#: The v1 name: with no dedicated people it is a plain two- (three-) class priority server.
TwoClassServer = SupplierStaff
