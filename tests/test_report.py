"""report.html from its templates: whatever came from a page, a case file or a flow is shown as text."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from evidence import Action, Environment, Manifest, Times
from evidence.manifest import (
    BodyPart,
    FileEntry,
    Fitting,
    FlowRef,
    FormField,
    SentFile,
    SentRequest,
    SubmissionRef,
    SubmittedForm,
    TlsCheck,
)
from evidence.report import render_html

EVIL = "<b id=evil>'\"&amp;</b>"
SHA = "a" * 64


def hostile_manifest() -> Manifest:
    at = datetime(2026, 11, 20, 11, 35, 7, tzinfo=UTC)
    shot = f"screenshots/001{EVIL}.png"
    page = f"pages/001{EVIL}.html"
    files = [
        FileEntry(
            path=shot,
            sha256=SHA,
            size=10,
            media_type="image/png",
            role="screenshot",
            captured_at=at,
            meta={
                "url": f"https://x.example/a?q={EVIL}",
                "title": EVIL,
                "cut": EVIL,
                "secret_hidden": EVIL,
                "html": page,
            },
        ),
        FileEntry(path=page, sha256=SHA, size=1, media_type="text/html", role="page", meta={"inert": {"removed": {}}}),
        FileEntry(path=f"attachments/{EVIL}", sha256=SHA, size=1, media_type="text/plain", role="attachment"),
        FileEntry(
            path=f"attachments/fitted/{EVIL}",
            sha256=SHA,
            size=1,
            media_type="image/jpeg",
            role="attachment-fitted",
            meta={"from": [EVIL]},
        ),
    ]
    request = SentRequest(
        method=EVIL,
        url=EVIL,
        content_type=EVIL,
        note=EVIL,
        parts=[BodyPart(name=EVIL, value=EVIL), BodyPart(name="f", file=SentFile(name=EVIL, size=1, path=EVIL))],
    )
    return Manifest(
        tool=EVIL,
        created_at=at,
        case={"subject": EVIL, "order_id": EVIL, "nested": {EVIL: [EVIL, f"http://{EVIL}"]}, "incident_at": EVIL},
        request={"subject": EVIL, "body": f"line\n{EVIL}"},
        flow=FlowRef(id=EVIL, version=EVIL, sha256=SHA, file=EVIL),
        environment=Environment(
            os=EVIL,
            os_version="",
            kernel=EVIL,
            architecture="",
            python="",
            reported_device={"model": EVIL},
            tls=[TlsCheck(origin=EVIL, validated=False, how=EVIL, subject=EVIL)],
        ),
        times=Times(
            person_zone="Europe/Moscow",
            person_zone_from=EVIL,
            clock=EVIL,
            authority_time=at,
            authority_signer=EVIL,
            clock_offset_seconds=-300,
        ),
        actions=[
            Action(
                index=0,
                kind="goto",
                description=EVIL,
                started_at=at,
                ended_at=at + timedelta(seconds=1),
                url_after=f"https://x.example/{EVIL}",
                status="failed",
                error=EVIL,
                files=[shot],
            )
        ],
        submission=SubmissionRef(dry_run=False, outcome="rejected", reason=EVIL, confirmation_url=EVIL),
        fitting=[Fitting(sources=[EVIL], result=EVIL, actions=[EVIL], size=1)],
        form=SubmittedForm(
            read_at=at,
            page_url=EVIL,
            fields=[
                FormField(label=EVIL, name=EVIL, type=EVIL, value=f"two\n{EVIL}"),
                FormField(name="agree", type="checkbox", value=EVIL, checked=True),
                FormField(name="many", type="select-multiple", value=[EVIL, EVIL]),
            ],
            request=request,
        ),
        timestamp_authority=EVIL,
        files=files,
    )


def test_every_outside_value_is_escaped_text():
    report = render_html(hostile_manifest())
    assert "<b id=evil>" not in report and "id=evil>" not in report.replace("id=evil&gt;", "")
    shown = html.escape(EVIL, quote=True)  # &lt;b id=evil&gt;&#x27;&quot;&amp;amp;&lt;/b&gt;, as the report writes it
    assert report.count(shown) >= 40
    # Inside attributes the quotes are escaped too: the picture's src and alt stay one value each.
    [img] = re.findall(r"<img [^>]*>", report)
    assert img.count("'") == 4 and "&#x27;" in img
    # Text that looks like an address is never a link; the only markup is the report's own.
    assert "<a " not in report and "href" not in report
    assert {tag.lower() for tag in re.findall(r"<([a-zA-Z0-9]+)", report)} <= {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "table", "thead", "tr", "th", "td",
        "col", "span", "wbr", "br", "b", "code", "pre", "div", "figure", "img", "figcaption",
    }  # fmt: skip


def test_the_report_reads_the_same_with_or_without_each_part():
    bare = hostile_manifest().model_copy(
        update={"form": None, "request": None, "flow": None, "submission": None, "times": None, "fitting": []}
    )
    report = render_html(bare.model_copy(update={"actions": [], "timestamp_authority": None}))
    assert "<h2>Timeline</h2>" not in report and "Submitted form" not in report
    assert "none: the times are this machine's clock" in report
    assert report.endswith("</body></html>\n")
