"""CONTRIBUTING.md's "Adding a provider flow", followed word for word in a copy of the repository.

The commands are read from the guide itself (its indented command lines, in
order), run from the copy's root on the numeric-select form of
tests/forms/django-helpdesk served as the "real" provider, and each must pass
where the guide says it passes. Only what the guide asks the reader to fill
in is filled in: the form's address, and the number the real confirmation
page showed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

from form_sites import form_url, real_site
from helpers import REPO

GUIDE_URL = "https://acme.example/support/contact"
GUIDE_NUMBER = "HD-48213"
IGNORED = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache", "build")


def guide_commands() -> list[str]:
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text[text.index("## Adding a provider flow") : text.index("## Replica API reference")]
    return [m.group(1) for m in re.finditer(r"^ {4,6}((?:assistant|\.venv/bin/python) .+)$", section, re.M)]


def argv(command: str, replacements: dict[str, str]) -> list[str]:
    for old, new in replacements.items():
        command = command.replace(old, new)
    words = shlex.split(command)
    if words[0] == "assistant":
        return [sys.executable, "-m", "assistant", *words[1:]]
    return [sys.executable, *words[1:]]


def test_the_walk_through_passes_where_it_says_it_passes(tmp_path):
    commands = guide_commands()
    kinds = [" ".join(c.split()[:3]) for c in commands]
    assert kinds == [
        "assistant flow snapshot",
        "assistant flow new",
        "assistant flow test",
        "assistant flow serve",
        "assistant flow test",
        "assistant flow validate",
        "assistant flow check",
        "assistant submit acme-support",
        "assistant flow snapshot",
        "assistant flow test",
        "assistant flow snapshot",
        ".venv/bin/python -m pytest",
    ], "the guide's steps changed: update this test with them"
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo, ignore=IGNORED)
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "NO_COLOR": "1", "PYTHONPATH": str(repo)}

    def run(command: str, replacements: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            argv(command, replacements),
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )

    with real_site("django-helpdesk") as provider:
        replacements = {GUIDE_URL: form_url(provider, "django-helpdesk")}
        for command in commands:
            if " flow new " in f" {command} ":
                continue  # the other way in, for a form that cannot be reached
            if "--no-number" in command:
                continue  # for a thank-you page with no number: the second walk, below
            if " flow serve " in f" {command} ":
                serve_briefly(argv(command, replacements), repo, env)
                continue
            if command.startswith("assistant submit"):
                # The reader's own genuine request (another person than the sample case).
                sample = repo / "flows" / "samples" / "acme-support-case.yaml"
                (repo / "my-case.yaml").write_text(
                    sample.read_text().replace("Anna Petrova", "Ivan Sidorov").replace("anna.petrova@", "ivan.s@")
                )
                shutil.copy(sample.parent / "acme-support-screenshot.png", repo / "acme-support-screenshot.png")
                done = run(command, replacements)
                [received] = provider.received  # "The request reaches the provider"
                assert (repo / "real-run" / "manifest.json").is_file(), done.stderr
                replacements[GUIDE_NUMBER] = received.number
                continue
            done = run(command, replacements)
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            if " flow test " in f" {command} ":
                assert done.stdout.startswith("ok    acme-support"), done.stdout
    flow = (repo / "flows" / "acme-support.yaml").read_text()
    assert "verified_confirmation: 20" in flow and 'form_value: "2"' in flow

    # The same guide for a provider whose thank-you page gives no number: capture, one real
    # request, learn the page with --no-number, and the test passes expecting none.
    with real_site("thanks-no-number") as provider:
        replacements = {GUIDE_URL: form_url(provider, "thanks-no-number"), "acme-support": "acme-thanks"}
        replacements["real-run"] = "real-run-thanks"
        for command in commands:
            if command.startswith("assistant submit"):
                sample = repo / "flows" / "samples" / "acme-thanks-case.yaml"
                (repo / "my-case.yaml").write_text(sample.read_text().replace("Anna Petrova", "Ivan Sidorov"))
                shutil.copy(sample.parent / "acme-thanks-screenshot.png", repo / "acme-thanks-screenshot.png")
                done = run(command, replacements)
                assert len(provider.received) == 1, done.stderr
                continue
            wanted = "flow snapshot https://" in command or "--no-number" in command
            if not wanted:
                continue
            done = run(command, replacements)
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        done = run("assistant flow test acme-thanks", {})
        assert done.returncode == 0 and done.stdout.startswith("ok    acme-thanks"), done.stdout + done.stderr
    assert "confirmation: none" in (repo / "flows" / "acme-thanks.yaml").read_text()


def serve_briefly(command: list[str], repo: Path, env: dict) -> None:
    """`flow serve` runs until Ctrl-C: it must print its address and answer there."""
    server = subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        assert url, line + (server.stderr.read() if server.poll() is not None and server.stderr else "")
        deadline = time.monotonic() + 10
        while True:
            try:
                with urlopen(url.group(1) + "/tickets/submit/", timeout=5) as answer:
                    assert b"id_queue" in answer.read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_replica_reference_names_every_helper_with_an_example():
    import dataclasses
    import inspect

    from assistant.sites import replica

    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    reference = text[text.index("## Replica API reference") :]
    rows = [line for line in reference.splitlines() if line.startswith("| `")]
    names = [n for n in replica.__all__ if n not in ("Site", "Request", "Response", "Upload", "Received")]
    names += [f"site.{m}" for m, v in vars(replica.Site).items() if not m.startswith("_") and callable(v)]
    names += ["site.state", "site.received"]
    names += [f"request.{f.name}" for f in dataclasses.fields(replica.Request)] + ["request.value"]
    missing = [n for n in names if not any(row.startswith((f"| `{n}", f"| `@{n}")) for row in rows)]
    assert missing == [], f"not in CONTRIBUTING's Replica API reference: {missing}"
    for row in rows:  # every helper with a one-line example
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) < 3 or cells[1], row
    undocumented = [
        name
        for name, value in [*vars(replica).items(), *vars(replica.Site).items()]
        if (name in replica.__all__ or name in vars(replica.Site))
        and not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and not value.__doc__
    ]
    assert undocumented == []
