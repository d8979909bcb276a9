"""Running things to time them: progress lines, interleaved repeats, commands as a user runs
them (wall time, peak memory of the process tree), scratch folders."""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HEAVY_MODULES = ("pandas", "matplotlib", "pyarrow", "scipy", "streamlit", "dask")


# ---- progress ------------------------------------------------------------------------------
class Clock:
    def __init__(self, quiet: bool) -> None:
        self.t0 = time.perf_counter()
        self.quiet = quiet

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def say(self, msg: str) -> None:
        if not self.quiet:
            print(f"[bench {self.elapsed:6.1f}s] {msg}", file=sys.stderr, flush=True)


def rotated(items: Sequence[Any], i: int) -> list[Any]:
    k = i % len(items)
    return [*items[k:], *items[:k]]


# ---- the command line, as a user runs it -----------------------------------------------------
def simsource_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "simsource"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "simsource"]


def cli_available() -> tuple[bool, str]:
    """Whether ``simsource run`` exists (and why not)."""
    try:
        p = subprocess.run([*simsource_cmd(), "run", "--help"], cwd=ROOT, capture_output=True,
                           text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"simsource could not be started: {exc}"
    if p.returncode != 0:
        return False, "`simsource run` is not available yet (simsource/cli/experiment_cmds.py)"
    return True, ""


@dataclass
class Proc:
    wall_s: float
    returncode: int
    stdout: str
    stderr: str
    peak_tree_rss: int = 0      # bytes: largest sum of RSS over the process and its descendants
    peak_main_rss: int = 0      # bytes: largest RSS of the command's own process
    rss_method: str = ""
    tree_cpu_s: float = 0.0     # CPU seconds of the process and its descendants (with cpu=True)
    linger_s: float = 0.0       # how long its descendants outlived it (with cpu=True)


#: in the command line of a simsource daemon and of each worker it forks
DAEMON_MARK = "simsource.experiment.daemon"

class Tree:
    """A command's process tree as psutil sees it (the command, a fork server, its workers):
    its members' CPU seconds and RSS read at every :meth:`poll`, the members themselves found
    again only every ``rescan_s``. Finding them reads every process of the machine (about
    1 ms); doing that every 20 ms took 8 % of a core, which a ``-j 2`` command, using both
    cores, lost and a ``-j 1`` command did not. A member found late still counts all its CPU
    (the counter is cumulative); one that starts and ends between two scans is missed."""

    def __init__(self, ps: Any, pid: int, rescan_s: float = 0.25) -> None:
        self.ps, self.rescan_s = ps, rescan_s
        self.root = ps.Process(pid)
        self.members: dict[int, Any] = {pid: self.root}
        self.cpu: dict[int, float] = {}      # pid -> CPU seconds so far
        self.peak_tree = self.peak_main = 0  # bytes
        self.daemons: set[int] = set()       # simsource daemons (they outlive the command)
        self._kind: dict[int, bool] = {}     # pid -> runs daemon code (read once per pid)
        self._scanned = -math.inf
        self._born = self.root.create_time()

    def _marked(self, p: Any) -> bool:
        """Whether ``p`` runs simsource's daemon code (the daemon or a worker it forked)."""
        if p.pid not in self._kind:
            try:
                self._kind[p.pid] = DAEMON_MARK in " ".join(p.cmdline())
            except self.ps.Error:
                self._kind[p.pid] = False
        return self._kind[p.pid]

    def _scan(self) -> None:
        """The command's descendants, and the workers a simsource daemon forked for it: a
        daemon outlives the command that started it and is a descendant of none of the later
        ones, but its children born since the command started work for the command (on a quiet
        machine, for no other). A worker is a fork of its daemon (the same command line): a
        daemon is a marked process whose parent is not marked."""
        try:
            procs = {p.pid: p for p in self.ps.process_iter(["ppid", "create_time"])}
        except self.ps.Error:
            return
        kids: dict[int, list[Any]] = {}
        for p in procs.values():
            kids.setdefault(p.info["ppid"], []).append(p)

        def parent_marked(p: Any) -> bool:
            parent = procs.get(p.info["ppid"])
            return parent is not None and self._marked(parent)

        todo = [self.root.pid]
        for pid, p in procs.items():
            if p.info["create_time"] >= self._born and self._marked(p) and parent_marked(p):
                self.members.setdefault(pid, p)   # a worker forked for this command
                todo.append(pid)
        while todo:
            for k in kids.get(todo.pop(), []):
                if k.pid not in self.members:
                    self.members[k.pid] = k
                    todo.append(k.pid)
        self.daemons.update(pid for pid in self.members if pid in procs
                            and self._marked(procs[pid]) and not parent_marked(procs[pid]))

    def poll(self, memory: bool = False) -> None:
        now = time.perf_counter()
        if now - self._scanned >= self.rescan_s:
            self._scanned = now
            self._scan()
        total = 0
        for pid, p in list(self.members.items()):
            try:
                with p.oneshot():
                    t = p.cpu_times()
                    rss = p.memory_info().rss if memory else 0
                    ended = p.status() == self.ps.STATUS_ZOMBIE
            except self.ps.Error:
                del self.members[pid]
                continue
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), t.user + t.system)
            if ended:   # its counters are final; reaped whenever its parent (or init) gets to it
                del self.members[pid]
                continue
            total += rss
            if pid == self.root.pid:
                self.peak_main = max(self.peak_main, rss)
        self.peak_tree = max(self.peak_tree, total)


_RUSAGE_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.run(sys.argv[1:]).returncode\n"
    "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stderr.write(f'\\nBENCH-MAXRSS-KB {kb}\\n')\n"
    "sys.exit(rc)\n"
)


def linger(tree: Tree, limit: float = 10.0) -> float:
    """Seconds until every descendant of the finished command is gone (a fork server ends after
    the command that started it, holding its stdout and stderr and a core until then), at most
    ``limit``, counting their CPU meanwhile; the next command then starts on a machine as quiet
    as the first."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        tree.poll()
        if not any(pid != tree.root.pid and pid not in tree.daemons for pid in tree.members):
            break
        time.sleep(0.005)
    return time.perf_counter() - t0


def run_cmd(args: Sequence[str], memory: bool = False, timeout: float = 1800,
            cpu: bool = False, env: Mapping[str, str] | None = None) -> Proc:
    """Run a command from the project root and return its wall time, and:

    * with ``memory``, peak RSS: psutil polls the whole process tree every 20 ms
      (:class:`Tree`); without psutil, the peak RSS of the largest waited-for descendant from
      getrusage;
    * with ``cpu`` (and psutil), the CPU seconds of the whole tree (the command, a fork server,
      its workers), polled every 20 ms, so the last moments of each process are missed; the
      call then also waits until the tree is gone (``linger_s``, :func:`linger`);

    ``env`` adds to the environment (e.g. a fresh simsource daemon: ``SIMSOURCE_DAEMON_TAG``)."""
    args = list(args)
    ps: Any = None
    if cpu or memory:
        with contextlib.suppress(ImportError):
            ps = importlib.import_module("psutil")
    if memory and ps is None:
        args = [sys.executable, "-c", _RUSAGE_WRAPPER, *args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=err, text=True,
                             env={**os.environ, **env} if env else None)
        tree = Tree(ps, p.pid) if (memory or cpu) and ps is not None else None
        if tree is not None:
            with contextlib.suppress(ps.Error):
                while p.poll() is None:
                    tree.poll(memory)
                    time.sleep(0.02)
                    if time.perf_counter() - t0 > timeout:
                        p.kill()
        try:
            p.wait(timeout=max(1.0, timeout - (time.perf_counter() - t0)))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        wall = time.perf_counter() - t0
        lingered = linger(tree) if cpu and tree is not None else 0.0
        out.seek(0)
        err.seek(0)
        res = Proc(wall, p.returncode, out.read(), err.read(),
                   tree_cpu_s=sum(tree.cpu.values()) if tree is not None else 0.0,
                   linger_s=lingered)
    if memory:
        if tree is not None:
            res.peak_tree_rss, res.peak_main_rss = tree.peak_tree, tree.peak_main
            res.rss_method = "psutil"
        else:
            for line in res.stderr.splitlines():
                if line.startswith("BENCH-MAXRSS-KB "):
                    res.peak_tree_rss = res.peak_main_rss = int(line.split()[1]) * 1024
            res.rss_method = "getrusage(RUSAGE_CHILDREN) ru_maxrss"
    return res


def check(p: Proc, what: str) -> None:
    if p.returncode != 0:
        tail = "\n".join(p.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{what} failed (exit {p.returncode}): {tail}")


def run_args(scenario: str, n: int, out: Path, seed: int, jobs: int | None,
              sets: Sequence[str]) -> list[str]:
    args = [*simsource_cmd(), "run", scenario, "-n", str(n), "--seed", str(seed), "--quiet",
            "--out", str(out)]
    if jobs is not None:
        args += ["-j", str(jobs)]
    for kv in sets:
        args += ["--set", kv]
    return args


def manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def manifest_store_share(man: dict[str, Any], key: str = "store_s") -> float | None:
    """Store share from the store's timing, if the manifest has one:
    ``"timing": {"wall_s": ..., "store_s": ..., "store_wall_s": ...}`` (seconds); ``key``
    picks the store's seconds."""
    t = man.get("timing")
    if isinstance(t, dict):
        wall, store = t.get("wall_s"), t.get(key)
        if isinstance(wall, int | float) and isinstance(store, int | float) and wall > 0:
            return float(store) / float(wall)
    return None


_MODULE_PROBE = (
    "import atexit, json, sys\n"
    "HEAVY = {heavy!r}\n"
    "atexit.register(lambda: sys.stderr.write('\\nBENCH-MODULES ' + json.dumps(\n"
    "    sorted(m for m in HEAVY if m in sys.modules)) + '\\n'))\n"
    "sys.argv = ['simsource', *sys.argv[1:]]\n"
    "from simsource.cli import main\n"
    "main(prog_name='simsource')\n"
)


def heavy_modules(args: Sequence[str]) -> list[str] | None:
    """The heavy libraries that ``simsource ARGS`` imports in its own process."""
    code = _MODULE_PROBE.format(heavy=HEAVY_MODULES)
    # in its own process: a command run by the daemon would leave this one before the probe
    p = run_cmd([sys.executable, "-c", code, *args], env={"SIMSOURCE_DELEGATE": "0"})
    for line in p.stderr.splitlines():
        if line.startswith("BENCH-MODULES "):
            found: list[str] = json.loads(line.split(" ", 1)[1])
            return found
    return None


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="simsource-bench-"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)
