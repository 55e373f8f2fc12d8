"""`{{ … }}` found by a scan that is linear in the text, and reads templates as the pattern it replaced did."""

from __future__ import annotations

import re
import subprocess
import sys
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.language import templating

# The pattern the scan replaced (it backtracked: minutes on a 100 KB value), kept as the reference.
PATTERN = re.compile(r"\{\{\s*((?:(?!\}\}).)*?)\s*\}\}")

texts = st.text(alphabet="{} a\n\t\r\x0b\x1c\u2003\u2028|.x", max_size=60)


@settings(max_examples=5000, deadline=None)
@given(texts)
def test_the_scan_finds_what_the_pattern_found(text):
    assert [e.text for e in templating.expressions(text)] == PATTERN.findall(text)
    assert templating.substitute(text, lambda inner: f"<{inner}>") == PATTERN.sub(lambda m: f"<{m.group(1)}>", text)
    for e in templating.expressions(text):
        assert text[e.start : e.start + 2] == "{{" and text[e.end - 2 : e.end] == "}}"


def test_a_long_unclosed_expression_does_not_hang():
    """Generous bound: each of these took from 17 s to forever with the pattern; the scan, milliseconds."""
    hostile = ["{{" + " " * 99_000 + "x", "{{" * 50_000, ("{{ \n" * 30_000) + "}}", "{{ a }}" + "{{" * 50_000]
    start = time.monotonic()
    for text in hostile:
        templating.expressions(text)
        templating.substitute(text, str)
    assert time.monotonic() - start < 10


def test_flow_validate_answers_at_once_on_a_long_unclosed_expression(tmp_path):
    """The hostile value in a flow file: `flow validate` answers (the value is plain text, no
    expression), where it ran past a minute before."""
    import shutil
    from pathlib import Path

    flows = Path(__file__).resolve().parent.parent / "flows"
    shutil.copytree(flows / "samples", tmp_path / "samples")  # the flow's own test case, beside it
    demo = (flows / "demo.yaml").read_text(encoding="utf-8")
    assert '"{{ request.subject }}"' in demo
    flow = tmp_path / "spaces.yaml"
    flow.write_text(demo.replace('"{{ request.subject }}"', '"{{' + " " * 99_000 + 'x"'), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "--home", str(tmp_path / "home"), "flow", "validate", str(flow)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
