"""The recovery bench's P2 rows: one per database, the peers beside each, A/B options parsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import ours, peers, recovery


def test_mistral_options_become_sections() -> None:
    assert recovery.mistral_options(["yaql.convert_input_data=False",
                                     "scheduler.fixed_delay=0.2", "yaql.limit_iterators=5"]) \
        == {"yaql": {"convert_input_data": "False", "limit_iterators": "5"},
            "scheduler": {"fixed_delay": "0.2"}}
    with pytest.raises(SystemExit, match=r"SECTION\.KEY=VALUE"):
        recovery.mistral_options(["fixed_delay=0.2"])


def test_one_row_per_database_with_the_same_peers(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []

    def run_recovery(workdir: Path, n: int, latency: float, c: int, **kw: Any
                     ) -> dict[str, Any]:
        calls.append(dict(kw, workdir=workdir.name))
        return {"seconds": 70.0 if kw["db"] == "sqlite" else 50.0, "evacuable": 19}

    monkeypatch.setattr(ours, "run_recovery", run_recovery)
    monkeypatch.setattr(peers, "run_masakari", lambda *a, **kw: {"seconds": 30.0, "vms": 20})
    args = recovery._parser().parse_args(
        ["--peers", "ideal,ours,masakari_tuned", "--db", "sqlite,postgres",
         "--mistral-option", "yaql.convert_input_data=False", "--mistral-executors", "1",
         "--repeat", "1"])
    rows, info = recovery.p2_rows(tmp_path, 20, 10, 2.0, args)

    assert [(r["db"], r["ours_s"], r["masakari_tuned_s"]) for r in rows] == [
        ("sqlite", 70.0, 30.0), ("postgres", 50.0, 30.0)]
    assert all(r["ideal_s"] == peers.ideal(19, 10, 2.0) for r in rows)
    assert set(info["runs"]) == {"ours", "ours_postgres", "masakari_tuned"}
    assert [c["db"] for c in calls] == ["sqlite", "postgres"]
    assert calls[0]["mistral_config"] == {"yaql": {"convert_input_data": "False"}}
    assert calls[0]["mistral_executors"] == 1


def test_cpu_seconds_of_a_process_grow_with_its_work() -> None:
    import os

    before = ours._cpu(os.getpid())
    deadline = before + 0.05
    while ours._cpu(os.getpid()) < deadline:  # burn CPU until /proc shows 50 ms more
        sum(i * i for i in range(10_000))
    assert ours._cpu(os.getpid()) >= deadline
    assert ours._cpu(2**22 + 12345) == 0.0  # a pid that does not exist


def test_cpu_lines_are_per_evacuable_vm() -> None:
    from bench import report

    details = {"rows": [{"evacuable": 20, "rows": [{"n": 20, "concurrency": 10}],
                         "runs": {"ours": [{"seconds": 9.0, "cpu_s": {"mistral": 8.0,
                                                                      "listeners": 1.0}}],
                                  "masakari_tuned": [{"seconds": 5.0}]}}]}
    assert report._cpu_lines(details) == [
        "      CPU per VM, ours N=20 C=10: Mistral 0.400 s; listeners 0.050 s"]
