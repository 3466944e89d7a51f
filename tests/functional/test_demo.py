"""`make demo`'s scenario, non-interactively, through Pacemaker: counts and outcomes only.

Runs ``host-recovery-harness demo --no-watch`` as an operator would (its own process, every
component real): the compute node's fencing is recorded in a single-node Pacemaker configured
by etc/pcs/host-recovery.pcs.sh, our agents publish the host-down, the listeners start the
workflow, every VM of the failed host is evacuated. Timings are the demo's to print, not ours
to assert (2 shared cores).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.rabbit, pytest.mark.mistral, pytest.mark.pacemaker,
              pytest.mark.slow]

HARNESS = Path(sys.executable).parent / "host-recovery-harness"


def test_demo_recovers_every_vm_through_pacemaker(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    done = subprocess.run([str(HARNESS), "demo", "--no-watch", "--hosts", "3",
                           "--vms-per-host", "6", "--latency", "0.2-0.6",
                           "--workdir", str(workdir)],
                          capture_output=True, text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Warning" not in output, "warning noise on the demo's output"
    assert "Traceback" not in output
    summary = json.loads((workdir / "summary.json").read_text())
    assert summary["trigger"] == "pacemaker", summary["trigger_note"]
    assert (summary["state"], summary["outcome"]) == ("done", "done")
    assert summary["vms"] == 6
    # The seeded cloud's compute1 has VMs in ERROR, which the default policy skips.
    results = summary["results"]
    assert set(results) <= {"evacuated", "skipped"}, results
    assert results["evacuated"] >= 4 and sum(results.values()) == 6, results
    assert summary["counts"]["failed"] == 0
    assert summary["nova_calls"] >= 2 * results["evacuated"]  # a read and an evacuate each
    assert "Pacemaker: HostRecovery resource and alert agent" in output
    assert f"incident {summary['incident']} confirmed by the broker" in output
    running = subprocess.run(["pgrep", "-x", "pacemakerd"], capture_output=True, check=False)
    assert running.returncode == 1, "the demo left Pacemaker running"
