"""``host-recovery-harness up [--detach]`` and ``down``: the whole chain, kept running.

``up`` starts the stack (with Pacemaker when it can) and records itself in
:data:`~harness.cluster_trigger.STATE_FILE` (pid, workdir, URLs); ``up --detach`` runs that in
a new session and returns once it is ready; ``down`` stops the recorded one. The state file
is what ``make test`` looks for: a detached Pacemaker holds the fixed system paths.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from harness import options
from harness.cluster_trigger import STATE_FILE
from harness.process import tail
from harness.stack import BIN, Stack


def up(args: argparse.Namespace) -> int:
    """Start everything; wait for SIGTERM/Ctrl-C (foreground) or return once ready."""
    if (running := read_state()) is not None:
        print(f"already up (pid {running['pid']}, {running['workdir']}): "
              "host-recovery-harness down", file=sys.stderr)
        return 1
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="host-recovery-"))
    if args.detach:
        return _detach(args, workdir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Stack(workdir, options.stack_options(args)) as stack:
        state = _state(stack)
        STATE_FILE.write_text(json.dumps(state, indent=2), encoding="utf-8")
        try:
            print(describe(state, detached=False), flush=True)
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            STATE_FILE.unlink(missing_ok=True)
    return 0


def down(_args: argparse.Namespace, timeout: float = 120.0) -> int:
    """Stop the stack ``up`` recorded; 0 also when nothing runs."""
    state = read_state()
    if state is None:
        print("nothing is up")
        return 0
    pid = int(state["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            print(f"pid {pid} still runs after {timeout:.0f} s", file=sys.stderr)
            return 1
        time.sleep(0.5)  # another session's process: no child to wait() on
    STATE_FILE.unlink(missing_ok=True)
    print(f"stopped (pid {pid}; files kept in {state['workdir']})")
    return 0


def read_state() -> dict[str, Any] | None:
    """The running ``up``'s record, or None (a stale record of a dead pid is removed)."""
    try:
        state: dict[str, Any] = json.loads(STATE_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not _alive(int(state.get("pid", 0))):
        STATE_FILE.unlink(missing_ok=True)
        return None
    return state


def describe(state: dict[str, Any], detached: bool) -> str:
    """How to reach status, metrics and Mistral's API, and how to stop."""
    stop = "host-recovery-harness down" if detached else "Ctrl-C (or SIGTERM)"
    trigger = ("Pacemaker (stonith_admin --confirm NODE fails a host's fencing)"
               if state["pacemaker"] else f"host-recovery-notify ({state['trigger_note']})")
    return "\n".join([
        f"workdir    {state['workdir']}",
        f"status     {BIN / 'host-recovery'} --config-file {state['operator_conf']} status",
        f"metrics    {' '.join(state['metrics']) or '(not found)'}",
        f"mistral    {state['mistral']}",
        f"nova       {state['nova']}   keystone {state['keystone']}",
        f"control    {state['control']}   (POST /_sim/hosts/NAME/fail)",
        f"broker     {state['broker']}",
        f"host-downs {trigger}",
        f"stop       {stop}",
    ])


def _detach(args: argparse.Namespace, workdir: Path, timeout: float = 600.0) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [a for a in sys.argv[1:] if a != "--detach"]
    if args.workdir is None:
        argv += ["--workdir", str(workdir)]
    log = workdir / "up.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "harness.cmd", *argv], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    deadline = time.monotonic() + timeout
    while (state := read_state()) is None or state["pid"] != proc.pid:
        if proc.poll() is not None or time.monotonic() > deadline:
            print(f"up failed (see {log}):\n{tail(log)}", file=sys.stderr)
            return 1
        time.sleep(0.5)  # the child writes its state file once every component is ready
    print(describe(state, detached=True))
    return 0


def _state(stack: Stack) -> dict[str, Any]:
    assert stack.mistral is not None and stack.simulator is not None
    metrics = [url for listener in stack.listeners if listener.proc is not None
               for url in _metrics_urls(listener.proc.pid)]
    return {"pid": os.getpid(), "workdir": str(stack.workdir),
            "operator_conf": str(stack.write_operator_config(metrics)),
            "mistral": stack.mistral.api_url, "nova": stack.simulator.compute_url,
            "keystone": stack.simulator.auth_url, "control": stack.simulator.control_url,
            "broker": stack.cloud_url, "pacemaker": stack.trigger is not None,
            "trigger_note": stack.trigger_note, "metrics": metrics}


def _metrics_urls(pid: int) -> list[str]:
    """The listener's exporter (port 0: any free port) from its listening sockets."""
    done = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, timeout=10,
                          check=False)
    return [f"http://{m.group(1)}/metrics" for line in done.stdout.splitlines()
            if f"pid={pid}," in line and (m := re.search(r"\s(127\.0\.0\.1:\d+)\s", line))]


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_free() -> int:
    """``make test``: 1 with one clear line when a Pacemaker already holds this machine."""
    from harness.cluster_trigger import unavailable

    if (state := read_state()) is not None:
        print(f"make test: `host-recovery-harness up --detach` is still running (pid "
              f"{state['pid']}, Pacemaker {'on' if state['pacemaker'] else 'off'}): "
              "run `host-recovery-harness down` first", file=sys.stderr)
        return 1
    reason = unavailable()
    if reason is not None and "already runs" in reason:
        print(f"make test: {reason}; the Pacemaker tests need the machine's cluster paths: "
              "stop it first", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(check_free())
