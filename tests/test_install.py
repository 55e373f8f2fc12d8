"""Installed the way people install a tool: a wheel in a fresh venv, run from another folder.

The wheel is built from a copy of the sources (the repository gets no build/
folder) and installed without its dependencies into a new venv outside the
repository; the venv borrows the dependencies of the environment running these
tests through a .pth line (that folder's own .pth files, among them the
editable install of this repository, are not run), so no network is needed.
Everything of the assistant itself, code and package data, comes from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
from helpers import REPO

IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".home", "test-results", "tests"
)


@dataclass
class Installed:
    root: Path  # the venv
    elsewhere: Path  # a folder that is not the repository, to run commands from
    work: Path

    @property
    def bin(self) -> Path:
        return self.root / ("Scripts" if os.name == "nt" else "bin")

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "ASSISTANT_", "VIRTUAL_ENV", "LC_", "LANG"))
        }
        # English unless a test asks otherwise: what these tests read must not hang on the machine's locale.
        return {**env, "ASSISTANT_HOME": str(home), "NO_COLOR": "1", "LANG": "C.UTF-8", **extra}

    def run(self, *args: str, home: Path, timeout: float = 240, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bin / "assistant"), *args],
            cwd=self.elsewhere,
            env=self.env(home, **extra),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def pip_install(self, target: Path) -> None:
        # This environment's pip installs into the venv (`--python`); the build backend
        # (setuptools) comes from the package index like any `pip install .`.
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(self.bin / "python"),
                "install",
                "--no-deps",
                "-q",
                str(target),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def build_wheel(work: Path) -> Path:
    source = work / "source"
    shutil.copytree(REPO, source, ignore=IGNORE)
    wheels = work / "wheels"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [wheel] = wheels.glob("support_assistant-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    work = tmp_path_factory.mktemp("installed")
    wheel = build_wheel(work)
    root = work / "venv"
    venv.EnvBuilder(with_pip=False).create(root)
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    found = Installed(root, elsewhere, work)
    inside = Path(
        subprocess.check_output(
            [str(found.bin / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (inside / "borrowed-dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(borrowed)))
    found.pip_install(wheel)
    return found


def test_the_installed_package_runs_the_demo_from_another_folder(installed, tmp_path):
    where = subprocess.run(
        [
            str(installed.bin / "python"),
            "-c",
            "import assistant, flows; print(assistant.__file__); print(flows.__file__)",
        ],
        cwd=installed.elsewhere,
        env=installed.env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():  # the code and the flows are the wheel's, not the repository's
        assert Path(line).is_relative_to(installed.root), line

    done = installed.run("demo", "--json", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "confirmed" and outcome["confirmation"].startswith("DEMO-")
    assert Path(outcome["evidence_dir"]).is_relative_to(tmp_path / "home")

    listed = installed.run("flow", "list", "--paths", "--json", home=tmp_path / "home")
    assert listed.returncode == 0, listed.stderr
    shown = json.loads(listed.stdout)
    ids = {row["id"] for row in shown["flows"]}
    assert {"demo", "kuper-support", "kuper-complaint", "1cupis-feedback", "email"} <= ids
    [bundled] = [p for p in shown["places"] if p["from"] == "bundled"]
    assert Path(bundled["path"]).is_relative_to(installed.root)
    assert [p["from"] for p in shown["places"]] == ["HOME/flows", "bundled"]

    # A bundled flow's replica and sample case are package data too.
    tested = installed.run("flow", "test", "kuper-support", home=tmp_path / "home")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "ok    kuper-support" in tested.stdout


def test_the_installed_package_speaks_russian_under_a_russian_locale(installed, tmp_path):
    """The compiled catalogs are package data: the wheel alone has them."""
    said = installed.run("--help", home=tmp_path / "home", LANG="ru_RU.UTF-8")
    assert said.returncode == 0, said.stderr
    assert said.stdout.startswith("Использование: assistant")
    assert "Коды выхода:" in said.stdout
    refused = installed.run(
        "check", "--case", str(tmp_path / "missing.yaml"), home=tmp_path / "home", LANG="ru_RU.UTF-8"
    )
    assert refused.returncode == 2 and refused.stderr.startswith("ошибка:"), refused.stderr


def test_a_folder_named_flows_where_it_is_run_does_not_hide_the_bundled_flows(installed, tmp_path):
    """`python -m assistant` puts the current folder first on sys.path: a person's own flows/
    folder (here one that even looks like a package with a demo flow) must not be taken for the
    bundled flows."""
    there = tmp_path / "there"
    (there / "flows").mkdir(parents=True)
    (there / "flows" / "__init__.py").write_text("")
    (there / "flows" / "demo.yaml").write_text("id: demo\n")
    done = subprocess.run(
        [str(installed.bin / "python"), "-m", "assistant", "flow", "list", "--paths", "--json"],
        cwd=there,
        env=installed.env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    [bundled] = [p for p in shown["places"] if p["from"] == "bundled"]
    assert Path(bundled["path"]).is_relative_to(installed.root)
    assert "kuper-support" in {row["id"] for row in shown["flows"]}


PACK_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-flow-pack"
version = "1.0"

[project.entry-points."support_assistant.flows"]
acme = "acme_flows"

[tool.setuptools]
packages = ["acme_flows"]

[tool.setuptools.package-data]
acme_flows = ["*.yaml", "samples/*", "replicas/*/*"]
"""


def test_a_home_flow_and_a_flow_pack_are_listed_and_tested(installed, tmp_path):
    home = tmp_path / "home"
    # A person's own flow, in HOME/flows, scaffolded there so that it passes `flow test` at once.
    made = installed.run("flow", "new", "my-shop", "--flows-dir", str(home / "flows"), home=home)
    assert made.returncode == 0, made.stderr
    # A third party's flows, shipped as a distribution that registers its package under the group.
    pack = tmp_path / "pack"
    (pack / "acme_flows").mkdir(parents=True)
    (pack / "acme_flows" / "__init__.py").write_text("")
    (pack / "pyproject.toml").write_text(PACK_PYPROJECT)
    made = installed.run("flow", "new", "acme-pack", "--flows-dir", str(pack / "acme_flows"), home=home)
    assert made.returncode == 0, made.stderr
    installed.pip_install(pack)
    # A pack's copy of a bundled flow is reported, not an error; the first place wins.
    shutil.copy(home / "flows" / "my-shop.yaml", home / "flows" / "email.yaml")

    listed = installed.run("flow", "list", "--paths", home=home)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[1].startswith(" 1. HOME/flows: ") and lines[2].startswith(
        " 2. flow pack 'acme' (acme-flow-pack 1.0): "
    )
    assert lines[3].startswith(" 3. bundled: ")
    rows = {line.split()[0]: line for line in lines[5:]}
    assert rows["my-shop"].endswith(str(home / "flows" / "my-shop.yaml"))
    assert "acme_flows" in rows["acme-pack"] and Path(rows["acme-pack"].split()[-1]).is_relative_to(installed.root)
    assert "demo" in rows
    assert f"note: email: {home / 'flows' / 'email.yaml'} (HOME/flows) hides " in listed.stderr
    assert "(bundled)" in listed.stderr

    tested = installed.run("flow", "test", "my-shop", "acme-pack", home=home)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "ok    my-shop" in tested.stdout and "ok    acme-pack" in tested.stdout

    junit = tmp_path / "junit.xml"
    replayed = installed.run("replay", "my-shop", "acme-pack", "--junit", str(junit), home=home)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    cases = {c.get("name") for c in ElementTree.parse(junit).iter("testcase")}
    assert {"my-shop", "acme-pack"} <= cases, cases


def test_a_flow_pack_that_cannot_be_found_is_a_note_not_a_failure(installed, tmp_path):
    # The entry point names a package this distribution never installed.
    pack = tmp_path / "ghost"
    (pack / "ghost_flows_real").mkdir(parents=True)
    (pack / "ghost_flows_real" / "__init__.py").write_text("")
    text = PACK_PYPROJECT.replace("acme-flow-pack", "ghost-pack").replace(
        'acme = "acme_flows"', 'ghost = "no_such_pkg"'
    )
    (pack / "pyproject.toml").write_text(text.replace("acme_flows", "ghost_flows_real"))
    installed.pip_install(pack)
    listed = installed.run("flow", "list", home=tmp_path / "home")
    assert listed.returncode == 0, listed.stderr
    assert (
        "note: flow pack 'ghost' (ghost-pack 1.0): package 'no_such_pkg' is not installed as a folder" in listed.stderr
    )
    assert "demo" in listed.stdout


def documented_example() -> str:
    """docs/testing.md's example test, exactly as a tester would copy it."""
    text = (REPO / "docs" / "testing.md").read_text(encoding="utf-8")
    [block] = [b for b in text.split("```python\n")[1:] if b.startswith("# test_support_flows.py")]
    return block.split("```")[0]


def test_the_documented_example_passes_when_copied_into_another_repository(installed, tmp_path):
    theirs = tmp_path / "their-repo"
    theirs.mkdir()
    (theirs / "test_support_flows.py").write_text(documented_example(), encoding="utf-8")
    done = subprocess.run(
        [str(installed.bin / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tracing", "on"],
        cwd=theirs,
        env=installed.env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    # pytest-playwright's --tracing applied to the run's own context, in its default --output folder.
    assert list((theirs / "test-results").glob("*/trace.zip"))
