"""Hostile flow files, case files, templates and options: a clean one-line error, never a traceback.

Flows and cases are shared by strangers. Each attack from issue 8 ("Resource
exhaustion", "Tracebacks") is a test here, and hypothesis fuzzers mutate the
demo flow and case (and generate template expressions and CLI options) to
show that nothing ends in a traceback, a hang or an internal object.

The fuzzers are reproducible: derandomize=True, database=None (the same
examples on every machine, nothing stored between runs). `pytest --fuzz-long`
runs them long.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date, datetime
from io import StringIO
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import DEMO_FLOW, SAMPLES, run_cli, write_case
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from assistant.channels.web_form import template_context
from assistant.cli import main
from assistant.language import templating, yamlsource
from assistant.language.case import Case, load_case
from assistant.language.flow import load_flow

DEMO_CASE = SAMPLES / "demo-case.yaml"
CASE_FILES = ("demo-case.yaml", "demo-app-error.png", "demo-receipt.pdf")
PLANTED = "planted-S3CRET-0451"

# Examples per fuzzer: (plain `make test`, `--fuzz-long`). Flow + case files: 350 / 2200.
COUNTS = {"flow": (200, 1200), "case": (150, 1000), "template": (300, 2000), "options": (60, 400)}


def fuzz_settings(config, kind: str) -> settings:
    short, long = COUNTS[kind]
    return settings(
        max_examples=long if config.getoption("--fuzz-long") else short,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# ------------------------------------------------------------------ helpers


def workspace(root: Path) -> Path:
    """A folder holding the demo sample case and its attachments, where files under test are written."""
    (root / "samples").mkdir(parents=True, exist_ok=True)
    for name in CASE_FILES:
        shutil.copy(SAMPLES / name, root / "samples" / name)
        shutil.copy(SAMPLES / name, root / name)
    return root


def invoke(*args: str, home: Path):
    return CliRunner().invoke(main, ["--home", str(home), *args])


def assert_clean(result, path: Path | None, *, lint: bool = False, also: Path | None = None) -> None:
    """No traceback; exit 0 or 2; on 2, one `file:line:col:` line per problem (in path, or in also)."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(result.exception))
        raise AssertionError(f"traceback for {path}:\n{trace}")
    assert result.exit_code in (0, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output
    if result.exit_code != 2:
        return
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, result.output
    files = "|".join(re.escape(str(p)) for p in (path, also) if p is not None)
    where = rf"({files}):\d+:\d+: \S"
    for line in lines:
        assert not line.lower().startswith(("error: error", "error: error:")), line
        if path is None:
            continue
        ok = re.match(rf"^(error: |  )?{where}", line)  # further problems are indented under the first
        if lint:  # `check` findings: `case.yaml: error: field: message; fix`
            ok = ok or re.match(rf"^{re.escape(str(path))}: (error|warning): \S", line)
        assert ok, f"not a one-line file:line:col problem: {line!r}\n{result.stderr}"


def assert_one_problem(result, path: Path, pattern: str) -> None:
    assert_clean(result, path)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert re.match(rf"^(error: )?{re.escape(str(path))}:{pattern}", lines[0]), lines[0]


def demo_text() -> str:
    return DEMO_FLOW.read_text(encoding="utf-8")


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# Runs in a small helper process: a child forked straight from pytest would count
# pytest's own memory in its peak RSS (Linux keeps the high-water mark across exec).
MEASURE = """
import json, os, subprocess, sys, time
started = time.monotonic()
proc = subprocess.Popen([sys.executable, "-m", "assistant", *sys.argv[1:]], stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
stderr = proc.stderr.read().decode("utf-8", "replace")
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps([os.waitstatus_to_exitcode(status), time.monotonic() - started, usage.ru_maxrss / 1024, stderr]))
"""


def measure(*args: str) -> tuple[int, float, float, str]:
    """Exit code, seconds and peak RSS (MB, ru_maxrss of os.wait4) of a fresh `python -m assistant ...`."""
    import json

    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
    )
    code, seconds, mb, stderr = json.loads(done.stdout)
    return code, seconds, mb, stderr


# ~1 KB: nine levels of nine aliases each would expand to 9**9 strings.
LAUGHS = (
    "laugh0: &laugh0 ["
    + ", ".join(['"lol"'] * 9)
    + "]\n"
    + "".join(f"laugh{i}: &laugh{i} [" + ", ".join([f"*laugh{i - 1}"] * 9) + "]\n" for i in range(1, 10))
)


# ------------------------------------------------------- resource exhaustion


@pytest.mark.parametrize("kind", ["flow", "case"])
def test_billion_laughs_is_refused_fast_and_small(tmp_path, kind):
    bomb = tmp_path / f"laughs-{kind}.yaml"
    head = "id: laughs\nname: x\n" if kind == "flow" else "provider: demo\ncategory: payment\n"
    bomb.write_text(head + LAUGHS, encoding="utf-8")
    assert 800 < bomb.stat().st_size < 1500
    if kind == "flow":
        args, base_args = ("flow", "validate", str(bomb)), ("flow", "validate", str(DEMO_FLOW))
    else:
        home = tmp_path / "home"
        args = ("--home", str(home), "check", "--case", str(bomb))
        base_args = ("--home", str(home), "check", "--case", str(DEMO_CASE))
    _, base_seconds, base_mb, _ = measure(*base_args)
    code, seconds, mb, stderr = measure(*args)
    print(
        f"{kind}: baseline (valid file) {base_seconds:.2f} s {base_mb:.0f} MB; "
        f"billion laughs {seconds:.2f} s {mb:.0f} MB"
    )
    assert code == 2, stderr
    assert re.fullmatch(
        rf"(error: )?{re.escape(str(bomb))}:4:\d+: alias '\*laugh0': aliases are not allowed here; "
        r"write the value out\n",
        stderr,
    ), stderr
    # As fast as checking a valid file, measured here a moment before (a loaded machine slows both),
    # and small: the aliases are refused while reading, never expanded.
    assert seconds < 2 * base_seconds + 0.5, (seconds, base_seconds)
    assert mb < 100


def test_a_file_over_1_mb_is_refused_before_parsing(tmp_path):
    big = tmp_path / "big.yaml"
    categories = "".join(f"  c{i}: {{ label: x, deadline: {{ hours: 1 }} }}\n" for i in range(40_000))
    big.write_text(demo_text().replace("categories:\n", "categories:\n" + categories, 1), encoding="utf-8")
    size = big.stat().st_size
    assert size > 1_048_576
    started = time.monotonic()
    result = invoke("flow", "validate", str(big), home=tmp_path)
    assert time.monotonic() - started < 1.0
    assert_one_problem(result, big, rf"1:1: the file is {size} bytes; a flow/case file is at most 1 MB$")


def test_100k_steps_are_refused_by_the_size_cap_and_520_by_the_count_cap(tmp_path):
    text = demo_text()
    huge = tmp_path / "huge.yaml"
    huge.write_text(text.replace("steps:\n", "steps:\n" + '  - click: "#a"\n' * 100_000, 1), encoding="utf-8")
    assert_one_problem(
        invoke("flow", "validate", str(huge), home=tmp_path),
        huge,
        r"1:1: the file is \d+ bytes; a flow/case file is at most 1 MB$",
    )
    many = tmp_path / "many.yaml"
    many.write_text(text.replace("steps:\n", "steps:\n" + '  - click: "#a"\n' * 500, 1), encoding="utf-8")
    assert_one_problem(
        invoke("flow", "validate", str(many), home=tmp_path),
        many,
        rf"{line_of(text, 'steps:')}:1: steps: List should have at most 500 items after validation, "
        r"not 520$",
    )


def test_too_many_values_or_too_long_a_value_is_refused_while_reading(tmp_path):
    """Under the size cap, a file of 100,000 tiny values (or one value of 100,001 characters)
    is refused while its events are read, before the slow composing: as fast as a valid file."""
    crowded = tmp_path / "crowded.yaml"
    crowded.write_text(
        demo_text().replace("timeout: 15", "timeout: 15\nextra: [" + "1," * 100_000 + "1]"), encoding="utf-8"
    )
    assert crowded.stat().st_size < 1_048_576
    _, base_seconds, _, _ = measure("flow", "validate", str(DEMO_FLOW))
    code, seconds, mb, stderr = measure("flow", "validate", str(crowded))
    assert code == 2 and re.fullmatch(
        rf"{re.escape(str(crowded))}:\d+:\d+: more than 10000 values; "
        r"a flow/case file is not that big\n",
        stderr,
    ), stderr
    # About as fast as checking a valid file, measured here a moment before (a loaded machine slows both).
    assert seconds < 2 * base_seconds + 0.5, (seconds, base_seconds)
    assert mb < 100, (seconds, mb)
    long = tmp_path / "long.yaml"
    text = demo_text().replace("name: DemoMarket", "name: " + "x" * 100_001 + " DemoMarket")
    long.write_text(text, encoding="utf-8")
    assert_one_problem(
        invoke("flow", "validate", str(long), home=tmp_path),
        long,
        rf"{line_of(text, 'name: xxx')}:7: a value of 1000\d\d characters; at most 100000$",
    )


def test_a_case_with_too_many_attachments_or_too_long_a_text_is_refused(tmp_path):
    workspace(tmp_path)
    text = DEMO_CASE.read_text(encoding="utf-8")
    case = tmp_path / "case.yaml"
    case.write_text(text.replace("  - demo-receipt.pdf\n", "  - demo-receipt.pdf\n" * 50), encoding="utf-8")
    result = invoke("check", "--case", str(case), home=tmp_path)
    assert_one_problem(result, case, r"\d+:1: attachments: List should have at most 50 items")
    case.write_text(
        text.replace("desired_outcome: Refund", "desired_outcome: " + "x" * 100_001 + " Refund"), encoding="utf-8"
    )
    result = invoke("check", "--case", str(case), home=tmp_path)
    assert_one_problem(result, case, rf"{line_of(text, 'desired_outcome')}:18: a value of 1000\d\d characters")
    # the model's own cap, for values that come from options (--set) rather than the file
    with pytest.raises(yamlsource.SourceError, match="desired_outcome: String should have at most 100000 characters"):
        load_case(tmp_path / "demo-case.yaml", {"desired_outcome": "x" * 100_001})


# ------------------------------------------------------------ tracebacks


@pytest.mark.parametrize(
    "name, old, new, pattern",
    [
        ("omap", "timeout: 15", "timeout: !!omap [a: 1]", r"{line}:10: tag '!!omap' is not allowed"),
        (
            "python",
            "timeout: 15",
            'timeout: !!python/object/apply:os.system ["touch /tmp/pwned"]',
            r"{line}:10: tag '!!python/object/apply:os.system' is not allowed",
        ),
        ("custom-tag", "timeout: 15", "timeout: !custom 15", r"{line}:10: tag '!custom' is not allowed"),
        (
            "merge",
            "timeout: 15",
            "timeout: 15\nsuccess_base: &s { text: x }\nextra:\n  <<: *s",
            r"{line}:3: merge key '<<' is not allowed",
        ),
        (
            "merge-key",
            "timeout: 15",
            "timeout: 15\nextra:\n  <<: { text: x }",
            r"{line}:3: merge key '<<' is not allowed",
        ),
        ("nesting", "timeout: 15", "timeout: " + "[" * 300 + "]" * 300, r"{line}:\d+: nested more than 32 levels deep"),
    ],
)
def test_yaml_tricks_end_in_one_line(tmp_path, name, old, new, pattern):
    text = replace_once(demo_text(), old, new)
    flow = tmp_path / f"{name}.yaml"
    flow.write_text(text, encoding="utf-8")
    line = line_of(text, new.splitlines()[-1])
    assert_one_problem(invoke("flow", "validate", str(flow), home=tmp_path), flow, pattern.format(line=line))
    assert not Path("/tmp/pwned").exists()


def test_the_same_tricks_in_a_case_file(tmp_path):
    workspace(tmp_path)
    text = DEMO_CASE.read_text(encoding="utf-8")
    for name, new, pattern in [
        ("omap", "order_id: !!omap [a: 1]", r"{line}:11: tag '!!omap' is not allowed"),
        ("python", "order_id: !!python/object/apply:os.getcwd []", r"{line}:11: tag '!!python/object/apply:os.getcwd'"),
        ("alias", "order_id: &o DM-1\naccount: *o", r"{line}:10: alias '\*o'"),
        ("deep", "order_id: " + "[" * 300 + "]" * 300, r"{line}:\d+: nested more than 32 levels deep"),
        ("dup", "order_id: DM-1\norder_id: DM-2", r"{line}:1: YAML syntax: found duplicate key \"order_id\""),
    ]:
        case = tmp_path / f"{name}.yaml"
        case.write_text(replace_once(text, "order_id: DM-2026-114512", new), encoding="utf-8")
        line = line_of(case.read_text(encoding="utf-8"), new.splitlines()[-1])
        assert_one_problem(invoke("check", "--case", str(case), home=tmp_path), case, pattern.format(line=line))


def test_goto_with_vars_before_any_extract_fails_validation(tmp_path):
    text = replace_once(demo_text(), "  - screenshot: home\n", '  - goto: "{{ vars.x }}"\n')
    flow = tmp_path / "vars.yaml"
    flow.write_text(text, encoding="utf-8")
    line = line_of(text, "vars.x")
    assert_one_problem(
        invoke("flow", "validate", str(flow), home=tmp_path),
        flow,
        rf"{line}:5: steps\[1\]\.goto: 'vars\.x' is not set by an extract step before this one",
    )


def test_vars_after_the_extract_that_sets_them_validate(tmp_path):
    text = replace_once(
        demo_text(), "  - screenshot: home\n", '  - extract: { var: x, from: url }\n  - goto: "{{ vars.x }}"\n'
    )
    flow = tmp_path / "demo.yaml"
    flow.write_text(text, encoding="utf-8")
    workspace(tmp_path)
    result = invoke("flow", "validate", str(flow), home=tmp_path)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "old, new, pattern",
    [
        (
            "deadline: { hours: 24 }",
            "deadline: { hours: .inf }",
            r"{line}:17: categories\.payment\.deadline\.hours: Input should be a finite number$",
        ),
        (
            "deadline: { business_days: 3 }",
            "deadline: { business_days: 100000000 }",
            r"{line}:17: categories\.technical\.deadline\.business_days: Input should be less than or equal to 365$",
        ),
        (
            "deadline: { hours: 24 }",
            "deadline: { hours: 100000 }",
            r"{line}:17: categories\.payment\.deadline\.hours: Input should be less than or equal to 8760$",
        ),
        ("timeout: 15", "timeout: .nan", r"{line}:1: timeout: Input should be a finite number$"),
        ("timeout: 15", "timeout: 86400", r"{line}:1: timeout: Input should be less than or equal to 600$"),
        (
            "max_bytes: 5242880",
            "max_bytes: 10000000000",
            r"{line}:3: attachments\.max_bytes: Input should be less than",
        ),
        (
            "max_files: 5",
            "max_files: 51",
            r"{line}:3: attachments\.max_files: Input should be less than or equal to 50$",
        ),
        (
            "regex: 'DEMO-\\d{6}'",
            "regex: '(('",
            r"{line}:3: confirmation\.regex: not a regular expression: missing \), unterminated subpattern",
        ),
        (
            "regex: 'DEMO-\\d{6}'",
            "regex: '" + "a" * 1001 + "'",
            r"{line}:3: confirmation\.regex: a regular expression of 1001 characters; at most 1000$",
        ),
        (
            "  - screenshot: home\n",
            '  - extract: { var: n, selector: "#x", regex: "[" }\n',
            r"{line}:\d+: steps\[1\]\.extract\.regex: not a regular expression: unterminated character set",
        ),
        (
            "  - screenshot: home\n",
            '  - assert_text: { selector: "#x", regex: "(?P<" }\n',
            r"{line}:\d+: steps\[1\]\.assert_text\.regex: not a regular expression: missing group name",
        ),
    ],
)
def test_numbers_and_regexes_are_checked_at_validation(tmp_path, old, new, pattern):
    text = replace_once(demo_text(), old, new)
    flow = tmp_path / "numbers.yaml"
    flow.write_text(text, encoding="utf-8")
    line = line_of(text, new.strip().splitlines()[0])
    assert_one_problem(invoke("flow", "validate", str(flow), home=tmp_path), flow, pattern.format(line=line))


def test_a_regex_typo_fails_before_any_browser(tmp_path):
    """`submit` with a broken confirmation.regex stops at loading the flow: nothing is filled or sent."""
    flows = tmp_path / "flows"
    flows.mkdir()
    text = replace_once(demo_text(), "regex: 'DEMO-\\d{6}'", "regex: '(('")
    (flows / "demo.yaml").write_text(text, encoding="utf-8")
    workspace(tmp_path)
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(tmp_path / "demo-case.yaml"),
        "--base-url",
        "http://127.0.0.1:9/",
        "--yes",
        home=tmp_path / "home",
        env={"ASSISTANT_FLOWS": str(flows)},
    )
    assert done.returncode == 2, done.stderr
    line = line_of(text, "regex: '(('")
    assert done.stderr.startswith(f"error: {flows / 'demo.yaml'}:{line}:3: confirmation.regex: not a regular")
    assert not (tmp_path / "home" / "evidence").exists() or not any((tmp_path / "home" / "evidence").iterdir())


def test_non_utf8_file_reports_line_and_column(tmp_path):
    flow = tmp_path / "latin1.yaml"
    text = demo_text()
    line = line_of(text, "name: DemoMarket")
    flow.write_bytes(text.replace("name: DemoMarket", "name: D\xe9moMarket").encode("latin-1"))
    assert_one_problem(
        invoke("flow", "validate", str(flow), home=tmp_path),
        flow,
        rf"{line}:8: not UTF-8 text \(byte 0xe9: invalid continuation byte\); save the file as UTF-8$",
    )
    workspace(tmp_path)
    case = tmp_path / "case.yaml"
    case_text = DEMO_CASE.read_text(encoding="utf-8").replace("Анна", "\xc0nna")
    case.write_bytes(case_text.encode("utf-8").replace("\xc0".encode(), b"\xc0"))
    assert_one_problem(
        invoke("check", "--case", str(case), home=tmp_path),
        case,
        rf"{line_of(case_text, 'full_name')}:14: not UTF-8 text \(byte 0xc0",
    )


def test_file_names_the_system_cannot_open_are_problems_not_crashes(tmp_path):
    workspace(tmp_path)
    text = replace_once(demo_text(), "case: samples/demo-case.yaml", "case: samples/" + "x" * 300 + ".yaml")
    flow = tmp_path / "demo.yaml"
    flow.write_text(text, encoding="utf-8")
    assert_one_problem(
        invoke("flow", "validate", str(flow), home=tmp_path),
        flow,
        rf"{line_of(text, 'case: samples/xxx')}:3: test\.case: not a file name this system can open$",
    )
    case_text = DEMO_CASE.read_text(encoding="utf-8").replace("  - demo-receipt.pdf", "  - " + "y" * 300 + ".pdf")
    case = tmp_path / "case.yaml"
    case.write_text(case_text, encoding="utf-8")
    assert_one_problem(
        invoke("check", "--case", str(case), home=tmp_path),
        case,
        rf"{line_of(case_text, 'attachments:')}:1: attachments: 'y+' is not a file name this system",
    )


def test_odd_keys_and_values_are_problems_not_crashes(tmp_path):
    workspace(tmp_path)
    text = DEMO_CASE.read_text(encoding="utf-8")
    for body, pattern in [
        ("1: x", r"{line}:1: 1: unknown key '1'"),
        ("null: x", r"{line}:1: null: unknown key 'null'"),
        ("? [a, b]\n: x", r"\d+:\d+: a key must be a name, not a list or mapping"),
        ('account: "a\\0b"', r"{line}:1: account: a NUL character \(\\0\) is not allowed"),
        ("account: 1" + "0" * 5000, r"1:1: YAML: cannot read a value: a number has more than 4300 digits"),
    ]:
        case = tmp_path / "odd.yaml"
        case.write_text(text + body + "\n", encoding="utf-8")
        line = len(text.splitlines()) + 1
        assert_one_problem(invoke("check", "--case", str(case), home=tmp_path), case, pattern.format(line=line))


# -------------------------------------------------------------- templates


@pytest.fixture(scope="module")
def context():
    os.environ["PLANTED_SECRET"] = PLANTED
    case = load_case(DEMO_CASE)
    built = template_context(case, load_flow(DEMO_FLOW), "http://127.0.0.1:8000")
    built["vars"] = {"ticket": "DEMO-123456"}
    yield built
    os.environ.pop("PLANTED_SECRET", None)


def test_the_runtime_context_is_plain_data(context):
    def walk(value):
        if isinstance(value, dict):
            assert all(isinstance(k, str) for k in value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            assert isinstance(value, (str, int, float, bool, type(None), date, datetime)), type(value)

    walk(context)
    assert context["case"]["attachments"] and all(isinstance(a, str) for a in context["case"]["attachments"])
    assert PLANTED not in repr(context)


@pytest.mark.parametrize(
    "template",
    [
        "{{ case.attachments[0].__class__.as_posix.__globals__.os.environ }}",
        "{{ case.attachments[0]._parts }}",
        "{{ case.__class__ }}",
        "{{ _x }}",
    ],
)
def test_underscore_names_are_refused_at_parse_time(template):
    with pytest.raises(templating.TemplateError, match="names starting with '_' are not allowed"):
        templating.check_syntax(template)


@pytest.mark.parametrize(
    "template",
    [
        "{{ case.incident_at.tzinfo }}",
        "{{ case.description.upper }}",
        "{{ case.attachments.pop }}",
        "{{ request.body.format }}",
        "{{ case.steps_taken.copy }}",
    ],
)
def test_attributes_are_never_reached(context, template):
    with pytest.raises(templating.TemplateError, match="is not known here"):
        templating.render(template, context)


def test_values_that_are_not_plain_data_are_refused():
    from pathlib import PurePosixPath

    with pytest.raises(templating.TemplateError, match="not plain data"):
        templating.render("{{ x }}", {"x": PurePosixPath("/etc/passwd")})
    with pytest.raises(templating.TemplateError, match="not plain data"):
        templating.render("{{ x }}", {"x": [{"y": os}]})


def test_filter_arguments_keep_their_text(context):
    assert templating.render('{{ case.account | default("нет") }}', context) == "нет"
    assert templating.render('{{ case.steps_taken | join(" — и ещё: ") }}', context) == (
        " — и ещё: ".join(context["case"]["steps_taken"])
    )
    assert templating.render('{{ case.incident_at | strftime("%d.%m.%Y в %H:%M, г. Москва") }}', context) == (
        "20.11.2026 в 14:35, г. Москва"
    )
    quoted = '{{ case.account | default("\\"кавычки\\" и \\\\ обратная черта") }}'
    assert templating.render(quoted, context) == ('"кавычки" и \\ обратная черта')
    assert templating.render('{{ case.account | default("\\n остаётся как есть") }}', context) == (
        "\\n остаётся как есть"
    )
    piped = '{{ case.account | default("труба | внутри") }}'
    assert templating.render(piped, context) == "труба | внутри"


# The form's e-mail field: the lookup: block fills the same value into the portal's own search.
EMAIL_FILL = 'selector: "#email", value: "{}"'


def test_template_names_are_checked_against_the_case_schema(tmp_path):
    for old, new, message in [
        (
            EMAIL_FILL.format("{{ case.contacts.email }}"),
            EMAIL_FILL.format("{{ case.contacts.mail }}"),
            "'case.contacts.mail' is not known; did you mean 'case.contacts.email'?",
        ),
        (
            EMAIL_FILL.format("{{ case.contacts.email }}"),
            EMAIL_FILL.format("{{ case.previous_requests.number }}"),
            "'case.previous_requests' is a list; write case.previous_requests[0].number",
        ),
        (
            EMAIL_FILL.format("{{ case.contacts.email }}"),
            EMAIL_FILL.format("{{ env.HOME }}"),
            "'env.HOME' is not known (known: case, category, request",
        ),
        (
            EMAIL_FILL.format("{{ case.contacts.email }}"),
            EMAIL_FILL.format("{{ case.incident_at.year }}"),
            "'case.incident_at' is a single value",
        ),
        (
            'homepage: "{{ base_url }}/"',
            'homepage: "{{ case.order_id }}"',
            "homepage: 'case.order_id' is not known (known: base_url)",
        ),
        (
            'text: "Your request has been registered"',
            'text: "{{ vars.nope }}"',
            "success.text: 'vars.nope' is not set by any extract step",
        ),
    ]:
        text = replace_once(demo_text(), old, new)
        flow = tmp_path / "names.yaml"
        flow.write_text(text, encoding="utf-8")
        result = invoke("flow", "validate", str(flow), home=tmp_path)
        line = line_of(text, new)
        assert_one_problem(result, flow, rf"{line}:\d+: ")
        assert message in result.stderr, result.stderr
    for good in [
        r"{{ case.previous_requests[0].number | default(\"\") }}",
        "{{ case.device.os_version }}",
        "{{ attachments[1] }}",
        "{{ category.deadline }}",
        "{{ case.steps_taken | lines }}",
    ]:
        text = replace_once(demo_text(), EMAIL_FILL.format("{{ case.contacts.email }}"), EMAIL_FILL.format(good))
        flow = tmp_path / "demo.yaml"
        flow.write_text(text, encoding="utf-8")
        workspace(tmp_path)
        result = invoke("flow", "validate", str(flow), home=tmp_path)
        assert result.exit_code == 0, (good, result.output)


NAMES = [
    "case",
    "category",
    "request",
    "attachments",
    "base_url",
    "vars",
    "contacts",
    "email",
    "order_id",
    "incident_at",
    "steps_taken",
    "ticket",
    "subject",
    "body",
    "label",
    "key",
    "device",
    "__class__",
    "__globals__",
    "__init__",
    "__dict__",
    "__builtins__",
    "mro",
    "as_posix",
    "os",
    "environ",
    "PLANTED_SECRET",
    "_parts",
    "get",
    "items",
    "keys",
    "upper",
    "format",
    "self",
    "sys",
    "modules",
]
FILTER_NAMES = [*templating.FILTERS, "default", "attr", "format", "__call__", "map", "eval"]


@st.composite
def expressions(draw) -> str:
    head = draw(st.sampled_from(NAMES))
    parts = draw(
        st.lists(
            st.one_of(
                st.sampled_from(NAMES).map(lambda n: "." + n),
                st.integers(0, 3).map(lambda i: f"[{i}]"),
                st.sampled_from(["..", "[", "]", "()", " ", ".0", "[-1]", "['os']", "[x]"]),
            ),
            max_size=6,
        )
    )
    filters = draw(
        st.lists(
            st.tuples(
                st.sampled_from(FILTER_NAMES),
                st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["%Y", "%d.%m.%Y г.", "нет", '\\"', "{{"])),
            ),
            max_size=3,
        )
    )
    text = head + "".join(parts)
    for name, arg in filters:
        text += f" | {name}" + ("" if arg is None else '("' + arg.replace("\\", "\\\\").replace('"', '\\"') + '")')
    before, after = draw(st.sampled_from([("", ""), ("x ", " y"), ("{{ base_url }}/", "")]))
    return before + "{{ " + text + " }}" + after


def _plain(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return isinstance(value, (str, int, float, bool, type(None), date, datetime))


def test_generated_templates_reach_nothing_internal(pytestconfig, context):
    @fuzz_settings(pytestconfig, "template")
    @given(expressions())
    def check(template):
        try:
            value = templating.render(template, context)
        except templating.TemplateError:
            return
        assert _plain(value), (template, type(value))
        shown = str(value)
        for leak in (PLANTED, "<class", "<function", "<module", "<built-in", "<bound", "environ("):
            assert leak not in shown, (template, shown[:200])

    check()


# ---------------------------------------------------------------- fuzzers


FLOW_SNIPPETS = [
    "x: &a [1, 2]\ny: *a",
    "extra: !!omap [a: 1]",
    "extra: !!python/object/apply:os.system ['id']",
    "extra: !custom 1",
    "<<: {id: evil}",
    "extra: " + "[" * 60 + "]" * 60,
    "extra: " + "{a: " * 40 + "1" + "}" * 40,
    "timeout: .inf",
    "timeout: -.nan",
    "timeout: 1e400",
    "timeout: 99999999999999999999999999",
    "extra: !!binary aGVsbG8=",
    "%YAML 1.1",
    "---",
    "...",
    "? [a]\n: b",
    "1: 2",
    "null: x",
    "- item",
    'name: "\\0"',
    "name: \t\tbad",
    "name: 'unterminated",
    "name: [unclosed",
    "steps: *nope",
    "extra: !!set {a, b}",
    "extra: !!timestamp 2026-01-01",
    "&anchor name: x",
]
CASE_SNIPPETS = FLOW_SNIPPETS + [
    "incident_at: 2026-13-45T99:00:00+03:00",
    "incident_at: .inf",
    "attachments: [/etc/passwd]",
    "attachments: ['../../etc/hostname']",
    "attachments: [" + "a" * 300 + "]",
    "steps_taken: " + "[x, " * 30 + "x" + "]" * 30,
    "previous_requests: [{number: 1, date: 99999-01-01}]",
    "language: xx",
    "kind: " + "z" * 1000,
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**20, max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "{{ case.__class__ }}",
            "{{ vars.x }}",
            "{{ case.nope }}",
            "{{ base_url",
            "((",
            "",
            " ",
            '{{ case.order_id | default("нет") }}',
            "x" * 100_001,
            "-1",
            "0",
            "1e309",
        ]
    ),
)
values = st.one_of(
    st.just([]),
    st.just({}),
    st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=4), st.dictionaries(st.text(max_size=8), inner, min_size=1, max_size=4)
        ),
        max_leaves=12,
    ),
)


def _paths(data, loc=()):
    yield loc
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, loc + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _paths(value, loc + (i,))


def _mutate_data(draw, data):
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        loc = draw(st.sampled_from(paths))
        parent = data
        for part in loc[:-1]:
            parent = parent[part]
        op = draw(st.sampled_from(["drop", "retype", "duplicate", "nest"]))
        last = loc[-1]
        if op == "drop":
            del parent[last]
        elif op == "retype":
            parent[last] = draw(values)
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(parent[last])
        elif op == "duplicate":
            parent[f"{last}"[:1] + draw(st.text(max_size=6))] = parent[last]
        else:
            parent[last] = [parent[last]] if draw(st.booleans()) else {"x": parent[last]}
    out = StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.width = 4096
    yaml.dump(data, out)
    return out.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def mutated(draw, text: str, snippets: list[str]) -> bytes:
    how = draw(st.sampled_from(["data", "data", "snippet", "snippet", "bytes", "unicode", "lines"]))
    if how == "data":
        return _mutate_data(draw, yamlsource.load("<fuzz>", text=text).data)
    lines = text.splitlines()
    at = draw(st.integers(0, len(lines)))
    if how == "snippet":
        snippet = draw(st.sampled_from(snippets))
        indent = draw(st.sampled_from(["", "  ", "    "]))
        lines[at:at] = [indent + line for line in snippet.splitlines()]
        return ("\n".join(lines) + "\n").encode("utf-8")
    if how == "lines":  # duplicate, drop or swap lines: duplicate keys, broken indentation
        if lines:
            i = draw(st.integers(0, len(lines) - 1))
            action = draw(st.sampled_from(["dup", "drop", "swap"]))
            if action == "dup":
                lines.insert(i, lines[i])
            elif action == "drop":
                del lines[i]
            else:
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raw = text.encode("utf-8")
    pos = draw(st.integers(0, len(raw)))
    if how == "bytes":
        junk = draw(st.binary(min_size=1, max_size=16))
        return raw[:pos] + junk + raw[pos + draw(st.integers(0, 8)) :]
    junk = draw(st.text(min_size=1, max_size=16)).encode("utf-8", "surrogatepass")
    return raw[:pos] + junk + raw[pos:]


def _fuzz_files(pytestconfig, root: Path, kind: str, text: str, snippets, command, **clean) -> None:
    """Validate each generated file through the CLI; assert none ends in a traceback."""
    seen = {"files": 0, "ok": 0, "bad": 0}

    @fuzz_settings(pytestconfig, kind)
    @given(mutated(text, snippets))
    def check(content):
        seen["files"] += 1
        path = root / f"{kind}-{seen['files']}.yaml"
        path.write_bytes(content)
        result = invoke(*command(path), home=root / "home")
        assert_clean(result, path, **clean)
        seen["ok" if result.exit_code == 0 else "bad"] += 1
        path.unlink()

    check()
    print(f"fuzzed {kind} files: {seen}")
    minimum = COUNTS[kind][1 if pytestconfig.getoption("--fuzz-long") else 0]
    assert seen["files"] >= minimum and seen["bad"] > minimum // 2


def test_fuzzed_flow_files_end_cleanly(pytestconfig, tmp_path):
    root = workspace(tmp_path)
    _fuzz_files(
        pytestconfig,
        root,
        "flow",
        demo_text(),
        FLOW_SNIPPETS,
        lambda path: ("flow", "validate", str(path)),
        also=root / "samples" / "demo-case.yaml",
    )  # its test: block's sample case


def test_fuzzed_case_files_end_cleanly(pytestconfig, tmp_path):
    root = workspace(tmp_path)
    _fuzz_files(
        pytestconfig,
        root,
        "case",
        DEMO_CASE.read_text(encoding="utf-8"),
        CASE_SNIPPETS,
        lambda path: ("check", "--case", str(path)),
        lint=True,
    )


# argv cannot hold a NUL byte, so the option fuzzer's text has none.
argv_text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=60)
CASE_FIELDS = {"case": templating.shape_of(Case)}


@st.composite
def option_sets(draw) -> list[str]:
    command = draw(st.sampled_from(["check", "compose", "flow validate", "submit"]))
    flow_name = draw(
        st.one_of(
            argv_text,
            st.sampled_from(
                ["../../etc/passwd", "/etc/passwd", "x" * 5000, "demo.yml", "-", "--help-me", "demo/../demo"]
            ),
        )
    )
    if command == "flow validate":
        return ["flow", "validate", flow_name]
    if command in ("check", "compose"):
        case = draw(st.one_of(st.just("CASE"), argv_text, st.sampled_from(["/etc/passwd", "/proc/self/environ", "/"])))
        args = [command, "--case", case, "--flow", flow_name]
        if command == "compose" and draw(st.booleans()):
            args += ["--lang", draw(argv_text)]
        return args
    # submit: an invalid --set always stops it before a browser starts (checked below)
    field = draw(
        argv_text.filter(lambda f: templating.check_name("case." + f.split("=")[0].strip(), CASE_FIELDS) is not None)
    )
    args = ["submit", "demo", "--case", "CASE", "--dry-run", "--set", field + "=" + draw(argv_text)]
    if draw(st.booleans()):
        args += ["--timeout", draw(st.one_of(argv_text, st.sampled_from(["nan", "inf", "-1", "0", "1e400"])))]
    if draw(st.booleans()):
        args += [
            "--base-url",
            draw(
                st.one_of(
                    argv_text,
                    st.sampled_from(
                        [
                            "file:///etc/passwd",
                            "javascript:alert(1)",
                            "http://127.0.0.2:18802\\@127.0.0.1/",
                            "http://[::1",
                        ]
                    ),
                )
            ),
        ]
    return args


def test_fuzzed_options_end_cleanly(pytestconfig, tmp_path):
    root = workspace(tmp_path)
    case = str(root / "demo-case.yaml")

    @fuzz_settings(pytestconfig, "options")
    @given(option_sets())
    def check(args):
        args = [case if a == "CASE" else a for a in args]
        result = invoke(*args, home=root / "home")
        assert_clean(result, None)
        if args[0] in ("check", "compose", "submit"):
            # the demo case names the demo flow; an unknown --flow, a bad --set: always bad input
            # "" means the case's own flow, demo
            assume(args[0] == "submit" or args[2] != case or args[4] not in ("", "demo", "demo.yaml"))
            assert result.exit_code == 2, (args, result.output)
        for line in result.stderr.splitlines():
            assert line.strip() == "" or not line.startswith(("Traceback", "  File ")), line

    check()


# ------------------------------------------------- templates at run time (browser)


def test_goto_with_vars_after_the_extract_runs(portal, tmp_path):
    """A goto built from an extracted value: the pre-run check leaves it to run time (it used to raise)."""
    flows = tmp_path / "flows"
    flows.mkdir()
    text = replace_once(
        demo_text(),
        "  - screenshot: home\n",
        '  - extract: { var: here, from: url }\n  - goto: "{{ vars.here }}"\n  - screenshot: home\n',
    )
    (flows / "demo.yaml").write_text(text, encoding="utf-8")
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        portal.url,
        "--dry-run",
        home=tmp_path / "home",
        env={"ASSISTANT_FLOWS": str(flows)},
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and portal.received == []


def test_a_template_failing_at_run_time_is_a_clean_error_naming_the_line(portal, tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    text = replace_once(
        demo_text(),
        "  - screenshot: home\n",
        '  - extract: { var: here, from: url }\n  - goto: "{{ vars.here | date }}"\n',
    )
    (flows / "demo.yaml").write_text(text, encoding="utf-8")
    done = run_cli(
        "submit",
        "demo",
        "--case",
        str(write_case(tmp_path)),
        "--base-url",
        portal.url,
        "--yes",
        home=tmp_path / "home",
        env={"ASSISTANT_FLOWS": str(flows)},
    )
    line = line_of(text, "vars.here | date")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    errors = [l for l in done.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {flows / 'demo.yaml'}:{line}: step 3 (goto ")
    assert "filter 'date' needs a date or time" in errors[0]
    assert portal.received == []


@pytest.mark.parametrize("base_url", ["http://[::1", "javascript:alert(1)", "file:///etc/passwd", "127.0.0.1:8000"])
def test_a_bad_base_url_is_bad_input_before_any_browser(tmp_path, base_url):
    workspace(tmp_path)
    result = invoke(
        "submit",
        "demo",
        "--case",
        str(tmp_path / "demo-case.yaml"),
        "--base-url",
        base_url,
        "--dry-run",
        home=tmp_path / "home",
    )
    assert_clean(result, None)
    assert result.exit_code == 2 and result.stderr.startswith("error: --base-url: "), result.output
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("homepage", ["http://[::1", "http://a.example\\@b.example/", "javascript:alert(1)"])
def test_a_homepage_the_browser_would_read_differently_fails_validation(tmp_path, homepage):
    workspace(tmp_path)
    path = tmp_path / "flow.yaml"
    path.write_text(
        replace_once(demo_text(), 'homepage: "{{ base_url }}/"', f"homepage: '{homepage}'"), encoding="utf-8"
    )
    result = invoke("flow", "validate", str(path), home=tmp_path / "home")
    assert_clean(result, path, also=tmp_path / "samples" / "demo-case.yaml")
    assert result.exit_code == 2 and f"{path}:8:1: homepage: " in result.output, result.output


def test_a_login_url_whose_filter_fails_is_bad_input_naming_the_line(tmp_path):
    workspace(tmp_path)
    flow = (Path(__file__).parent / "flows" / "harder-login.yaml").read_text(encoding="utf-8")
    flow = replace_once(flow, 'url: "{{ base_url }}/login"', 'url: "{{ base_url | date }}/login"')
    path = tmp_path / "flows" / "login.yaml"
    path.parent.mkdir()
    path.write_text(flow, encoding="utf-8")
    result = invoke("login", str(path), "--base-url", "http://127.0.0.1:9", home=tmp_path / "home")
    assert_clean(result, None)
    assert result.exit_code == 2, result.output
    assert f"{path}:13:3: login.url: filter 'date' needs a date or time" in result.stderr, result.stderr


def test_a_pipe_or_device_named_as_a_case_or_flow_is_refused_without_reading(tmp_path):
    fifo = tmp_path / "case.yaml"
    os.mkfifo(fifo)  # nobody writes to it: reading would hang
    for args in (("check", "--case", str(fifo)), ("flow", "validate", str(fifo)), ("check", "--case", "/dev/zero")):
        result = invoke(*args, home=tmp_path / "home")
        assert_clean(result, None)
        assert result.exit_code == 2 and "not a regular file" in result.output, (args, result.output)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308", "0"])
def test_timeouts_on_the_command_line_are_finite_and_bounded(tmp_path, value):
    workspace(tmp_path)
    result = invoke(
        "submit",
        "demo",
        "--case",
        str(tmp_path / "demo-case.yaml"),
        "--base-url",
        "http://127.0.0.1:9",
        "--timeout",
        value,
        "--dry-run",
        home=tmp_path / "home",
    )
    assert_clean(result, None)
    assert result.exit_code == 2 and "Invalid value for '--timeout'" in result.output, result.output


@pytest.mark.parametrize(
    "url, message",
    [
        ("https://evil.example/phish", "evil.example is not in allowed_hosts (127.0.0.1, localhost)"),
        ("http://127.0.0.1:8443/x", "127.0.0.1:8443 is not in allowed_hosts"),
        ("http://127.0.0.2\\\\@127.0.0.1/", "has a backslash"),
    ],
)
def test_a_literal_goto_the_flow_does_not_allow_fails_validation(tmp_path, url, message):
    workspace(tmp_path)
    path = tmp_path / "flow.yaml"
    text = replace_once(demo_text(), '  - goto: "{{ base_url }}/"', f'  - goto: "{url}"')
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index(f'  - goto: "{url}"') + 1
    result = invoke("flow", "validate", str(path), home=tmp_path / "home")
    assert_clean(result, path, also=tmp_path / "samples" / "demo-case.yaml")
    assert result.exit_code == 2 and f"{path}:{line}:5: steps[0].goto" in result.output and message in result.output, (
        result.output
    )


@pytest.mark.parametrize("kind", ["file", "device", "proc", "under-a-file"])
def test_a_home_folder_nothing_can_be_kept_in_is_refused_in_one_line(tmp_path, kind):
    """--home (or ASSISTANT_HOME) that is a file, a device, a folder of /proc, or a path under a
    file: one line naming it and what to do, exit 2, before anything runs."""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder\n")
    home = {
        "file": a_file,
        "device": Path("/dev/null"),
        "proc": Path(f"/proc/{os.getpid()}"),
        "under-a-file": a_file / "home",
    }[kind]
    workspace(tmp_path)
    for args in (
        ("cases", "list"),
        ("check", "--case", str(tmp_path / "demo-case.yaml")),
        ("submit", "demo", "--case", str(tmp_path / "demo-case.yaml"), "--base-url", "http://127.0.0.1:9", "--yes"),
    ):
        result = invoke(*args, home=home)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.exit_code == 2 and len(lines) == 1, (args, result.output)
        assert lines[0].startswith(f"error: home folder {home}: ") and "--home DIR or ASSISTANT_HOME" in lines[0]
    assert a_file.read_text() == "not a folder\n"
