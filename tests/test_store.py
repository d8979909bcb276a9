"""The results store: atomic verified chunks, identity of a folder, streaming final files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from simsource.errors import UserError
from simsource.experiment import chunks as ck
from simsource.experiment.parquetio import StreamingParquetWriter, table_bytes
from simsource.experiment.store import ResultStore
from simsource.scenario import Scenario, load_scenario, with_overrides

MONTHS = 4


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return load_scenario("nacka-multi")


def rows(reps: range, seed: int = 0) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Synthetic KPI and time-series rows: a deterministic function of (seed, replication)."""
    kpi, ts = [], []
    for i in reps:
        rng = np.random.default_rng([seed, i])
        kpi.append({"replication": i, "seed": seed, "innovations_per_year": float(rng.normal(10)),
                    "sla_breach_share": float("nan")})
        ts.append({"replication": i, "seed": seed, "month": [float(m) for m in range(MONTHS)],
                   "wip_project": [float(x) for x in rng.random(MONTHS)]})
    return kpi, ts


class Warnings(list[str]):
    def __call__(self, msg: str) -> None:
        self.append(msg)


def open_store(root: Path, sc: Scenario, seed: int = 0, requested: int = 10,
               overwrite: bool = False, warn: Warnings | None = None) -> ResultStore:
    return ResultStore.open(root, sc, seed, requested=requested, overwrite=overwrite,
                            command="test", warn=warn if warn is not None else Warnings())


def fill(store: ResultStore, blocks: list[range]) -> None:
    for block in blocks:
        store.write(*rows(block, store.seed))


def test_finalize_writes_the_contract_files_sorted_and_only_n_rows(tmp_path: Path,
                                                                   sc: Scenario) -> None:
    with open_store(tmp_path / "r", sc) as store:
        fill(store, [range(5, 10), range(0, 5), range(10, 12)])  # written out of order
        df = store.finalize(10)
    root = tmp_path / "r"
    for name in ("manifest.json", "scenario.toml", "replications.parquet",
                 "timeseries.parquet", "summary.csv"):
        assert (root / name).is_file(), name
    reps = pd.read_parquet(root / "replications.parquet")
    assert list(reps.columns[:3]) == ["scenario", "replication", "seed"]
    assert reps["replication"].tolist() == list(range(10))
    assert (reps["scenario"] == "nacka-multi").all()
    pd.testing.assert_frame_equal(reps, df)
    ts = pd.read_parquet(root / "timeseries.parquet")
    assert len(ts) == 10 * MONTHS
    assert ts["replication"].max() == 9
    summary = pd.read_csv(root / "summary.csv")
    assert list(summary.columns) == ["kpi", "mean", "std", "ci_low", "ci_high", "n"]
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["replications"] == 10
    assert manifest["finished"]
    assert manifest["kind"] == "run"
    assert manifest["seed"] == 0
    assert manifest["command"] == "test"
    for key in ("simsource_version", "scenario_hash", "python", "numpy", "simpy", "started"):
        assert manifest[key], key
    # what writing the folder cost, for make bench's store share (docs/results-format.md)
    timing = manifest["timing"]
    assert set(timing) == {"wall_s", "store_s", "store_wall_s"}
    assert 0 < timing["store_s"] <= timing["wall_s"]
    assert 0 < timing["store_wall_s"] <= timing["wall_s"]


def test_time_series_values_become_floats_and_missing_ones_nan(tmp_path: Path) -> None:
    """A whole series missing, a value missing, an integer value: float64, NaN (never null),
    the same bytes as writing the values one by one as floats."""
    ts = [{"replication": 0, "seed": 1, "a": [1.5, None, 3], "b": None},
          {"replication": 1, "seed": 1, "a": [0.0, 2.0, -1.0], "b": [4.0, 5.0, 6.0]}]
    table = ck.ts_table("x", ts)
    assert table.column("a").null_count == 0
    a = table.column("a").to_pylist()
    assert a[0] == 1.5
    assert np.isnan(a[1])
    assert a[2:] == [3.0, 0.0, 2.0, -1.0]
    assert all(isinstance(v, float) for v in a)
    assert np.isnan(table.column("b").to_pylist()[:3]).all()
    by_hand = pa.table({"scenario": ["x"] * 6, "replication": [0, 0, 0, 1, 1, 1],
                        "seed": [1] * 6, "a": [1.5, float("nan"), 3.0, 0.0, 2.0, -1.0],
                        "b": [float("nan")] * 3 + [4.0, 5.0, 6.0]})
    assert table_bytes(table) == table_bytes(by_hand.cast(table.schema))   # NaN != NaN
    with pytest.raises(ValueError, match="has 2 months, expected 3"):
        ck.ts_table("x", [*ts, {"replication": 2, "seed": 1, "a": [1.0, 2.0, 3.0],
                                "b": [1.0, 2.0]}])


def test_final_files_do_not_depend_on_chunking(tmp_path: Path, sc: Scenario) -> None:
    for name, blocks in (("a", [range(0, 12)]), ("b", [range(i, i + 1) for i in range(12)]),
                         ("c", [range(7, 12), range(0, 3), range(3, 7)])):
        with open_store(tmp_path / name, sc) as store:
            fill(store, blocks)
            store.finalize(12)
    for f in ("replications.parquet", "timeseries.parquet", "summary.csv"):
        data = {(tmp_path / n / f).read_bytes() for n in "abc"}
        assert len(data) == 1, f


def test_a_chunk_delivered_twice_is_stored_once(tmp_path: Path, sc: Scenario) -> None:
    with open_store(tmp_path / "r", sc) as store:
        fill(store, [range(0, 4), range(4, 8), range(0, 4)])  # a retried task, delivered again
        with pytest.raises(RuntimeError, match="already stored"):
            fill(store, [range(2, 6)])
        df = store.finalize(8)
    assert df["replication"].tolist() == list(range(8))
    assert len(list((tmp_path / "r" / "chunks").glob("*.json"))) == 2


def test_resume_keeps_sound_chunks(tmp_path: Path, sc: Scenario) -> None:
    with open_store(tmp_path / "r", sc) as store:
        fill(store, [range(0, 4), range(4, 8)])
    warn = Warnings()
    with open_store(tmp_path / "r", sc, requested=12, warn=warn) as store:
        assert store.missing(12) == [8, 9, 10, 11]
    assert warn == []


@pytest.mark.parametrize("damage", ["truncate_kpi", "truncate_ts", "flip_byte", "bad_sidecar",
                                    "wrong_range_in_sidecar"])
def test_a_damaged_chunk_is_reported_deleted_and_recomputed(tmp_path: Path, sc: Scenario,
                                                            damage: str) -> None:
    with open_store(tmp_path / "r", sc) as store:
        fill(store, [range(0, 4), range(4, 8)])
        good = store.finalize(8)
    folder = tmp_path / "r" / "chunks"
    stem = "r0000004-0000007"
    if damage == "truncate_kpi":
        path = folder / f"{stem}.kpi.parquet"
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "truncate_ts":
        path = folder / f"{stem}.ts.parquet"
        path.write_bytes(path.read_bytes()[:-10])
    elif damage == "flip_byte":
        path = folder / f"{stem}.kpi.parquet"
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "bad_sidecar":
        (folder / f"{stem}.json").write_text("{not json")
    else:
        meta = json.loads((folder / f"{stem}.json").read_text())
        meta["first"] = 5
        (folder / f"{stem}.json").write_text(json.dumps(meta))
    warn = Warnings()
    with open_store(tmp_path / "r", sc, warn=warn) as store:
        assert store.missing(8) == [4, 5, 6, 7]
        assert len(warn) == 1
        assert stem in warn[0]
        assert "computed again" in warn[0]
        assert not list(folder.glob(f"{stem}.*"))
        fill(store, [range(4, 8)])
        again = store.finalize(8)
    pd.testing.assert_frame_equal(good, again)


def test_an_uncommitted_chunk_is_removed_quietly(tmp_path: Path, sc: Scenario) -> None:
    with open_store(tmp_path / "r", sc) as store:
        fill(store, [range(0, 4), range(4, 8)])
        # killed while writing chunk 8-9: its names were recorded before the temporary file
        store.own.claim(*(f"chunks/r0000008-0000009{s}" for s in ck.SUFFIXES))
    folder = tmp_path / "r" / "chunks"
    (folder / "r0000004-0000007.json").unlink()  # killed before the commit mark
    (folder / ".tmp-r0000008-0000009.kpi.parquet.123").write_bytes(b"partial")
    # files simsource did not write are neither used nor deleted, whatever their names
    (folder / ".tmp-r0000010-0000011.kpi.parquet.9").write_bytes(b"the user's")
    (folder / "notes.txt").write_text("the user's")
    warn = Warnings()
    with open_store(tmp_path / "r", sc, warn=warn) as store:
        assert store.missing(8) == [4, 5, 6, 7]
    assert warn == []
    assert sorted(p.name for p in folder.iterdir()) == [
        ".tmp-r0000010-0000011.kpi.parquet.9", "notes.txt",
        "r0000000-0000003.json", "r0000000-0000003.kpi.parquet", "r0000000-0000003.ts.parquet"]


def test_a_folder_of_another_scenario_or_seed_is_refused(tmp_path: Path, sc: Scenario) -> None:
    root = tmp_path / "r"
    with open_store(root, sc, seed=1) as store:
        fill(store, [range(0, 3)])
    with pytest.raises(UserError, match=r"manifest.json: holds scenario nacka-multi \(hash "
                                        r"[0-9a-f]+, seed 1\).*use --overwrite or another --out"):
        open_store(root, sc, seed=2)
    other = with_overrides(sc, {"coordination.staff": 30})
    with pytest.raises(UserError, match="holds scenario"):
        open_store(root, other, seed=1)
    assert len(list((root / "chunks").glob("*.json"))) == 1  # nothing lost by refusing
    with open_store(root, other, seed=1, overwrite=True) as store:
        assert store.missing(3) == [0, 1, 2]
    assert json.loads((root / "manifest.json").read_text())["seed"] == 1


def test_broken_manifest_and_foreign_folder_are_clear_errors(tmp_path: Path, sc: Scenario) -> None:
    root = tmp_path / "r"
    root.mkdir()
    (root / "manifest.json").write_text("{oops")
    with pytest.raises(UserError, match=r"r/manifest.json: broken JSON"):
        open_store(root, sc)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    for overwrite in (False, True):  # --overwrite never writes into a folder of the user's
        with pytest.raises(UserError, match=r"not a simsource results folder.*notes\.txt"):
            open_store(foreign, sc, overwrite=overwrite)
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_a_folder_in_use_is_refused(tmp_path: Path, sc: Scenario) -> None:
    with open_store(tmp_path / "r", sc), pytest.raises(UserError, match="in use"):
        open_store(tmp_path / "r", sc)
    with open_store(tmp_path / "r", sc):  # released on close
        pass


def test_chunk_names_must_match_their_rows(tmp_path: Path) -> None:
    kpi, ts = rows(range(0, 3))
    table = ck.kpi_table("x", [kpi[0], kpi[2]])
    with pytest.raises(ValueError, match="contiguous"):
        ck.write_chunk(tmp_path, table, ck.ts_table("x", ts), {})


@pytest.mark.parametrize("sizes", [[10], [1] * 10, [3, 3, 4], [7, 1, 2]])
def test_streaming_writer_bytes_depend_only_on_content(tmp_path: Path, sizes: list[int]) -> None:
    table = pa.table({"replication": pa.array(range(10), pa.int64()),
                      "x": pa.array([i / 3 for i in range(10)], pa.float64())})
    path = tmp_path / "out.parquet"
    with StreamingParquetWriter(path, group_rows=4) as w:
        start = 0
        for size in sizes:
            w.write(table.slice(start, size))
            start += size
    reference = tmp_path / "ref.parquet"
    with StreamingParquetWriter(reference, group_rows=4) as w:
        w.write(table)
    assert path.read_bytes() == reference.read_bytes()
    assert pd.read_parquet(path)["x"].tolist() == table.column("x").to_pylist()


def test_streaming_writer_leaves_nothing_on_error(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    writer = StreamingParquetWriter(path, group_rows=2)
    writer.write(pa.table({"a": [1, 2, 3]}))
    writer.__exit__(RuntimeError, RuntimeError("boom"), None)
    assert list(tmp_path.iterdir()) == []
