"""Where flows are found: --flows, ASSISTANT_FLOWS, HOME/flows, flow packs, bundled; a hidden id is a note."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from helpers import REPO, run_cli


def flow_copy(folder, flow_id="demo", name=None):
    folder.mkdir(parents=True, exist_ok=True)
    text = (REPO / "flows" / "demo.yaml").read_text(encoding="utf-8")
    path = folder / f"{flow_id}.yaml"
    path.write_text(text.replace("id: demo", f"id: {flow_id}", 1), encoding="utf-8")
    return path


def test_places_are_searched_in_order_and_the_hidden_are_reported(tmp_path):
    home = tmp_path / "home"
    given, env_dir = tmp_path / "given", tmp_path / "env"
    mine = flow_copy(given)
    shutil.copytree(REPO / "flows" / "samples", given / "samples")  # its test: block's sample case
    for folder in (env_dir, home / "flows"):
        flow_copy(folder)
    flow_copy(home / "flows", "only-at-home")
    done = run_cli(
        "--flows", str(given), "flow", "list", "--paths", "--json", home=home, env={"ASSISTANT_FLOWS": str(env_dir)}
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert [(p["from"], p["path"]) for p in shown["places"]] == [
        ("--flows", str(given)),
        ("ASSISTANT_FLOWS", str(env_dir)),
        ("HOME/flows", str(home / "flows")),
        ("bundled", str(REPO / "flows")),
    ]
    rows = {r["id"]: r for r in shown["flows"]}
    assert rows["demo"]["file"] == str(mine) and rows["demo"]["from"] == "--flows"
    assert rows["demo"]["hides"] == [
        str(env_dir / "demo.yaml"),
        str(home / "flows" / "demo.yaml"),
        str(REPO / "flows" / "demo.yaml"),
    ]
    assert rows["only-at-home"]["from"] == "HOME/flows" and rows["kuper-support"]["from"] == "bundled"
    assert f"note: demo: {mine} (--flows) hides {env_dir / 'demo.yaml'} (ASSISTANT_FLOWS)" in done.stderr
    assert done.stderr.count("note: demo:") == 3

    # Every command finds a flow the same way: the one from --flows is the one validated.
    validated = run_cli("--flows", str(given), "flow", "validate", "demo", home=home)
    assert validated.returncode == 0 and f"{mine}: ok" in validated.stdout

    text = run_cli("flow", "list", "--paths", home=home).stdout.splitlines()
    assert text[:3] == [
        "Where flows are looked for (the first place holding an id wins):",
        f" 1. HOME/flows: {home / 'flows'}",
        f" 2. bundled: {REPO / 'flows'}",
    ]


def test_a_bad_flow_file_is_named_and_the_others_are_still_listed(tmp_path):
    home = tmp_path / "home"
    (home / "flows").mkdir(parents=True)
    (home / "flows" / "broken.yaml").write_text("id: broken\nsteps: 3\n", encoding="utf-8")
    done = run_cli("flow", "list", home=home)
    assert done.returncode == 2
    assert f"{home / 'flows' / 'broken.yaml'}:" in done.stderr and "Traceback" not in done.stderr
    assert "kuper-support" in done.stdout and "demo" in done.stdout


def test_an_id_is_a_file_name_not_a_path_into_another_folder(tmp_path):
    home = tmp_path / "home"
    flow_copy(tmp_path / "elsewhere", "sneaky")
    (home / "flows").mkdir(parents=True)
    done = run_cli("flow", "validate", "../../elsewhere/sneaky", home=home)
    assert done.returncode == 2 and "unknown provider flow '../../elsewhere/sneaky'" in done.stderr


def test_the_demo_is_the_bundled_one_whatever_a_flows_folder_holds(tmp_path):
    home = tmp_path / "home"
    (home / "flows").mkdir(parents=True)
    (home / "flows" / "demo.yaml").write_text("not: a flow\n", encoding="utf-8")
    done = run_cli("demo", "--json", home=home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["confirmation"].startswith("DEMO-")


def test_flow_new_writes_into_flows_here_with_the_replica_beside_it(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "flow", "new", "acme-support"],
        cwd=tmp_path,
        env={**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "flows" / "acme-support.yaml").is_file()
    assert (tmp_path / "flows" / "replicas" / "acme-support" / "site.py").is_file()
    assert (tmp_path / "flows" / "samples" / "acme-support-case.yaml").is_file()
    assert "replica: replicas/acme-support" in (tmp_path / "flows" / "acme-support.yaml").read_text()
    shutil.rmtree(tmp_path / "flows")


def fake_pack(site, name="acme-flow-pack", entry="acme = acme_flows", package="acme_flows"):
    """A distribution as pip leaves it (a .dist-info beside its package), on PYTHONPATH."""
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[support_assistant.flows]\n{entry}\n")
    folder = site / package
    folder.mkdir()
    (folder / "__init__.py").write_text("raise RuntimeError('a flow pack is found, never imported')\n")
    return folder


def test_a_flow_pack_is_found_without_running_it_and_its_links_are_not_followed(tmp_path):
    site = tmp_path / "site"
    folder = fake_pack(site)
    flow_copy(folder, "acme-support")
    secret = tmp_path / "secret.yaml"
    secret.write_text("password: hunter2\n")
    (folder / "acme-secret.yaml").symlink_to(secret)
    (folder / "broken.yaml").write_text("id: broken\nsteps: []\n")
    done = run_cli("flow", "list", "--paths", "--json", home=tmp_path / "home", env={"PYTHONPATH": str(site)})
    assert done.returncode == 2  # broken.yaml, named with its line; the rest is listed
    assert f"{folder / 'broken.yaml'}:" in done.stderr and "hunter2" not in done.stderr + done.stdout
    shown = json.loads(done.stdout)
    assert {"from": "flow pack 'acme' (acme-flow-pack 1.0)", "path": str(folder), "exists": True} in shown["places"]
    rows = {r["id"]: r for r in shown["flows"]}
    assert rows["acme-support"]["file"] == str(folder / "acme-support.yaml") and "acme-secret" not in rows
    unknown = run_cli("flow", "validate", "acme-secret", home=tmp_path / "home", env={"PYTHONPATH": str(site)})
    assert unknown.returncode == 2 and "unknown provider flow 'acme-secret'" in unknown.stderr


def test_a_flow_pack_that_names_no_package_is_a_note(tmp_path):
    site = tmp_path / "site"
    fake_pack(site, entry="odd = acme_flows:flows")
    done = run_cli("flow", "list", home=tmp_path / "home", env={"PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stderr
    assert "note: flow pack 'odd' (acme-flow-pack 1.0): 'acme_flows:flows' is not a package name" in done.stderr


def test_a_flows_folder_where_the_command_runs_is_not_taken_for_the_bundled_flows(tmp_path):
    """With `python -m assistant` the current folder is first on sys.path; a person's own
    flows/ folder there (a namespace package to Python, or a package) must not hide the bundled flows."""
    flow_copy(tmp_path / "flows", "mine")
    flow_copy(tmp_path / "flows", "demo")
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "flow", "list", "--paths", "--json"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert ("bundled", str(REPO / "flows")) in [(p["from"], p["path"]) for p in shown["places"]]
    assert "mine" not in {row["id"] for row in shown["flows"]}
    (tmp_path / "flows" / "__init__.py").write_text("")
    again = subprocess.run(done.args, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    assert again.returncode == 0 and json.loads(again.stdout) == shown, again.stderr
