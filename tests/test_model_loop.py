"""The model's inlined event loop does what SimPy's ``Environment.run(until=t)`` does."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest
import simpy

from simsource.model.loop import Environment, run_until


def _world(env: simpy.Environment, log: list[tuple[float, str]]) -> None:
    """Processes that tie at the same instants, a resource, an interrupt and a stop time that
    falls exactly on scheduled events."""
    res = simpy.Resource(env, capacity=1)

    def user(name: str, hold: float) -> Generator[simpy.Event, Any, None]:
        while True:
            with res.request() as req:
                yield req
                log.append((env.now, f"{name} in"))
                try:
                    yield env.timeout(hold)
                except simpy.Interrupt:
                    log.append((env.now, f"{name} interrupted"))
            yield env.timeout(1.0)

    a = env.process(user("a", 2.0))
    env.process(user("b", 3.0))

    def poke() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(0.5)
        a.interrupt()

    env.process(poke())


def _run(loop: Callable[[simpy.Environment, float], None],
         make: Callable[[], simpy.Environment] = simpy.Environment
         ) -> tuple[list[Any], int, float]:
    env = make()
    log: list[tuple[float, str]] = []
    _world(env, log)
    loop(env, 10.0)
    return log, next(env._eid), env.now


def test_same_events_order_ids_and_clock_as_simpy() -> None:
    ours = _run(run_until, Environment)
    simpys = _run(lambda env, t: env.run(until=t))
    assert ours == simpys
    assert ours[2] == 10.0
    assert len(ours[0]) > 5


def test_the_instant_queues_keep_simpys_order_ids_and_clock() -> None:
    simpys = _run(lambda env, t: env.run(until=t))
    assert _run(run_until, Environment) == simpys
    assert _run(lambda env, t: env.run(until=t), Environment) == simpys


def _trace(env: simpy.Environment, loop: Callable[[simpy.Environment, float], None]
           ) -> tuple[list[tuple[float, str]], int]:
    """Every resumption of every process, in order, and the number of events scheduled: a world
    where most events are for the current instant (processes starting and ending, a process
    waiting for another, triggered events, an interrupt, conditions) amid timeouts that fall on
    the same instants."""
    log: list[tuple[float, str]] = []
    _world(env, log)

    def child(name: str, k: int) -> Generator[simpy.Event, Any, int]:
        log.append((env.now, f"{name} starts"))
        yield env.timeout(k % 2)
        log.append((env.now, f"{name} waited"))
        return k

    def parent(p: str) -> Generator[simpy.Event, Any, None]:
        for r in range(5):
            kids = [env.process(child(f"{p}{r}.{k}", k)) for k in range(4)]
            done = yield simpy.AllOf(env, kids)
            log.append((env.now, f"{p}{r} all of {sorted(done.values())}"))
            yield env.timeout(0)
            log.append((env.now, f"{p}{r} timeout 0"))
            value = yield env.event().succeed(r)
            log.append((env.now, f"{p}{r} event {value}"))
            value = yield env.process(child(f"{p}{r}.x", r))
            log.append((env.now, f"{p}{r} waited for a child: {value}"))
            yield env.timeout(1.0)

    env.process(parent("p"))
    env.process(parent("q"))
    loop(env, 30.0)
    return log, next(env._eid)


def test_the_instant_queues_process_every_event_in_simpys_order() -> None:
    simpys = _trace(simpy.Environment(), lambda env, t: env.run(until=t))
    assert len(simpys[0]) > 100
    assert _trace(Environment(), run_until) == simpys
    assert _trace(Environment(), lambda env, t: env.run(until=t)) == simpys


def test_peek_and_step_see_the_instant_queues() -> None:
    env = Environment()
    env.timeout(2.0)
    assert env.peek() == 2.0
    ev = env.event()
    ev.succeed()
    assert env.peek() == 0.0
    assert env.pending() == 2
    def nothing() -> Generator[simpy.Event, Any, None]:
        yield from ()

    env.process(nothing())         # its start is urgent: pending in the third queue
    assert env.pending() == 3
    env.step()                     # it starts, ends, and its end is pending
    assert env.pending() == 3
    env.step()
    assert ev.processed
    assert env.pending() == 2
    env.step()
    assert env.pending() == 1
    env.step()
    assert env.now == 2.0
    assert env.pending() == 0
    assert env.peek() == float("inf")


def test_event_constructors_are_bound_to_the_instance_as_simpy_binds_them() -> None:
    """SimPy binds ``env.timeout``, ``env.event`` … to an environment once (BoundClass
    .bind_early), but only those its own class declares; a subclass that did not would build
    them anew at every call (a cost, not a change of behaviour: hence this test)."""
    from simpy.core import BoundClass

    env = Environment()
    names = [n for n, o in vars(simpy.Environment).items() if type(o) is BoundClass]
    assert {"timeout", "process", "event", "all_of", "any_of"} <= set(names)
    assert set(names) <= set(vars(env))
    assert vars(env)["event"].__self__ is env


def _pending(env: simpy.Environment) -> list[tuple[float, int, int]]:
    """(time, priority, id) of every scheduled event, wherever it waits."""
    items = [*env._queue, *getattr(env, "_urgent", ()), *getattr(env, "_normal", ())]
    return sorted((t, int(p), eid) for t, p, eid, _ in items)


def test_timeouts_and_processes_are_made_as_simpy_makes_them() -> None:
    """``env.timeout`` and ``env.process`` build SimPy's own events in place: the same classes
    and attributes as SimPy's constructors (the model's fast paths skip only the calls)."""
    ours, simpys = Environment(), simpy.Environment()

    def gen(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1.0)

    def shape(event: simpy.Event, env: simpy.Environment) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in vars(event).items():
            if k == "env":
                assert v is env
            elif k == "callbacks":
                out[k] = [getattr(cb, "__name__", cb) for cb in v]
            elif k in ("_generator", "_wake"):
                continue
            else:
                out[k] = type(v).__name__ if k == "_target" else v
        return out

    for env in (ours, simpys):
        env.timeout(0.5, value="v")
    t_ours, t_simpy = ours.timeout(2.5, "w"), simpys.timeout(2.5, "w")
    assert type(t_ours) is simpy.Timeout
    assert shape(t_ours, ours) == shape(t_simpy, simpys)
    p_ours, p_simpy = ours.process(gen(ours)), simpys.process(gen(simpys))
    assert isinstance(p_ours, simpy.Process)
    assert shape(p_ours, ours) == shape(p_simpy, simpys)
    assert type(p_ours.target) is type(p_simpy.target)
    assert shape(p_ours.target, ours) == shape(p_simpy.target, simpys)
    assert _pending(ours) == _pending(simpys)
    with pytest.raises(ValueError, match="is not a generator"):
        ours.process(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Negative delay"):
        ours.timeout(-1.0)


@pytest.mark.parametrize("make", [Environment, simpy.Environment])
def test_a_process_gets_a_failure_and_ends_as_in_simpy(
        make: Callable[[], simpy.Environment]) -> None:
    env = make()
    boom = KeyError("boom")
    seen: list[tuple[bool, bool]] = []

    def waiter(ev: simpy.Event) -> Generator[simpy.Event, Any, str]:
        try:
            yield ev
        except KeyError as exc:   # its own copy, caused by the failure
            seen.append((exc is not boom, exc.__cause__ is boom))
        return "done"

    ev = env.event()
    p = env.process(waiter(ev))
    ev.fail(boom)
    run_until(env, 1.0)
    assert seen == [(True, True)]
    assert ev.defused
    assert not p.is_alive
    assert p.target is None        # a finished process waits for nothing
    assert p.value == "done"


@pytest.mark.parametrize("make", [Environment, simpy.Environment])
def test_a_failing_process_fails_as_in_simpy(make: Callable[[], simpy.Environment]) -> None:
    env = make()

    def broken() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1.0)
        raise KeyError("boom")

    caught: list[BaseException] = []

    def watcher(p: simpy.Process) -> Generator[simpy.Event, Any, None]:
        try:
            yield p
        except KeyError as exc:
            caught.append(exc)

    p = env.process(broken())
    env.process(watcher(p))
    run_until(env, 5.0)
    assert p.ok is False
    assert p.target is None
    assert env.active_process is None
    assert p.value.__traceback__ is not None
    assert len(caught) == 1


def test_can_continue_after_a_stop_like_simpy() -> None:
    logs = []
    for loop, make in ((run_until, simpy.Environment), (run_until, Environment),
                       (lambda env, t: env.run(until=t), simpy.Environment)):
        env = make()
        log: list[tuple[float, str]] = []
        _world(env, log)
        loop(env, 5.0)
        stopped = _pending(env)   # SimPy leaves its spent stop event scheduled, first at 5.0
        loop(env, 12.0)
        logs.append((log, next(env._eid), stopped))
    assert logs[0] == logs[1] == logs[2]
    assert (5.0, -1, logs[0][2][0][2]) == logs[0][2][0]


def test_an_unhandled_failure_crashes_the_run() -> None:
    env = Environment()

    def broken() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1.0)
        raise KeyError("boom")

    env.process(broken())
    with pytest.raises(KeyError, match="boom") as failed:
        run_until(env, 5.0)
    # as SimPy's step: a copy of the exception, caused by the process's own
    assert isinstance(failed.value.__cause__, KeyError)
    assert failed.value.__cause__ is not failed.value


def test_until_must_be_in_the_future() -> None:
    env = simpy.Environment()
    with pytest.raises(ValueError, match="greater than"):
        run_until(env, 0.0)


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_during_a_run_and_restored(
        monkeypatch: pytest.MonkeyPatch, enabled: bool) -> None:
    import gc

    from simsource.model import world
    from simsource.scenario import load_scenario

    seen: list[bool] = []

    def spy(env: simpy.Environment, until: float) -> None:
        seen.append(gc.isenabled())
        run_until(env, until)

    monkeypatch.setattr(world, "run_until", spy)
    sc = load_scenario("nacka-multi", {"scenario.years": 0.3, "scenario.warmup_years": 0.1})
    was = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        world.World(sc, 1, 0).run()
        assert seen == [False]
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
