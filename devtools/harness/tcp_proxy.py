"""A TCP proxy that can black-hole its traffic: a network partition without RST, for R6.

    proxy = TcpProxy(broker_port)       # listens on 127.0.0.1:proxy.port
    proxy.start()
    proxy.partition()                   # nothing moves either way; nothing is closed
    proxy.heal()                        # buffered bytes flow again, closes propagate
    proxy.stop()

While partitioned the proxy thread touches no socket: bytes sent by either side wait in the
kernel's buffers (as TCP retransmits during a real partition), new connections wait in the
listen backlog, a close by one side reaches the other only after ``heal``. A peer that gives
up (heartbeat timeout) and closes is seen by the other side after the partition, as in life.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading

from harness.process import free_port

CHUNK = 65536


class TcpProxy:
    """127.0.0.1:``port`` -> 127.0.0.1:``target``, one thread for every connection."""

    def __init__(self, target: int, port: int | None = None) -> None:
        self.target = target
        self.port = port or free_port()
        self.connections = 0
        self._open = threading.Event()  # set: traffic flows
        self._open.set()
        self._stop = threading.Event()
        self._held = threading.Event()  # set by the loop once it moves nothing
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._peer: dict[socket.socket, socket.socket] = {}

    @property
    def partitioned(self) -> bool:
        return not self._open.is_set()

    def start(self) -> TcpProxy:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        server.setblocking(False)
        self._server = server
        self._thread = threading.Thread(target=self._loop, name=f"tcp-proxy-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def partition(self) -> None:
        """Black-hole every connection, both ways; returns once nothing moves any more."""
        self._held.clear()
        self._open.clear()
        self._held.wait(5)

    def heal(self) -> None:
        self._open.set()

    def stop(self) -> None:
        """Close everything (both sides see a close); never raises."""
        self._stop.set()
        self._open.set()
        if self._thread is not None:
            self._thread.join(5)
        for sock in [*self._peer, *([self._server] if self._server else [])]:
            with contextlib.suppress(OSError):
                sock.close()
        self._peer.clear()

    # -- the loop ------------------------------------------------------------------------------
    def _loop(self) -> None:
        assert self._server is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._server, selectors.EVENT_READ)
            while not self._stop.is_set():
                if not self._open.is_set():
                    # the partition: no accept, no read, no write, no close
                    self._held.set()
                    self._open.wait(0.2)
                    continue
                for key, _ in sel.select(timeout=0.05):
                    if not self._open.is_set():
                        break  # partitioned mid-batch: leave the rest in the kernel
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self._server:
                        self._accept(sel)
                    elif sock in self._peer:
                        self._relay(sel, sock)

    def _accept(self, sel: selectors.BaseSelector) -> None:
        assert self._server is not None
        try:
            client, _ = self._server.accept()
        except BlockingIOError:
            return
        upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
        for sock in (client, upstream):
            sock.setblocking(True)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._peer[client], self._peer[upstream] = upstream, client
        sel.register(client, selectors.EVENT_READ)
        sel.register(upstream, selectors.EVENT_READ)
        self.connections += 1

    def _relay(self, sel: selectors.BaseSelector, sock: socket.socket) -> None:
        other = self._peer[sock]
        try:
            data = sock.recv(CHUNK)
            if data:
                other.sendall(data)
                return
        except OSError:
            pass
        # one side closed (or failed): close the pair, the other side sees it now
        for end in (sock, other):
            sel.unregister(end)
            self._peer.pop(end, None)
            with contextlib.suppress(OSError):
                end.close()
