"""Silence third-party warnings that are noise on our commands' output.

Import this module first in every entry point (``from notifications import quiet  # noqa``),
before anything imports oslo.messaging: futurist (pulled in by oslo.messaging) imports
eventlet only to probe whether it is installed, and eventlet's import prints a 10-line
EventletDeprecationWarning. We never use eventlet (our services run threaded), so the warning
says nothing about our code and would sit above every status table and every ``--json``.
Likewise dnspython (imported by eventlet) reads cryptography's DSA classes, which newer
cryptography releases deprecate: four 2-line CryptographyDeprecationWarnings per process.
"""

from __future__ import annotations

import warnings


def silence_third_party() -> None:
    """Ignore eventlet's deprecation notice (a ``Warning`` subclass, not DeprecationWarning)
    and cryptography's DSA notice raised inside dnspython (a ``UserWarning`` subclass)."""
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"dns\.")


silence_third_party()
