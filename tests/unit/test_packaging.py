"""Packaging and code-base rules that are easy to break unnoticed."""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["listener", "notifications", "agents", "workflows", "devtools/simulator",
            "devtools/harness", "devtools/bench"]


@pytest.mark.parametrize("name", ["host-recovery", "actions"])
def test_the_sample_config_is_what_the_generator_produces(tmp_path: Path, name: str) -> None:
    out = tmp_path / "sample.conf"
    generator = Path(sys.executable).parent / "oslo-config-generator"
    subprocess.run([str(generator), "--config-file",
                    str(REPO / f"etc/oslo-config-generator/{name}.conf"),
                    "--output-file", str(out)], check=True, cwd=REPO, capture_output=True,
                   # stevedore caches entry points per sys.path; a stale cache hides new ones
                   env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    committed = (REPO / f"etc/host-recovery/{name}.conf.sample").read_text()
    assert out.read_text() == committed, "run `make sample-config` and commit the result"


def test_the_configuration_reference_is_what_the_options_produce() -> None:
    done = subprocess.run([sys.executable, str(REPO / "tools/config_reference.py"), "--check"],
                          cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_eventlet_in_our_code() -> None:
    offenders = []
    for package in [*PACKAGES, "workflows/actions/host_recovery_actions"]:
        for path in (REPO / package).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(n.split(".")[0] == "eventlet" for n in names):
                    offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def _setup(path: str) -> configparser.ConfigParser:
    setup = configparser.ConfigParser()
    setup.read(REPO / path)
    return setup


def test_setup_cfg_declares_the_commands_and_the_config_entry_point() -> None:
    setup = _setup("setup.cfg")
    scripts = setup["entry_points"]["console_scripts"]
    for command in ("host-recovery-listener", "host-recovery-notify", "host-recovery "):
        assert command in scripts + " ", command
    assert "oslo.config.opts" in setup["entry_points"]


def test_controllers_never_get_the_development_tools() -> None:
    production = _setup("setup.cfg")
    assert production["files"]["packages"].split() == [
        "listener", "notifications", "agents", "workflows"]
    for tool in ("simulator", "harness", "bench"):
        assert tool not in production["entry_points"]["console_scripts"]
    devtools = _setup("devtools/setup.cfg")
    assert devtools["metadata"]["name"] == "host-recovery-devtools"
    assert devtools["files"]["packages"].split() == ["simulator", "harness", "bench"]
    scripts = devtools["entry_points"]["console_scripts"]
    assert "host-recovery-simulator" in scripts and "host-recovery-harness" in scripts


@pytest.mark.parametrize("module", ["contract.py", "fencing_evidence.py"])
def test_the_action_pack_contract_is_a_byte_identical_copy(module: str) -> None:
    # the pack runs in Mistral's virtualenv without our packages: it ships its own copy
    ours = (REPO / "notifications" / module).read_bytes()
    pack = (REPO / "workflows/actions/host_recovery_actions" / module).read_bytes()
    assert pack == ours, f"cp notifications/{module} workflows/actions/host_recovery_actions/"


# files that run in another virtualenv (Mistral's, Masakari's), with that one's packages
OTHER_VENVS = {"devtools/harness/mistral_server.py", "devtools/bench/masakari_driver.py"}
# first-party import names (ours, the devtools', the repo's test tree)
FIRST_PARTY = {"listener", "notifications", "agents", "workflows", "simulator", "harness",
               "bench", "host_recovery_actions", "tests"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(requirements: str) -> set[str]:
    names = set()
    for raw in (REPO / requirements).read_text().splitlines():
        line = raw.split("#")[0].strip()
        if line:
            names.add(_canonical(re.split(r"[\[<>=!~;\s]", line, maxsplit=1)[0]))
    return names - {"pbr"}  # the build's (setup.py's setup_requires), imported by none


def _imported(folders: list[str], skip: tuple[str, ...] = ()) -> set[str]:
    """Distributions of the third-party top-level modules ``folders`` import."""
    modules: set[str] = set()
    for folder in folders:
        for path in (REPO / folder).rglob("*.py"):
            rel = str(path.relative_to(REPO))
            if rel in OTHER_VENVS or path.name == "setup.py" or rel.startswith(skip):
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=rel)):
                if isinstance(node, ast.Import):
                    modules |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    third_party = modules - FIRST_PARTY - set(sys.stdlib_module_names) - {"__future__"}
    owners = importlib.metadata.packages_distributions()
    unknown = sorted(m for m in third_party if m not in owners)
    assert unknown == [], f"imported but installed by no distribution: {unknown}"
    return {_canonical(owners[m][0]) for m in third_party}


@pytest.mark.parametrize(("requirements", "folders", "skip"), [
    # the action pack (workflows/actions) is its own distribution with its own list
    ("requirements.txt", ["listener", "notifications", "agents", "workflows"],
     ("workflows/actions/",)),
    ("devtools/requirements.txt", ["devtools"], ()),
])
def test_requirements_declare_exactly_what_the_code_imports(
        requirements: str, folders: list[str], skip: tuple[str, ...]) -> None:
    imported, declared = _imported(folders, skip), _declared(requirements)
    assert sorted(imported - declared) == [], f"imported, not declared in {requirements}"
    assert sorted(declared - imported) == [], f"declared in {requirements}, never imported"
