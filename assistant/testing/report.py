"""`assistant replay --html FILE`: the replay as a page a person reads.

One row per flow: its result, its time, and for a failure the failing step
(flow file:line), what went wrong, the screenshot of the page at that moment
and links to the page's HTML and the Playwright trace. Files are linked by
paths relative to the report, so the report and --output can be moved (or
kept as a CI artifact) together. Everything shown is escaped: a flow's
message quotes the provider's page.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.4rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .4rem .6rem; border-bottom: 1px solid #ddd; }
td.time { white-space: nowrap; }
tr.passed td.result { color: #17692b; font-weight: bold; }
tr.failed td.result { color: #a4161a; font-weight: bold; }
pre { white-space: pre-wrap; margin: 0 0 .4rem; font-size: .85rem; }
img { max-width: 480px; border: 1px solid #ccc; display: block; margin-top: .4rem; }
.summary { margin-bottom: 1rem; }
"""


def _link(path: str | None, base: Path) -> str | None:
    if not path:
        return None
    return Path(os.path.relpath(Path(path).resolve(), base.resolve())).as_posix()


def _row(record: Any, base: Path) -> str:
    result = "passed" if record.ok else "failed"
    details: list[str] = []
    if record.ok:
        details.append(escape(record.confirmation or record.message or ""))
    else:
        if record.step:
            details.append(f'<div class="step">failing step: <code>{escape(record.step)}</code></div>')
        details.append(f"<pre>{escape(record.message)}</pre>")
        shot = _link(record.screenshot, base)
        if shot:
            details.append(
                f'<a href="{escape(shot)}"><img src="{escape(shot)}" alt="screenshot of {escape(record.flow)} at the failure"></a>'
            )
        page = _link(record.page_html, base)
        if page:
            details.append(f'<a href="{escape(page)}">page HTML</a>')
    trace = _link(record.trace, base)
    if trace:
        details.append(
            f' <a class="trace" href="{escape(trace)}">trace</a> '
            f"(<code>playwright show-trace {escape(record.trace)}</code>)"
        )
    return (
        f'<tr class="{result}" id="flow-{escape(record.flow)}">'
        f'<td class="flow">{escape(record.flow)}<br><small>{escape(record.file)}</small></td>'
        f'<td class="result">{result}</td>'
        f'<td class="time">{record.seconds:.1f} s</td>'
        f'<td class="details">{"".join(details)}</td></tr>'
    )


def render(summary: Any, options: Any, base: Path) -> str:
    passed, failed = summary.counts()
    shard = f", shard {options.shard[0]}/{options.shard[1]} of {summary.chosen} flows" if options.shard else ""
    mode = "live sites, up to the submit step" if options.live else "replicas"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = "\n".join(_row(r, base) for r in summary.records)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>assistant replay: {passed} passed, {failed} failed</title>
<style>{STYLE}</style></head>
<body>
<h1>assistant replay</h1>
<p class="summary"><strong>{passed} passed, {failed} failed</strong> in {summary.seconds:.1f} s on {escape(mode)},
{options.workers} worker(s){escape(shard)}; {escape(when)}.</p>
<table>
<thead><tr><th>flow</th><th>result</th><th>time</th><th>details</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def write_html(path: Path, summary: Any, options: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(summary, options, path.parent), encoding="utf-8")
    return path
