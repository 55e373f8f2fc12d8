"""Drafts for when support does not answer: a complaint to the regulator, a pre-trial claim, a review.

Nothing is sent: the person reads, signs and files these themselves. Each is
written as text and as a PDF, printed by the same Chromium the assistant drives
(Playwright's page.pdf), so there is no second rendering engine to install.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from assistant.casework.compose import compose
from assistant.language.case import Case

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>
  @page {{ size: A4; margin: 20mm 18mm; }}
  body {{ font-family: "DejaVu Serif", "Times New Roman", serif; font-size: 12pt; line-height: 1.4;
          font-variant-ligatures: none; }}  /* "ff" in a hash must copy as two letters */
  p {{ margin: 0 0 0.8em 0; white-space: pre-wrap; overflow-wrap: anywhere; }}
  p.head {{ text-align: right; }}
  p.title {{ text-align: center; }}
  p.title::first-line {{ font-weight: bold; letter-spacing: 0.05em; }}
</style></head>
<body>
{paragraphs}
</body></html>
"""


def to_html(text: str, lang: str, title: str) -> str:
    paragraphs = []
    for index, block in enumerate(text.strip().split("\n\n")):
        escaped = html.escape(block)
        css = ' class="head"' if index == 0 and block.count("\n") >= 1 and len(block) < 300 else ""
        first_line = block.split("\n")[0]
        if first_line.isupper() and len(first_line) < 60:  # "ЖАЛОБА", "PRE-TRIAL CLAIM": centred heading
            css = ' class="title"'
        paragraphs.append(f"<p{css}>{escaped}</p>")
    return PAGE.format(lang=lang, title=html.escape(title), paragraphs="\n".join(paragraphs))


def draft(case: Case, target: str, flow=None, lang: str | None = None) -> tuple[str, str]:
    """The text of the draft and a title for it."""
    request = compose(case, flow=flow, lang=lang, kind=target)
    first = request.body.strip().split("\n")[0]
    return request.body, first


def write(
    case: Case,
    target: str,
    out: Path,
    *,
    flow=None,
    lang: str | None = None,
    to_pdf: Callable[[str], bytes] | None = None,
) -> dict[str, str]:
    """The draft as text and HTML, and as a PDF when given a printer (assistant.run.browser.html_to_pdf)."""
    text, title = draft(case, target, flow, lang)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / target
    paths = {"text": str(stem.with_suffix(".txt")), "html": str(stem.with_suffix(".html"))}
    Path(paths["text"]).write_text(text + "\n", encoding="utf-8")
    page_html = to_html(text, lang or case.language, title)
    Path(paths["html"]).write_text(page_html, encoding="utf-8")
    if to_pdf is not None:
        Path(stem.with_suffix(".pdf")).write_bytes(to_pdf(page_html))
        paths["pdf"] = str(stem.with_suffix(".pdf"))
    return paths
