"""Running the real `assistant` command in a subprocess, as a person or CI would."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "flows" / "samples"
DEMO_FLOW = REPO / "flows" / "demo.yaml"


def run_cli(*args: str, home: Path, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "ASSISTANT_HOME": str(home), "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_case(tmp: Path, **changes) -> Path:
    """The demo sample case, copied with its attachments, with top-level changes (None deletes)."""
    yaml = YAML()
    data = yaml.load((SAMPLES / "demo-case.yaml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    for name in data.get("attachments", []):
        shutil.copy(SAMPLES / name, tmp / name)
    path = tmp / "case.yaml"
    buffer = StringIO()
    yaml.dump(data, buffer)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def submissions(home: Path) -> list[dict]:
    db = home / "assistant.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM submissions ORDER BY id")]


def json_out(done: subprocess.CompletedProcess):
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
