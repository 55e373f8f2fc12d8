"""A real confirmation page, from the evidence of one real submission, into a flow and its replica.

`assistant flow snapshot NAME --confirmation EVIDENCE_DIR` reads the page the
provider showed after the submit click (kept in the evidence folder), puts it
into the replica as done.html with the person's data replaced by the sample
case's and the number as the replica's `$number`, and drafts the flow's
`success:` and `confirmation:` from where the number sits (an element on the
page, or the address). `verified_confirmation:` gets today's date: the only
way it is set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from assistant.errors import InputError
from assistant.translation import _

# Finds the element that shows the number and a sentence that proves success, in a browser
# with scripts off and the network closed: the same engine that will run the flow's selectors.
LOCATE_JS = r"""
([number, avoid]) => {
  const clean = (t) => (t || "").replace(/\s+/g, " ").trim();
  const plain = /^[A-Za-z][\w-]*$/;
  const unique = (sel) => { try { return document.querySelectorAll(sel).length === 1; } catch (e) { return false; } };
  let host = null;
  const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.nodeValue.includes(number)) { host = node.parentElement; break; }
  }
  let selector = null, text = null;
  for (let el = host; el && el !== document.body && !selector; el = el.parentElement) {
    const tag = el.tagName.toLowerCase();
    const tries = [];
    if (el.id && plain.test(el.id)) tries.push("#" + el.id);
    for (const c of el.classList) if (plain.test(c)) tries.push(tag + "." + c);
    for (const t of tries) if (unique(t)) { selector = t; text = clean(el.innerText); break; }
  }
  const sentences = [];
  for (const el of document.querySelectorAll("h1, h2, [role=status], [class*=success], [class*=thank], p, li, dd")) {
    for (const part of clean(el.innerText).split(/(?<=[.!?])\s+/)) sentences.push(part);
  }
  const proof = sentences.find((s) => s.length >= 6 && s.length <= 120 && !s.includes(number)
    && !/\d{3,}/.test(s) && !avoid.some((a) => a && s.toLowerCase().includes(a.toLowerCase())));
  return { selector, text, proof: proof || null, found: !!host, body: clean((document.body || {}).innerText) };
}
"""

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A phone as people write one (+7 912 345-67-89, 8 (912) 345 67 89), not a date or an order number.
PHONE = re.compile(r"(?<![\w+])(?:\+\d|8)[\d\s()\-]{9,}\d")


@dataclass
class Page:
    html: str
    url: str


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise InputError(
            _(
                "--confirmation: {folder} has no manifest.json; give the folder of a kept evidence package "
                "(`assistant submit … --out DIR`, or one under the assistant's home evidence/)"
            ).format(folder=folder)
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            _("--confirmation: {path}: not readable JSON ({error})").format(path=path, error=exc)
        ) from None
    if not isinstance(data, dict):
        raise InputError(_("--confirmation: {path}: not an evidence manifest").format(path=path))
    return data


def confirmation_page(folder: Path, manifest: dict[str, Any]) -> Page:
    """The page the provider showed after the click: the one at the confirmation address, else the last."""
    pages = [
        f
        for f in manifest.get("files", [])
        if str(f.get("path", "")).startswith("pages/") and f["path"].endswith(".html")
    ]
    if not pages:
        raise InputError(_("--confirmation: {folder} holds no page snapshots (pages/*.html)").format(folder=folder))
    wanted = (manifest.get("submission") or {}).get("confirmation_url")
    chosen = next((f for f in reversed(pages) if wanted and (f.get("meta") or {}).get("url") == wanted), None)
    chosen = chosen or sorted(pages, key=lambda f: f["path"])[-1]
    path = (folder / chosen["path"]).resolve()
    if folder.resolve() not in path.parents or not path.is_file():
        raise InputError(
            _("--confirmation: {file} is missing from {folder}").format(file=chosen["path"], folder=folder)
        )
    return Page(path.read_text(encoding="utf-8", errors="replace"), str((chosen.get("meta") or {}).get("url", "")))


def number_shape(number: str) -> str:
    """A regex for numbers like this one: its letters as they are, each run of digits as digits."""
    return "".join(r"\d+" if part.isdigit() else re.escape(part) for part in re.split(r"(\d+)", number) if part)


def _regex_in(text: str, number: str) -> str:
    """A regex whose first match in `text` is the number (with the words before it when needed)."""
    shape = number_shape(number)
    found = re.search(shape, text)
    if found and found.group(0) == number:
        return shape
    at = text.find(number)
    before = text[max(0, at - 12) : at] if at > 0 else ""
    return f"{re.escape(before)}({shape})"


def _personal(manifest: dict[str, Any], case: Any) -> list[tuple[str, str]]:
    """(the real person's value, the sample case's) pairs to replace in the page."""
    real = manifest.get("case") or {}
    request = manifest.get("request") or {}
    sample = case.contacts
    pairs = [
        (str(real.get("contact") or ""), sample.full_name),
        (str(real.get("order_id") or ""), str(case.order_id or "")),
        (str(real.get("subject") or ""), case.subject or ""),
        (str(request.get("subject") or ""), case.subject or ""),
    ]
    body = str(request.get("body") or "")
    pairs += [(found, str(sample.email)) for found in EMAIL.findall(body)]
    pairs += [
        (found.strip(), sample.phone or "") for found in PHONE.findall(body) if len(re.sub(r"\D", "", found)) >= 10
    ]
    # "Thanks, Boris!": a page may greet the person by one part of the name.
    real_words, sample_words = str(real.get("contact") or "").split(), sample.full_name.split()
    pairs += [(a, b) for a, b in zip(real_words, sample_words, strict=False) if len(a) >= 3]
    return sorted({(a, b) for a, b in pairs if len(a) >= 3 and a != b}, key=lambda p: -len(p[0]))


def scrub(html: str, number: str, pairs: list[tuple[str, str]], sample_email: str, provider: str = "") -> str:
    """The page as a replica template: the person's data replaced, the number a `$number` slot.

    Any other email address is taken for the person's too, except the provider's own (its domain)."""
    html = re.sub(r"<script\b[^>]*>.*?</script\s*>", "", html, flags=re.I | re.S)  # replicas serve no scripts
    marker = "\x00NUMBER\x00"
    html = html.replace(number, marker)
    for real, replacement in pairs:
        html = html.replace(real, replacement)
        escaped = real.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        html = html.replace(escaped, replacement)
    own = ".".join(provider.lower().split(".")[-2:])

    def person(found: re.Match) -> str:
        domain = found.group(0).rsplit("@", 1)[1].lower()
        return found.group(0) if own and (domain == own or domain.endswith("." + own)) else sample_email

    html = EMAIL.sub(person, html)
    return html.replace("$", "$$").replace(marker, "$number")


def capture(
    folder: Path,
    flow_path: Path,
    site: Path,
    *,
    number: str | None,
    today: date,
    browser_path: str | None,
    home: Path,
    no_number: bool = False,
    log: Callable[[str], None] = lambda m: None,
) -> list[Path]:
    """`no_number`: the page thanks and gives no number (`confirmation: none`); also assumed when
    the run itself ended accepted with no number."""
    from assistant.language.case import load_case
    from assistant.language.flow import load_flow

    if not flow_path.is_file():
        raise InputError(
            _("{path}: no such flow; snapshot the form first (`assistant flow snapshot URL NAME`)").format(
                path=flow_path
            )
        )
    flow = load_flow(flow_path)
    if flow.test is None:
        raise InputError(_("{path}: no test: block naming a replica and a sample case").format(path=flow_path))
    if no_number and number:
        raise InputError(_("give --number N (the number the page showed) or --no-number (it showed none), not both"))
    case = load_case(flow.sample_case(), {"provider": flow.id})
    manifest = _read_manifest(folder)
    submission = manifest.get("submission") or {}
    number = number or submission.get("confirmation")
    no_number = no_number or (not number and submission.get("outcome") == "accepted")
    if not number and not no_number:
        raise InputError(
            _(
                "--confirmation: the run in {folder} did not read a request number (outcome {outcome}); pass "
                "--number N as the page showed it, or --no-number when the page thanks you and shows none"
            ).format(folder=folder, outcome=submission.get("outcome") or "unknown")
        )
    page = confirmation_page(folder, manifest)
    address = unquote(page.url or submission.get("confirmation_url") or "")
    pairs = _personal(manifest, case)
    avoid = [a for pair in pairs for a in pair] + [str(case.contacts.email)]
    provider = urlsplit(flow.homepage).hostname or ""
    if no_number:
        template = scrub(page.html, "\x00", pairs, str(case.contacts.email), provider)
        found = _locate(page.html, "\x00", avoid, browser_path, home)  # a number no page holds: the proof only
        if not found["proof"]:
            raise InputError(
                _(
                    "--confirmation: no sentence on the page ({address}) proves success without personal "
                    "data; write success: by hand (see docs/flows.md)"
                ).format(address=page.url or _("no address"))
            )
        written = _write_replica(site, template, None, address, False, log)
        _update_flow(flow_path, {"text": found["proof"]}, "none", None, today)
        log(
            _("success: {success}; confirmation: none (the page gives no number)").format(
                success={"text": found["proof"]}
            )
        )
        return [*written, flow_path]
    assert number is not None
    template = scrub(page.html, number, pairs, str(case.contacts.email), provider)
    found = _locate(page.html, number, avoid, browser_path, home)
    in_address = number in address
    if not found["found"] and not in_address:
        raise InputError(
            _(
                "--confirmation: {number!r} is neither on the page ({address}) nor in its address; check --number"
            ).format(number=number, address=page.url or _("no address"))
        )
    success: dict[str, str]
    if found["proof"]:
        success = {"text": found["proof"]}
    elif found["selector"]:
        success = {"selector": found["selector"]}
    else:
        success = {"url": _glob(address, number)}
    if found["found"]:
        # On the page: its own element when one names it uniquely, else the page's text with the
        # words before the number. Never the address for a number the address does not hold.
        selector = found["selector"] or "body"
        text = found["text"] if found["selector"] else found["body"]
        confirmation = {"selector": selector, "regex": _regex_in(text or "", number)}
    else:
        confirmation = {"from": "url", "regex": _regex_in(address, number)}
    read = _read_rule(page.html, address, confirmation, browser_path, home)
    if read != number:
        raise InputError(
            _(
                "--confirmation: the rule learned from the page ({rule}) reads {read!r} there, not {number!r}; "
                "nothing was written. Write the flow's confirmation: by hand (see docs/flows.md)"
            ).format(rule=confirmation, read=read, number=number)
        )
    written = _write_replica(site, template, number, address, in_address, log)
    _update_flow(flow_path, success, confirmation, number_shape(number), today)
    written.append(flow_path)
    log(f"success: {success}; confirmation: {confirmation}")
    return written


def _write_replica(
    site: Path, template: str, number: str | None, address: str, in_address: bool, log: Callable[[str], None]
) -> list[Path]:
    """The real page as the replica's done.html, at the real address, giving numbers like the real one."""
    written = [site / "done.html"]
    (site / "done.html").write_text(template, encoding="utf-8")
    digits = re.search(r"(\d+)$", number) if number else None
    meta_path = site / "fields.json"
    replica_reads_meta = meta_path.is_file() and 'META.get("number"' in (site / "site.py").read_text(encoding="utf-8")
    if replica_reads_meta:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if number and digits:
            meta["number"] = {"prefix": number[: digits.start()], "digits": len(digits.group(1))}
        parts = urlsplit(address)
        if parts.path:
            # The replica's done page at the real address: the number in it only when it is there.
            where = parts.path + (f"?{parts.query}" if parts.query else "")
            meta["done"] = where.replace(number, "{number}") if number and in_address else where
        meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(meta_path)
    else:
        log(
            _(
                "note: make the replica's site.record give numbers like {number!r} "
                "(prefix and digits=) and show done.html at the real address"
            ).format(number=number)
        )
    return written


def _glob(address: str, number: str) -> str:
    parts = urlsplit(address)
    return "**" + (parts.path + (f"?{parts.query}" if parts.query else "")).replace(number, "*")


def _in_page(html: str, browser_path: str | None, home: Path, script: str, arg: Any) -> Any:
    """`script` run on the saved page, in a browser with scripts off and the network closed."""
    from assistant.run import browser as browsers
    from assistant.run.scratch import run_folder

    with run_folder(home), browsers.open_browser(browser_path) as (_started, browser, _choice):
        context = browser.new_context(java_script_enabled=False)
        context.route("**/*", lambda route: route.abort())  # the saved page may name the real site's files
        page = context.new_page()
        page.set_content(html, wait_until="domcontentloaded")
        result = page.evaluate(script, arg)
        context.close()
    return result


def _locate(html: str, number: str, avoid: list[str], browser_path: str | None, home: Path) -> dict[str, Any]:
    result: dict[str, Any] = _in_page(html, browser_path, home, LOCATE_JS, [number, avoid])
    return result


READ_JS = r"""
(selector) => { const el = document.querySelector(selector); return el ? el.innerText : null; }
"""


def _read_rule(html: str, address: str, rule: dict[str, str], browser_path: str | None, home: Path) -> str | None:
    """What the learned rule reads on the page it was learned from, as the runner would read it."""
    if rule.get("from") == "url":
        raw: str | None = address
    else:
        raw = _in_page(html, browser_path, home, READ_JS, rule["selector"])
    if raw is None:
        return None
    found = re.search(rule["regex"], raw)
    if not found:
        return None
    return (found.group(1) if found.groups() else found.group(0)).strip()


def _update_flow(path: Path, success: dict, confirmation: dict | str, shape: str | None, today: date) -> None:
    """Set the blocks in the flow file, and change no other line: its comments, quoting and
    layout are the maintainer's. ruamel finds where each block is; the lines are edited as text."""

    from ruamel.yaml import YAML

    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    data = YAML(typ="rt").load(text)
    starts = sorted(data.lc.key(k)[0] for k in data)

    def span(key: str) -> tuple[int, int]:
        """The lines of a top-level key's block; the blank lines and the comments at the margin
        after it (they are about the next block) left out."""
        start = data.lc.key(key)[0]
        end = next((s for s in starts if s > start), len(lines))
        while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
            end -= 1
        return start, end

    def block(key: str, value: Any) -> list[str]:
        out = StringIO()
        writer = YAML(typ="rt")
        writer.width = 4096
        writer.dump({key: value}, out)
        return out.getvalue().splitlines(keepends=True)

    edits: list[tuple[int, int, list[str]]] = []  # (first line, line after, new lines)
    for key, value in (("success", success), ("confirmation", confirmation)):
        if key in data:
            edits.append((*span(key), block(key, value)))
        else:
            edits.append((len(lines), len(lines), block(key, value)))
    test = data.get("test")
    if shape is None:  # no number: the test expects accepted with none
        if test is not None and "confirmation" in test:
            line = test.lc.key("confirmation")[0]
            edits.append((line, line + 1, []))
    elif test is not None and "confirmation" in test:
        line, column = test.lc.key("confirmation")
        quoted = "'" + shape.replace("'", "''") + "'"
        edits.append((line, line + 1, [" " * column + f"confirmation: {quoted}\n"]))
    elif test is not None:
        quoted = "'" + shape.replace("'", "''") + "'"
        end = span("test")[1]
        edits.append((end, end, ["  confirmation: " + quoted + "\n"]))
    stamp = [f"verified_confirmation: {today.isoformat()}\n"]
    if "verified_confirmation" in data:
        edits.append((*span("verified_confirmation"), stamp))
    else:
        after = span("verified_live")[1] if "verified_live" in data else 0
        edits.append((after, after, stamp))
    for first, after, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        lines[first:after] = new
    path.write_text("".join(lines), encoding="utf-8")
