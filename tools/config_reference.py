"""Write docs/ha-guide/config-reference.md from the options: ``python tools/config_reference.py``.

Runs ``oslo-config-generator --format yaml`` over ``etc/oslo-config-generator/*.conf`` (with
our ``oslo.config.opts.defaults`` hook, so the defaults are the ones our services run with)
and renders one table per group. oslo.log's options and oslo.messaging's are left to the
samples, except ``[DEFAULT] transport_url`` and the ``[oslo_messaging_rabbit]`` options whose
default we change. ``--check`` exits 1 when the file differs (tests/unit/test_packaging.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "docs/ha-guide/config-reference.md"
FILES = [("host-recovery.conf", "host-recovery.conf (listener, agents, operator CLI)"),
         ("actions.conf", "actions.conf (our action pack, in Mistral's virtualenv)")]
HEADER = """# Configuration reference

Generated from the options by `tools/config_reference.py` (`oslo-config-generator --format
yaml` over `etc/oslo-config-generator/*.conf`, with our `oslo.config.opts.defaults` hook); the
commented samples are `etc/host-recovery/*.conf.sample` (`make sample-config`).
oslo.messaging's and oslo.log's own options are in the samples; here only
`[oslo_messaging_rabbit]` options whose default we change.
Host policy fields (`enabled`, `mode`, `target_hosts`...) are not options: they live in the
host policy file or aggregate metadata (docs/policy.md).
"""


def _options(config: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "opts.yaml"
        generator = Path(sys.executable).parent / "oslo-config-generator"
        subprocess.run([str(generator), "--config-file",
                        str(REPO / "etc/oslo-config-generator" / config), "--format", "yaml",
                        "--output-file", str(out)], check=True, cwd=REPO,
                       env=dict(os.environ, XDG_CACHE_HOME=tmp), capture_output=True)
        loaded: dict[str, Any] = yaml.safe_load(out.read_text())["options"]
        return loaded


def _oslo_defaults() -> dict[tuple[str, str], Any]:
    """oslo.messaging's own defaults, to keep only the ones we change."""
    from notifications.quiet import silence_third_party

    silence_third_party()  # before oslo.messaging's import: eventlet's 10-line notice
    from oslo_messaging import opts as om_opts

    return {(group or "DEFAULT", opt.dest): opt.default
            for group, opts in om_opts.list_opts() for opt in opts}


def _kept(group: str, opt: dict[str, Any], oslo: dict[tuple[str, str], Any]) -> bool:
    namespace = opt.get("namespace")
    if namespace == "oslo.log":
        return False
    if namespace == "oslo.messaging":
        if group == "DEFAULT":
            return bool(opt["name"] == "transport_url")
        # processname's default is the running program's name: not one we set
        return group == "oslo_messaging_rabbit" and opt["dest"] != "processname" and \
            opt["default"] != oslo.get((group, opt["dest"]))
    return True


def _default(value: Any) -> str:
    return "" if value is None else str(value)


def render() -> str:
    """The whole document."""
    oslo = _oslo_defaults()
    lines = [HEADER]
    for config, title in FILES:
        lines.append(f"## {title}\n")
        for group, entry in _options(config).items():
            opts = [o for o in entry["opts"] if _kept(group, o, oslo)]
            if not opts:
                continue
            lines += [f"### [{group}]\n", "| option | type | default | meaning |",
                      "|---|---|---|---|"]
            for opt in opts:
                text = " ".join(str(opt.get("help") or "").split()).replace("|", "\\|")
                lines.append(f"| `{opt['name']}` | {opt['type']} | "
                             f"`{_default(opt['default'])}` | {text} |")
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the file is not what the options produce")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(REPO)} is stale: python tools/config_reference.py")
            return 1
        return 0
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
