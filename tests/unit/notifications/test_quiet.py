"""Entry points import notifications.quiet first: third-party import noise stays off our output."""

import subprocess
import sys
import warnings

from notifications import quiet


def test_a_process_importing_eventlet_and_dnspython_prints_no_warning() -> None:
    # eventlet's own notice, and cryptography's DSA notice raised inside dnspython (both
    # printed by a listener at start before this filter: four per process, on the demo)
    done = subprocess.run(
        [sys.executable, "-c", "import notifications.quiet, eventlet, dns.dnssecalgs"],
        capture_output=True, text=True, timeout=60, check=True)
    assert done.stderr == ""


def test_the_same_words_from_our_own_code_still_show() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet.silence_third_party()
        warnings.warn_explicit("DSA is deprecated", UserWarning, "dsa.py", 14,
                               module="dns.dnssecalgs.dsa")
        warnings.warn_explicit("DSA is deprecated", UserWarning, "ours.py", 1,
                               module="listener.service")
    assert [str(w.message) for w in caught] == ["DSA is deprecated"]
    assert caught[0].filename == "ours.py"
