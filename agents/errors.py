"""Consecutive scan errors, counted across monitor runs in a small file.

Each monitor is a new process; the OCF agent passes a file next to its state file. A read
error of Pacemaker fails the monitor only after ``[agent] scan_error_threshold`` in a row:
one failed monitor already makes Pacemaker restart the resource.
"""

from __future__ import annotations

import contextlib
from pathlib import Path


class ErrorCounter:
    """Consecutive errors stored in ``path`` (missing or unreadable file: zero)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def count(self) -> int:
        try:
            return max(0, int(self.path.read_text().strip() or 0))
        except (OSError, ValueError):
            return 0

    def failed(self) -> int:
        """Count one more error; the new count."""
        count = self.count() + 1
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"{count}\n")
        return count

    def succeeded(self) -> None:
        """A scan that read Pacemaker: the count starts again."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
