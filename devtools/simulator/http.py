"""A threaded WSGI server (cheroot) on its own thread, with a clean stop."""

from __future__ import annotations

import threading
from typing import Any

from cheroot import wsgi


class HttpServer:
    """Serve ``app`` on ``host:port`` (port 0 = any free port, read ``port`` after start)."""

    def __init__(self, app: Any, host: str, port: int, threads: int, name: str) -> None:
        self._server = wsgi.Server((host, port), app, numthreads=threads,
                                   server_name=f"simulator-{name}", request_queue_size=128,
                                   timeout=30, shutdown_timeout=2)
        self._thread: threading.Thread | None = None
        self.name = name

    def start(self) -> None:
        """Bind now (so ``port`` is known), then serve on a daemon thread."""
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve,
                                        name=f"http-{self.name}", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        """The bound port."""
        bound: Any = self._server.bind_addr
        return int(bound[1])

    def stop(self) -> None:
        """Stop accepting, finish in-flight requests (bounded), join the thread."""
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
