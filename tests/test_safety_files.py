"""What simsource will and won't do to your files (issue 14): ownership by record.

``--overwrite`` removes only what the folder's record says simsource wrote and refuses, naming
one, when anything else is inside — in run, compare and sweep folders and their members. Old
folders without a record still load and resume. Folders are locked without lock files; stale
temporary files are cleaned; environment problems are exit 2 with the path.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from simsource.cli import main
from simsource.errors import UserError
from simsource.experiment import load_results
from simsource.experiment.folders import lock_folder, unlock_folder
from simsource.experiment.ownership import JOURNAL, Ownership

TINY = ["-n", "2", "-j", "1", "-q", "--set", "scenario.years=0.5",
        "--set", "scenario.warmup_years=0.25"]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def refused(result: Result, *fragments: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    return result.stderr


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def run_into(out: Path, *extra: str) -> Result:
    return invoke("run", "nacka-multi", *TINY, "--out", str(out), *extra)


def sweep_into(out: Path, values: str = "8,10", *extra: str) -> Result:
    return invoke("sweep", "nacka-multi", "--vary", f"coordination.staff={values}", *TINY,
                  "--out", str(out), *extra)


def compare_into(out: Path, *extra: str) -> Result:
    return invoke("compare", "nacka-multi", "nacka-single", *TINY, "--out", str(out), *extra)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One run (with plots and a report), one sweep and one comparison, copied per test."""
    base = tmp_path_factory.mktemp("made")
    ok(run_into(base / "run"))
    ok(invoke("plot", str(base / "run")))
    ok(invoke("report", str(base / "run")))
    ok(sweep_into(base / "sweep"))
    ok(compare_into(base / "compare"))
    return {k: base / k for k in ("run", "sweep", "compare")}


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst, symlinks=True)
    return dst


FOREIGN = [
    ("run", "plots/fig.png"),
    ("run", "notes.txt"),
    ("run", "chunks/keep.txt"),
    ("run", "design.csv"),             # a name simsource writes elsewhere, not here
    ("sweep", "points/p0000/keep.txt"),
    ("sweep", "points/p0099/result.csv"),
    ("sweep", "mine/"),
    ("compare", "nacka-multi/keep.txt"),
    ("compare", "plots/fig.svg"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "rel"), FOREIGN, ids=[f"{k}:{r}" for k, r in FOREIGN])
def test_overwrite_never_deletes_a_foreign_file(kind: str, rel: str, made: dict[str, Path],
                                                tmp_path: Path) -> None:
    root = _copy(made[kind], tmp_path / kind)
    target = root / rel
    parts = rel.rstrip("/").split("/")  # the foreign path named: the first new part
    named = next("/".join(parts[:i]) for i in range(1, len(parts) + 1)
                 if not (root / "/".join(parts[:i])).exists())
    if rel.endswith("/"):
        target.mkdir(parents=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("the user's")
    before = tree(root)
    again = {"run": lambda: run_into(root, "--seed", "7", "--overwrite"),
             "sweep": lambda: sweep_into(root, "8,12", "--overwrite"),
             "compare": lambda: compare_into(root, "--seed", "7", "--overwrite")}[kind]
    message = refused(again(), "simsource did not write", named)
    assert "--overwrite" not in message.split("did not write")[1]  # not suggested: no help
    assert tree(root) == before  # nothing deleted, nothing written
    if not rel.endswith("/"):
        assert target.read_text() == "the user's"


@pytest.mark.slow
def test_without_overwrite_the_message_says_overwrite_would_not_help(made: dict[str, Path],
                                                                     tmp_path: Path) -> None:
    root = _copy(made["run"], tmp_path / "run")
    refused(run_into(root, "--seed", "7"), "use --overwrite or another --out")
    (root / "plots" / "fig.png").write_text("the user's")
    refused(run_into(root, "--seed", "7"), "--overwrite would not help", "plots/fig.png")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["run", "sweep", "compare"])
def test_overwrite_removes_exactly_what_simsource_wrote(kind: str, made: dict[str, Path],
                                                        tmp_path: Path) -> None:
    root = _copy(made[kind], tmp_path / kind)
    {"run": lambda: ok(run_into(root, "--seed", "7", "--overwrite")),
     "sweep": lambda: ok(sweep_into(root, "8,12", "--overwrite")),
     "compare": lambda: ok(compare_into(root, "--seed", "7", "--overwrite"))}[kind]()
    fresh = tmp_path / "fresh"
    {"run": lambda: ok(run_into(fresh, "--seed", "7")),
     "sweep": lambda: ok(sweep_into(fresh, "8,12")),
     "compare": lambda: ok(compare_into(fresh, "--seed", "7"))}[kind]()
    assert tree(root) == tree(fresh)  # no plots, report or old points left behind
    assert load_results(root).manifest["seed"] == (0 if kind == "sweep" else 7)


@pytest.mark.slow
def test_the_manifest_lists_every_file_and_folder(made: dict[str, Path]) -> None:
    for kind, root in made.items():
        record = Ownership.load(root)
        assert not record.legacy
        on_disk = {p + "/" if (root / p).is_dir() else p for p in tree(root)
                   if "/" not in p or kind == "run"}
        listed = set(json.loads((root / ("compare.json" if kind == "compare" else
                                         "manifest.json")).read_text())["written"])
        assert on_disk - {JOURNAL} <= listed | set(record.paths), kind
        assert record.first_foreign() is None


def _strip_record(root: Path) -> None:
    """A folder as simsource 0.1 left it: no journal, no "written" list, a .lock file."""
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        (folder / JOURNAL).unlink(missing_ok=True)
        for name in ("manifest.json", "compare.json"):
            path = folder / name
            if path.is_file():
                data = json.loads(path.read_text())
                data.pop("written", None)
                path.write_text(json.dumps(data))
        if (folder / "manifest.json").is_file():
            (folder / ".lock").write_text("")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["run", "sweep", "compare"])
def test_old_folders_load_resume_and_overwrite_by_format(kind: str, made: dict[str, Path],
                                                         tmp_path: Path) -> None:
    root = _copy(made[kind], tmp_path / kind)
    _strip_record(root)
    assert Ownership.load(root).legacy
    before = load_results(root).summary
    resume = {"run": lambda: run_into(root), "sweep": lambda: sweep_into(root),
              "compare": lambda: compare_into(root)}[kind]
    ok(resume())  # resumes (all replications on disk) and starts a record
    pd.testing.assert_frame_equal(load_results(root).summary, before)
    assert not Ownership.load(root).legacy
    _strip_record(root)
    (root / "notes.txt").write_text("the user's")
    overwrite = {"run": lambda: run_into(root, "--seed", "7", "--overwrite"),
                 "sweep": lambda: sweep_into(root, "8,12", "--overwrite"),
                 "compare": lambda: compare_into(root, "--seed", "7", "--overwrite")}[kind]
    refused(overwrite(), "notes.txt")
    (root / "notes.txt").unlink()
    ok(overwrite())
    assert not list(root.rglob(".lock"))


def test_compare_out_refuses_a_folder_that_is_not_a_results_folder(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("the user's")
    for extra in ([], ["--overwrite"]):
        refused(compare_into(mine, *extra), "not a simsource results folder", "thesis.tex")
    assert tree(mine) == {"thesis.tex"}


def test_a_refused_folder_keeps_no_lock_and_a_new_one_is_removed(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("the user's")
    refused(run_into(mine), "not a simsource results folder")
    assert tree(mine) == {"notes.txt"}
    new = tmp_path / "a" / "b" / "c"
    refused(invoke("run", "nacka-multi", "-n", "1", "-j", "1", "--seed", "1", "--set",
                   "operations.incidents_per_year.network=1e6", "--out", str(new)))
    assert not (tmp_path / "a").exists()


@pytest.mark.slow
def test_results_never_leave_the_results_folder(made: dict[str, Path], tmp_path: Path) -> None:
    """A symlink inside a results folder cannot lead a write elsewhere."""
    root = _copy(made["run"], tmp_path / "run")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "plots").rename(tmp_path / "old-plots")
    (root / "plots").symlink_to(outside, target_is_directory=True)
    own = Ownership.load(root)
    with pytest.raises(UserError, match="outside the results folder"):
        own.claim("plots/funnel.png")
    refused(invoke("plot", str(root)), "outside the results folder")
    assert not list(outside.iterdir())


@pytest.mark.slow
def test_plot_and_report_refuse_to_replace_a_users_file(made: dict[str, Path],
                                                        tmp_path: Path) -> None:
    root = _copy(made["run"], tmp_path / "run")
    (root / "plots" / "funnel.png").unlink()
    Ownership.load(root).forget("plots/funnel.png")
    (root / "plots" / "funnel.png").write_text("the user's")
    refused(invoke("plot", str(root), "--kind", "funnel"), "funnel.png", "not written by")
    assert (root / "plots" / "funnel.png").read_text() == "the user's"


@pytest.mark.slow
def test_stale_temporary_files_are_cleaned_and_foreign_ones_kept(made: dict[str, Path],
                                                                 tmp_path: Path) -> None:
    root = _copy(made["run"], tmp_path / "run")
    ours = root / ".tmp-summary.csv.4242"
    theirs = root / ".tmp-thesis.tex.4242"
    ours.write_text("half")
    theirs.write_text("the user's")
    ok(run_into(root))  # resume: nothing to compute, the stale file is ours to remove
    assert not ours.exists()
    assert theirs.read_text() == "the user's"


@pytest.mark.slow
def test_a_running_sweep_is_locked_against_a_concurrent_overwrite(made: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    root = _copy(made["sweep"], tmp_path / "sweep")
    fd = lock_folder(root, "simsource sweep")  # as a running sweep holds it
    try:
        refused(sweep_into(root, "8,12", "--overwrite"), "in use by another simsource sweep")
    finally:
        unlock_folder(fd)
    assert load_results(root).manifest["design_hash"]  # untouched


@pytest.mark.slow
def test_plot_exits_2_on_a_parquet_with_the_wrong_schema(made: dict[str, Path],
                                                         tmp_path: Path) -> None:
    root = _copy(made["run"], tmp_path / "run")
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_parquet(root / "replications.parquet")
    refused(invoke("plot", str(root)), "replications.parquet", "not a simsource results table")
    refused(invoke("report", str(root)), "replications.parquet")


@pytest.mark.parametrize(("code", "cause"), [(errno.EROFS, "read-only file system"),
                                             (errno.ENOSPC, "no space left"),
                                             (errno.EACCES, "permission denied")])
def test_environment_problems_exit_2_naming_the_path(code: int, cause: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only folder, a full disk, a missing permission (root ignores chmod, so the
    operating system's answer is simulated where simsource writes)."""
    import simsource.experiment.parquetio as pio

    def fail(path: Path, data: bytes) -> None:
        raise OSError(code, "simulated", str(path))

    monkeypatch.setattr(pio, "atomic_write_bytes", fail)
    message = refused(run_into(tmp_path / "r"), cause)
    assert "scenario.toml" in message or "manifest.json" in message
