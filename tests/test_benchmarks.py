"""Smoke test of the benchmark harness (``make bench``): a tiny run writes the JSON with every
figure, its target and its status. No timing is asserted: the numbers of a quick run mean
nothing, only their presence does."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.run import FIGURES, main

ROOT = Path(__file__).resolve().parent.parent
FIELDS = {"label", "unit", "value", "target", "target_op", "target_value", "met", "status",
          "samples", "detail", "note"}
TARGETS = {"engine_overhead_ratio": (">=", 0.75), "parallel_efficiency": (">=", 0.85),
           "memory_ratio": ("<=", 1.3), "startup_help_s": ("<=", 0.5),
           "store_overhead_share": ("<=", 0.05), "warm_pool_speedup": (">=", 1.6),
           "app_first_result_s": ("<=", 3.0), "app_first_result_browser_s": ("<=", 3.0),
           "calibrate_point_s": ("<=", 6.0), "explore_point_s": ("<=", 3.0)}


@pytest.mark.slow
def test_quick_run_writes_every_figure_with_its_target(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--repeats", "1", "--quiet",
         "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["schema"] == 1
    assert report["settings"]["repeats"] == 1
    assert {"python", "cpus", "simpy", "model"} <= set(report["machine"])
    figures = report["figures"]
    # the pure-Python child says it ran as Python, whatever this process runs
    detail = figures["engine_overhead_ratio_pure"]["detail"]
    assert detail["pure_process_model"] == "pure Python (SIMSOURCE_PURE=1)"
    assert set(figures) == {key for key, *_ in FIGURES}
    for key, fig in figures.items():
        assert set(fig) >= FIELDS, key
        assert fig["status"] in {"met", "NOT MET", "-", "skipped"}, key
        if fig["value"] is None:
            assert fig["status"] == "skipped", key
            assert fig["note"], key
    for key, (op, bound) in TARGETS.items():
        fig = figures[key]
        assert (fig["target_op"], fig["target_value"]) == (op, bound), key
        assert fig["target"] == f"{op} {bound:.3f}", key
        if fig["value"] is not None:
            assert fig["met"] is (fig["value"] >= bound if op == ">=" else fig["value"] <= bound)
    # the in-process parts never depend on the command line, so they always have a value
    for key in ("engine_overhead_ratio", "engine_overhead_ratio_pure",
                "simsource_events_per_s", "simpy_events_per_s",
                "engine_overhead_ratio_matched", "concurrency_ceiling",
                "replication_s_nacka_multi", "sim_years_per_s_nacka_transfer_2017"):
        value = figures[key]["value"]
        assert isinstance(value, float), key
        assert math.isfinite(value), key
        assert value > 0, key
    # the printed table names every figure with its target
    for fig in figures.values():
        assert fig["label"] in proc.stdout
    assert "target" in proc.stdout
    assert "status" in proc.stdout


def test_the_engine_ratio_is_taken_pair_by_pair_so_a_drifting_host_cancels() -> None:
    """Each pair's halves see the same host; the host slows from repeat to repeat (to a half,
    then a third) and the long M/M/5 run falls on its fast moments. The model is 0.80, 0.82
    and 0.84 of bare SimPy in the three repeats: the pairs say so, repeat by repeat, and 0.82
    in all; the old far-apart ratio says 0.41."""
    from benchmarks.engine_overhead import _engine_figures
    from benchmarks.figures import Settings, new_figures

    s = Settings(repeats=3, engine_pairs=4, customers=1_000)
    pairs, multi, simpy = [], [], []
    for i in range(s.repeats):
        for j in range(s.engine_pairs):
            speed = 1.0 / (1 + i + 0.1 * j)           # events per microsecond of this moment
            model = 0.8 + 0.02 * i                    # the model's ratio in repeat i
            pairs.append({"pair": j, "model_first": float((i + j) % 2 == 0),
                          "simpy_customers": 100.0,
                          "model_events": 60_000.0, "model_wall_s": 60_000 / (model * 1e6 * speed),
                          "model_cpu_s": 60_000 / (model * 1e6 * speed),
                          "simpy_events": 600.0, "simpy_wall_s": 600 / (1e6 * speed),
                          "simpy_cpu_s": 600 / (1e6 * speed)})
        multi.append({"events": 120_000.0, "wall_s": 120_000 / ((0.8 + 0.02 * i) * 1e6 / (1 + i)),
                      "cpu_s": 1.0, "reps": 2.0, "years": 4.0})
        simpy.append({"events": 6_000.0, "wall_s": 6_000 / 1e6, "cpu_s": 1.0,
                      "mean_wait": 0.1})                # always at full speed
    rows = {"pairs": pairs, "nacka-multi": multi, "simpy": simpy,
            "nacka-transfer-2017": multi}
    figs = new_figures(s)
    _engine_figures(s, figs, rows)
    f = figs["engine_overhead_ratio"]
    assert len(f.samples) == s.repeats * s.engine_pairs
    assert f.value == pytest.approx(0.82)
    assert figs["engine_overhead_ratio_cpu"].value == pytest.approx(0.82)
    assert f.detail["pooled_per_repeat"] == pytest.approx([0.80, 0.82, 0.84])
    assert f.detail["far_apart_ratio"] == pytest.approx(0.82 / 2)   # the drift, not the model
    assert figs["simpy_events_per_s"].detail["long_run_events_per_s"] == pytest.approx(1e6)


def test_the_load_warning_names_other_work_not_the_suites_own() -> None:
    """The 1-minute load at the end counts the suite's own -j 2 parts: reported, no warning.
    Load before the suite began, or CPU time the hypervisor gave to others, is a warning."""
    from benchmarks.run import load_lines

    own = load_lines({"cpus": 2, "load_avg_start": [0.9], "load_avg_end": [3.0],
                      "cpu_steal_share": 0.01})
    assert not [x for x in own if x.startswith("warning")]
    assert "3.0 at the end" in own[-1]
    assert "CPU steal 1.0%" in own[-1]
    busy = load_lines({"cpus": 2, "load_avg_start": [4.5], "load_avg_end": [3.0]})
    assert busy[0].startswith("warning: load average 4.5 on 2 CPUs when the suite started")
    stolen = load_lines({"cpus": 2, "load_avg_start": [0.5], "cpu_steal_share": 0.12})
    assert stolen[0].startswith("warning: the hypervisor took 12%")
    assert load_lines({"cpus": 2}) == []


def test_unknown_part_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--only", "engine,nonsense"])
    assert exc.value.code == 2
    assert "nonsense" in capsys.readouterr().err


def test_the_bare_simpy_pair_runs_its_batch_on_as_many_processes_as_asked() -> None:
    """The bare-SimPy pair beside the parallel pairs: the same M/M/5 runs, in the command's
    own process (1) or on forked workers (2), with the same results."""
    outs = {}
    for jobs in (1, 2):
        p = subprocess.run([sys.executable, "-m", "benchmarks.mmc_simpy", "--batch", "4",
                            "--customers", "300", "--jobs", str(jobs)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120, check=True)
        out = outs[jobs] = json.loads(p.stdout.strip().splitlines()[-1])
        assert out["jobs"] == jobs
        assert len(out["cpu_s"]) == 4
        assert all(c > 0 for c in out["cpu_s"])
    assert outs[1]["in_this_process"] == 4
    assert outs[1]["processes"] == 1
    # at --jobs 2 every run is a worker's (which of the two takes how many is the OS's choice)
    assert outs[2]["in_this_process"] == 0
    assert 1 <= outs[2]["processes"] <= 2
    assert outs[2]["mean_wait"] == outs[1]["mean_wait"]       # same seeds, same runs
    assert len(set(outs[1]["mean_wait"])) == 4                 # each run its own seed


# ---- the harness's view of a command's process tree --------------------------------------------
_BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.8: pass\n"
_ORPHAN = (f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {_BURN!r}])\n"
           "time.sleep(0.4)\n")   # the child outlives this process, as a fork server does


def test_the_harness_counts_descendants_until_they_are_gone() -> None:
    psutil = pytest.importorskip("psutil")
    from benchmarks.harness import run_cmd

    p = run_cmd([sys.executable, "-c", _ORPHAN], cpu=True)
    assert p.returncode == 0, p.stderr
    assert p.tree_cpu_s >= 0.75            # the child's CPU, counted after the command ended too
    assert 0.2 < p.linger_s < 5.0          # it waited for the child
    assert not [c for c in psutil.Process().children(recursive=True)
                if c.status() != psutil.STATUS_ZOMBIE and "process_time" in " ".join(c.cmdline())]


class _CountingPs:
    """psutil as the tree sees it, counting the scans of the whole machine."""

    Error = OSError
    STATUS_ZOMBIE = "zombie"

    def __init__(self) -> None:
        self.scans = 0
        import psutil
        self._ps = psutil

    def process_iter(self, attrs: list[str]) -> object:
        self.scans += 1
        return self._ps.process_iter(attrs)

    def Process(self, pid: int) -> object:   # psutil's name
        return self._ps.Process(pid)


def test_the_harness_scans_the_machine_for_new_processes_rarely() -> None:
    """A scan reads every process of the machine; one per 20 ms poll took 8 % of a core, which
    a -j 2 command (both cores busy) lost and a -j 1 command did not."""
    pytest.importorskip("psutil")
    from benchmarks.harness import Tree

    ps = _CountingPs()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        tree = Tree(ps, child.pid, rescan_s=3600)
        for _ in range(50):
            tree.poll(memory=True)
    finally:
        child.kill()
        child.wait()
    assert ps.scans == 1
    assert tree.peak_main > 0


def test_an_ended_process_counts_with_its_final_cpu_and_leaves_the_tree() -> None:
    """An ended process waits as a zombie until its parent (or init, for a fork server whose
    command has ended) reaps it, which can take seconds: it is gone for the harness at once."""
    psutil = pytest.importorskip("psutil")
    from benchmarks.harness import Tree

    child = subprocess.Popen([sys.executable, "-c", _BURN.replace("0.8", "0.2")])
    try:
        tree = Tree(psutil, child.pid)
        while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
            tree.poll()
            time.sleep(0.01)
        tree.poll()                        # not reaped yet: this process has not waited
        assert child.pid not in tree.members
        assert tree.cpu[child.pid] >= 0.15
    finally:
        child.wait()


# a stand-in for the simsource daemon (its mark in the command line): once the command has
# started (the file exists), it forks a worker that burns 0.5 s of CPU; the daemon stays
_FAKE_DAEMON = """
import os, sys, time
flag = sys.argv[1]
while not os.path.exists(flag):
    time.sleep(0.01)
if os.fork() == 0:
    t = time.process_time()
    while time.process_time() - t < 0.5:
        pass
    os._exit(0)
time.sleep(60)
"""


def test_the_harness_counts_a_daemons_workers_as_the_commands_and_does_not_wait_for_it(
        tmp_path: Path) -> None:
    """The simsource daemon is a descendant of no later command, but the workers it forks for a
    command do the command's work: their CPU counts, and the command is over when they are
    gone, not the daemon."""
    pytest.importorskip("psutil")
    from benchmarks.harness import DAEMON_MARK, run_cmd

    flag = tmp_path / "started"
    fake = subprocess.Popen([sys.executable, "-c", _FAKE_DAEMON, str(flag), DAEMON_MARK])
    try:
        time.sleep(0.5)   # the daemon is older than the command
        p = run_cmd([sys.executable, "-c", f"open({str(flag)!r}, 'w').close()\n"
                     "import time; time.sleep(1.5)"], cpu=True)
        assert p.returncode == 0, p.stderr
        assert p.tree_cpu_s >= 0.4          # the worker's half second
        assert p.linger_s < 5.0             # not the daemon's minute
        assert fake.poll() is None
    finally:
        fake.kill()
        fake.wait()
