"""The report's compiled templates kept between processes: the same report, no compile, no new failure.

Each check runs in a fresh interpreter, as each filing does: the templates are loaded once a process."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# Renders tests/test_report.py's hostile manifest after report.prepare(cache), and says whether
# Jinja compiled any template on the way (it does not when the cache holds them).
RENDER = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import jinja2
compiled = []
original = jinja2.Environment.compile
def counting(self, source, name=None, *args, **kwargs):
    compiled.append(name)
    return original(self, source, name, *args, **kwargs)
jinja2.Environment.compile = counting
from evidence import report
from test_report import hostile_manifest
report.prepare(Path(sys.argv[2]) if sys.argv[2] else None)
print(json.dumps({"compiled": compiled, "html": report.render_html(hostile_manifest())}))
"""


def render(cache: Path | None) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", RENDER, str(TESTS), str(cache or "")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_second_process_renders_the_same_report_without_compiling(tmp_path):
    cache = tmp_path / "home" / "cache" / "templates"
    plain = render(None)
    first = render(cache)
    second = render(cache)
    assert "report.html.j2" in plain["compiled"]
    assert "report.html.j2" in first["compiled"]
    assert second["compiled"] == []
    assert plain["html"] == first["html"] == second["html"]
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert sorted(p.suffix for p in cache.iterdir()) == [".cache"] * len(list(cache.iterdir())) != []


def test_damaged_entries_are_compiled_again(tmp_path):
    cache = tmp_path / "templates"
    expected = render(cache)["html"]
    entries = sorted(cache.iterdir())
    # Jinja's own header, then what no unpickler reads: Jinja itself lets those errors through.
    from jinja2.bccache import bc_magic

    damages = [bc_magic + b"garbage", bc_magic, b"", os.urandom(300)]
    for entry, junk in zip(entries, damages * len(entries), strict=False):
        entry.write_bytes(junk)
    again = render(cache)
    assert again["html"] == expected
    assert "report.html.j2" in again["compiled"]
    assert render(cache)["compiled"] == []  # written whole again


def test_a_cache_that_cannot_be_made_costs_only_the_time(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder would go")
    result = render(blocker / "templates")
    assert "report.html.j2" in result["compiled"]
    assert result["html"] == render(None)["html"]
    assert blocker.read_text() == "a file where the folder would go"


def test_an_entry_that_cannot_be_written_is_not_an_error(tmp_path):
    import jinja2

    from evidence.report import _compiled_templates

    folder = tmp_path / "gone"
    folder.mkdir()
    kept = _compiled_templates(folder)
    env = jinja2.Environment()
    bucket = jinja2.bccache.Bucket(env, "report.html.j2", "checksum")
    bucket.code = compile("x = 1", "report.html.j2", "exec")
    folder.rmdir()  # removed under the run (a disk unmounted, a home cleaned up)
    kept.dump_bytecode(bucket)
    assert not folder.exists()
