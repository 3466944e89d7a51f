"""The harness's free ports: never from the kernel's ephemeral range, never handed out twice."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from harness import process


def test_ports_come_from_below_the_ephemeral_range() -> None:
    low = process._ephemeral_low()
    ports = [process.free_port() for _ in range(20)]
    # an outgoing connection can take any port in the ephemeral range between our probe and
    # the component's bind (RabbitMQ: dist_port_already_used ... not_erlang)
    assert all(1024 <= port < low for port in ports)
    assert len(set(ports)) == len(ports)


def _listening_below_the_ephemeral_range() -> socket.socket:
    """A socket listening on a port whose next port is free too, below the ephemeral range.

    Not ``bind(0)``: the port after an ephemeral one may be any outgoing connection's, and
    the test would flake whenever something else runs (it did, beside functional tests).
    """
    rng = random.Random()
    high = process._ephemeral_low() - 100
    for _ in range(200):
        port = rng.randint(high - 5000, high)
        busy = socket.socket()
        try:
            busy.bind(("127.0.0.1", port))
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", port + 1))
        except OSError:
            busy.close()
            continue
        busy.listen()
        return busy
    raise AssertionError("no two adjacent free ports below the ephemeral range")


def test_a_listening_port_and_a_port_held_by_another_run_are_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(process, "_LOCK_DIR", tmp_path)
    monkeypatch.setattr(process, "_HANDED_OUT", {})
    with _listening_below_the_ephemeral_range() as busy:
        taken = busy.getsockname()[1]
        # a window of three ports: one listened on, one locked by another process, one free
        monkeypatch.setattr(process, "_ephemeral_low", lambda: taken + 2)
        monkeypatch.setattr(process, "_SPAN", 2)
        held, free = taken - 1, taken + 1
        other = subprocess.Popen(
            [sys.executable, "-c",
             "import fcntl, os, sys\n"
             f"fd = os.open({str(tmp_path / str(held))!r}, os.O_RDWR | os.O_CREAT)\n"
             "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\nsys.stdin.read()\n"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert other.stdout is not None and other.stdout.readline().strip() == "held"
            assert process.free_port() == free
            with pytest.raises(process.ComponentError, match="no free port"):
                process.free_port()  # the only free one is already handed out by this run
        finally:  # the other run holds its lock until its stdin closes
            assert other.stdin is not None
            other.stdin.close()
            other.wait(timeout=30)
