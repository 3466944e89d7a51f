"""harness.tcp_proxy: bytes flow, a partition holds them without closing, a heal delivers."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from harness.tcp_proxy import TcpProxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = TcpProxy(server.server_address[1]).start()
    yield proxy
    proxy.stop()
    server.shutdown()
    server.server_close()


def test_a_partition_holds_traffic_without_closing_and_a_heal_delivers_it(
        proxy: TcpProxy) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as conn:
        conn.sendall(b"before")
        assert conn.recv(100) == b"before"
        proxy.partition()
        conn.sendall(b"during")
        conn.settimeout(0.5)
        with pytest.raises(TimeoutError):  # no answer, and no RST or FIN either
            conn.recv(100)
        proxy.heal()
        conn.settimeout(5)
        assert conn.recv(100) == b"during"
    assert proxy.connections == 1


def test_a_connection_opened_during_a_partition_waits_for_the_heal(proxy: TcpProxy) -> None:
    proxy.partition()
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as conn:
        conn.sendall(b"hello")
        conn.settimeout(0.5)
        with pytest.raises(TimeoutError):
            conn.recv(100)
        assert proxy.connections == 0
        proxy.heal()
        conn.settimeout(5)
        assert conn.recv(100) == b"hello"
