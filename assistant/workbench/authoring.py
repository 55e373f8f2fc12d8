"""The maintainers' workbench: scaffold a flow, snapshot a real form, check a flow.

`new` writes a flow, a replica and a sample case that pass `assistant flow
test` at once; `snapshot` starts the replica from a real page's form and
drafts the flow's steps from its fields; `check` walks a flow up to, not
including, the submit click, on the replica or on the live site.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assistant.errors import InputError

SCAFFOLD = Path(__file__).resolve().parent / "scaffold"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass
class Places:
    flows: Path
    sites: Path

    @classmethod
    def default(cls, flows: str | Path | None = None, sites: str | Path | None = None) -> Places:
        """flows/ in the current folder (the repository or flow pack being worked on), and the
        replica beside the flow in flows/replicas/, so that the folder is whole on its own."""
        folder = Path(flows) if flows else Path("flows")
        return cls(folder, Path(sites) if sites else folder / "replicas")

    def flow(self, name: str) -> Path:
        return self.flows / f"{name}.yaml"

    def site(self, name: str) -> Path:
        return self.sites / name

    def case(self, name: str) -> Path:
        return self.flows / "samples" / f"{name}-case.yaml"


def _check_name(name: str) -> None:
    if not NAME.match(name):
        raise InputError(f"NAME: {name!r} must be lower-case letters, digits and '-', like acme-support")


def _refuse_existing(paths: list[Path], force: bool) -> None:
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise InputError(f"already exists: {', '.join(existing)}; choose another NAME or pass --force")


def _relative(target: Path, start: Path) -> str:
    import os

    return Path(os.path.relpath(target, start)).as_posix()


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    return template


def _write_sample_case(
    places: Places, name: str, category: str, media_types: list[str] | None = None, attach: bool = True
) -> Path:
    case = places.case(name)
    case.parent.mkdir(parents=True, exist_ok=True)
    pdf_only = media_types is not None and "image/png" not in media_types and "application/pdf" in media_types
    attachment = f"{name}-receipt.pdf" if pdf_only else f"{name}-screenshot.png"
    text = (SCAFFOLD / "case.yaml").read_text(encoding="utf-8")
    text = _fill(text, {"name": name, "category": category, "attachment": attachment})
    if not attach:  # the form takes no files
        text = text[: text.index("attachments:")]
    case.write_text(text, encoding="utf-8")
    if not attach:
        return case
    shutil.copy(SCAFFOLD / ("sample-receipt.pdf" if pdf_only else "sample-screenshot.png"), case.parent / attachment)
    return case


ACCEPT = {
    ".pdf": ["application/pdf"],
    "application/pdf": ["application/pdf"],
    ".png": ["image/png"],
    ".jpg": ["image/jpeg"],
    ".jpeg": ["image/jpeg"],
    "image/*": ["image/png", "image/jpeg"],
    "image/png": ["image/png"],
    "image/jpeg": ["image/jpeg"],
}


def _attachment_limits(fields: list[dict[str, Any]]) -> tuple[list[str], int]:
    """What the form's file inputs take: media types from `accept`, and how many files."""
    inputs = [f for f in fields if f["type"] == "file"]
    if not inputs:
        return ["image/png", "image/jpeg", "application/pdf"], 0
    types: list[str] = []
    for field in inputs:
        accept = [a.strip().lower() for a in field.get("accept", "").split(",") if a.strip()]
        for item in accept or ["image/*", ".pdf"]:
            types += [t for t in ACCEPT.get(item, []) if t not in types]
    count = sum(5 if f["multiple"] else 1 for f in inputs)
    return types or ["image/png", "image/jpeg", "application/pdf"], count


def new(name: str, places: Places, *, force: bool = False) -> list[Path]:
    """Scaffold flow + replica + sample case; `assistant flow test NAME` passes at once."""
    _check_name(name)
    flow, site, case = places.flow(name), places.site(name), places.case(name)
    _refuse_existing([flow, site, case], force)
    site.mkdir(parents=True, exist_ok=True)
    for item in ("site.py", "form.html", "done.html"):
        shutil.copy(SCAFFOLD / "site" / item, site / item)
    _write_sample_case(places, name, "general")
    text = (SCAFFOLD / "flow.yaml").read_text(encoding="utf-8")
    flow.parent.mkdir(parents=True, exist_ok=True)
    flow.write_text(
        _fill(text, {"name": name, "replica": _relative(site, flow.parent), "case": _relative(case, flow.parent)}),
        encoding="utf-8",
    )
    return [flow, site / "site.py", site / "form.html", site / "done.html", case]


# ----------------------------------------------------------------- snapshot

FIELDS_JS = r"""
(form) => {
  const labelOf = (el) => {
    if (el.id) { const l = form.ownerDocument.querySelector(`label[for="${CSS.escape(el.id)}"]`); if (l) return l.innerText.trim(); }
    const wrap = el.closest("label"); if (wrap) return wrap.innerText.trim().split("\n")[0].trim();
    return el.getAttribute("aria-label") || el.getAttribute("placeholder") || "";
  };
  return [...form.querySelectorAll("input, select, textarea, button")].map((el) => ({
    tag: el.tagName.toLowerCase(), type: (el.getAttribute("type") || "").toLowerCase(),
    name: el.getAttribute("name") || "", id: el.id || "", label: labelOf(el),
    required: el.required || el.getAttribute("aria-required") === "true",
    multiple: !!el.multiple, value: el.getAttribute("value") || "", accept: el.getAttribute("accept") || "",
    text: el.tagName === "BUTTON" ? el.innerText.trim() : "",
    options: el.tagName === "SELECT" ? [...el.options].map((o) => ({ value: o.value, text: o.text.trim() })) : [],
  }));
}
"""


def _pick_form(page, selector: str | None):
    if selector:
        form = page.locator(selector).first
        if form.count() == 0:
            raise InputError(f"--form: no element matches {selector!r} on the page")
        return form
    forms = page.locator("form")
    count = forms.count()
    if count == 0:
        raise InputError("no <form> on the page; pass --form SELECTOR for the element that holds the fields")
    sizes = [forms.nth(i).locator("input, select, textarea").count() for i in range(count)]
    return forms.nth(max(range(count), key=lambda i: sizes[i]))


def _form_selector(page, form) -> str:
    """A selector that finds this form and no other on the page."""
    form_id, name, classes = form.get_attribute("id"), form.get_attribute("name"), form.get_attribute("class")
    candidates = []
    if form_id and re.fullmatch(r"[A-Za-z][\w-]*", form_id):
        candidates.append(f"form#{form_id}")
    if name and re.fullmatch(r"[\w-]+", name):
        candidates.append(f"form[name='{name}']")
    for cls in (classes or "").split():
        if re.fullmatch(r"[A-Za-z][\w-]*", cls):
            candidates.append(f"form.{cls}")
    candidates.append("form")
    for candidate in candidates:
        if page.locator(candidate).count() == 1:
            return candidate
    index = form.evaluate("(f) => [...document.forms].indexOf(f)")
    return f"form >> nth={index}"


def _selector(field: dict[str, Any], form_selector: str) -> str:
    if field["id"] and re.fullmatch(r"[A-Za-z][\w-]*", field["id"]):
        return f"#{field['id']}"
    inside = f"{form_selector} >> " if ">>" in form_selector else f"{form_selector} "
    if field["name"] and "'" not in field["name"]:
        if field["type"] in ("radio", "checkbox") and field["value"] and "'" not in field["value"]:
            return f"{inside}[name='{field['name']}'][value='{field['value']}']"
        return f"{inside}[name='{field['name']}']"
    if field["type"] == "submit" or field["tag"] == "button":
        return f"{inside}[type=submit]" if field["type"] == "submit" else f"{inside}button"
    return f"{inside}{field['tag']}"


def _value_for(field: dict[str, Any]) -> tuple[str, str]:
    """(template, why) for a field, guessed from its type, name and label."""
    words = f"{field['name']} {field['id']} {field['label']}".lower()
    kind = field["type"]

    def has(*needles: str) -> bool:
        return any(n in words for n in needles)

    if kind == "email" or has("mail", "почт"):
        return "{{ case.contacts.email }}", "email"
    if kind == "tel" or has("phone", "телефон", "tel"):
        return "{{ case.contacts.phone }}", "phone"
    if kind == "date" or has("date", "дата"):
        return "{{ case.incident_at | date }}", "date of the incident"
    if kind == "time" or has("time", "время"):
        return "{{ case.incident_at | time }}", "time of the incident"
    if has("account", "счёт", "счет", "login", "логин"):
        return "{{ case.account }}", "account (the case's `account:`)"
    if has("order", "заказ", "contract", "договор"):
        return '{{ case.order_id | default("") }}', "order number"
    if field["tag"] == "textarea" or has("message", "description", "text", "сообщ", "описан", "обращен"):
        return "{{ request.body }}", "the request text"
    if has("subject", "topic", "title", "тема"):
        return "{{ request.subject }}", "subject"
    if has("name", "фио", "имя"):
        return "{{ case.contacts.full_name }}", "full name"
    return "{{ request.subject }}", "TODO: not recognised; choose what goes here"


def draft_steps(fields: list[dict[str, Any]], form_selector: str, url_path: str) -> tuple[list[str], str, dict]:
    """YAML step lines for the fields, the submit selector, and the categories block."""
    lines = [f'  - goto: "{{{{ base_url }}}}{url_path}"', f'  - wait_for: {{ selector: "{form_selector}" }}']
    categories: dict[str, dict[str, str]] = {}
    submit = None
    done_radio: set[str] = set()
    for field in fields:
        tag, kind, sel = field["tag"], field["type"], _selector(field, form_selector)
        if (tag == "button" and kind in ("", "submit")) or (tag == "input" and kind in ("submit", "image")):
            submit = submit or sel
            continue
        if tag == "button" or kind in ("hidden", "button", "reset"):
            continue
        field = {**field, "label": " ".join(field["label"].split())}
        label = f"  # {field['label'][:60]}" if field["label"] else ""
        if tag == "select":
            options = [o for o in field["options"] if o["value"]]
            if not options:
                continue
            if not categories:
                for option in options:
                    key = re.sub(r"[^a-z0-9]+", "-", option["value"].lower()).strip("-") or "option"
                    categories[key] = {"label": option["text"] or option["value"], "form_value": option["value"]}
                lines.append(f'  - select: {{ selector: "{sel}", value: "{{{{ category.form_value }}}}" }}{label}')
            else:
                lines.append(
                    f'  - select: {{ selector: "{sel}", value: "{options[0]["value"]}" }}  # TODO: choose{label}'
                )
        elif kind == "checkbox":
            if field["required"] or "consent" in field["name"] or "agree" in field["name"]:
                lines.append(f'  - check: "{sel}"{label}')
        elif kind == "radio":
            if field["name"] not in done_radio:
                done_radio.add(field["name"])
                lines.append(f'  - check: "{sel}"  # TODO: the right choice{label}')
        elif kind == "file":
            lines.append(f'  - upload: {{ selector: "{sel}", files: "{{{{ attachments }}}}" }}{label}')
        else:
            value, why = _value_for(field)
            note = f"  # {why}" + (f": {field['label'][:50]}" if field["label"] else "")
            lines.append(f'  - fill: {{ selector: "{sel}", value: "{_yaml_escape(value)}" }}{note}')
    lines.append("  - screenshot: filled-form")
    lines.append(f'  - submit: "{submit or form_selector + " [type=submit]"}"')
    return lines, submit or "", categories


def _yaml_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def snapshot(
    url: str,
    name: str,
    places: Places,
    *,
    form_selector: str | None = None,
    force: bool = False,
    browser_path: str | None = None,
    timeout: float = 30,
    log: Callable[[str], None] = lambda m: None,
) -> list[Path]:
    """Save a page's form as the start of a replica, and draft a flow for it if there is none."""

    from assistant.run import browser as browsers

    _check_name(name)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"URL: {url!r} is not an http(s) address")
    site = places.site(name)
    flow_path = places.flow(name)
    _refuse_existing([site / "form.html"], force)
    from playwright.sync_api import Error as PlaywrightError

    from assistant.errors import RunFailed

    with browsers.open_browser(browser_path) as (_, browser, _choice):
        try:
            page = browser.new_page()
            log(f"opening {url} …")
            page.goto(url, wait_until="load", timeout=timeout * 1000)
            final = page.url
            form = _pick_form(page, form_selector)
            css = form_selector or _form_selector(page, form)
            fields = form.evaluate(FIELDS_JS)
            form_html = form.evaluate("(f) => f.outerHTML")
            original = page.content()
            title = page.title()
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0]
            raise RunFailed(f"could not capture the form at {url}: {first}") from None
    path = urlsplit(final).path or "/"
    site.mkdir(parents=True, exist_ok=True)
    (site / "snapshot.html").write_text(original, encoding="utf-8")
    form_html = _local_form(form_html, path)
    page_html = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>$title</title></head>\n<body>\n'
        f"<!-- form captured from {final} by `assistant flow snapshot`; snapshot.html is the whole page -->\n"
        f"{form_html}\n</body></html>\n"
    )
    (site / "form.html").write_text(page_html, encoding="utf-8")
    meta = {"url": final, "path": path, "form": css, "fields": fields}
    (site / "fields.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written = [site / "snapshot.html", site / "form.html", site / "fields.json"]
    if force or not (site / "site.py").exists():
        shutil.copy(SCAFFOLD / "snapshot_site.py", site / "site.py")
        shutil.copy(SCAFFOLD / "site" / "done.html", site / "done.html")
        written += [site / "site.py", site / "done.html"]
    if flow_path.exists() and not force:
        log(f"{flow_path} exists; left as it is (the fields are in {site / 'fields.json'})")
        return written
    steps, _submit, categories = draft_steps(fields, css, path)
    case = places.case(name)
    first = next(iter(categories), "general")
    media_types, max_files = _attachment_limits(fields)
    _write_sample_case(places, name, first, media_types, attach=max_files > 0)
    if not categories:
        categories = {"general": {"label": "General question", "form_value": "general"}}
    category_lines = []
    for key, info in categories.items():
        category_lines += [
            f"  {key}:",
            f'    label: "{_yaml_escape(info["label"])}"',
            f'    form_value: "{_yaml_escape(info["form_value"])}"',
            "    deadline: { business_days: 3 }  # TODO: the provider's answer time, with its source",
        ]
    text = _fill(
        (SCAFFOLD / "snapshot_flow.yaml").read_text(encoding="utf-8"),
        {
            "name": name,
            "url": final,
            "homepage": f"{urlsplit(final).scheme}://{urlsplit(final).netloc}/",
            # With its port when it has one, so the homepage is an origin the flow allows.
            "host": (urlsplit(final).hostname or "") + (f":{urlsplit(final).port}" if urlsplit(final).port else ""),
            "title": _yaml_escape(title),
            "categories": "\n".join(category_lines),
            "steps": "\n".join(steps),
            "media_types": ", ".join(media_types),
            "max_files": str(max_files),
            "replica": _relative(site, flow_path.parent),
            "case": _relative(case, flow_path.parent),
        },
    )
    flow_path.parent.mkdir(parents=True, exist_ok=True)
    flow_path.write_text(text, encoding="utf-8")
    return written + [flow_path, case]


def _dollars(text: str) -> str:
    return text.replace("$", "$$")


def _local_form(form_html: str, path: str) -> str:
    """Point the captured form at the replica, and keep its `$` signs literal for string.Template."""
    form_html = _dollars(form_html)
    opening = re.match(r"<form\b[^>]*>", form_html, re.I)
    if opening:
        tag = re.sub(r'\saction="[^"]*"', "", opening.group(0))
        tag = tag[:-1] + f' action="{path}" data-replica-action="original action removed">'
        if not re.search(r"\smethod=", tag, re.I):
            tag = tag.replace("<form", '<form method="post"', 1)
        tag = re.sub(r'\smethod="get"', ' method="post"', tag, flags=re.I)
        if "enctype" not in tag:
            tag = tag.replace("<form", '<form enctype="multipart/form-data"', 1)
        form_html = tag + form_html[opening.end() :]
    return form_html


# -------------------------------------------------------------------- check


def check(
    path: str | Path,
    *,
    live: bool,
    base_url: str | None,
    home: Path,
    case_file: str | None,
    headed: bool = False,
    timeout: float | None = None,
    browser_path: str | None = None,
    log: Callable[[str], None] = lambda m: None,
    lent: Any = None,
    trace: bool = False,
    retries: int = 0,
    scratch: Path | None = None,
) -> dict[str, Any]:
    """Walk the flow up to, not including, its submit step, and find the submit button.

    `lent` is a running browser (assistant.run.browser.Started), `trace` records a
    Playwright trace into <home>/traces/, `retries` tries a failed step again, and `scratch`
    is the folder for the evidence (default: a new temporary one)."""
    import tempfile

    from assistant.language.case import load_case
    from assistant.language.flow import load_flow
    from assistant.pipeline import Settings, submit

    flow = load_flow(path)
    if flow.channel != "web_form":
        raise InputError(f"{flow.path}: check walks web forms; this flow is channel: {flow.channel}")
    if case_file is None and flow.test is None:
        raise InputError(f"{flow.path}: no test: block with a sample case; pass --case FILE")
    case = load_case(case_file or flow.sample_case(), {"provider": flow.id})
    scratch = scratch or Path(tempfile.mkdtemp(prefix=f"flowcheck-{flow.id}-"))
    server = None
    if live:
        if base_url:
            raise InputError("--live checks the real site at the flow's homepage; drop --base-url")
        if "base_url" in flow.homepage:
            raise InputError(f"{flow.id} has no live site (its homepage is {flow.homepage!r})")
        site_home = Path(home)
    else:
        if base_url is None:
            if flow.test is None:
                raise InputError(f"{flow.path}: no replica named (test: block); pass --live or --base-url URL")
            from assistant.sites.replica import open_replica
            from assistant.workbench.flowtest import log_in_for_test, replica_spec

            server = open_replica(replica_spec(flow)).start()
            base_url = server.url  # allowed for this run: submit() adds base_url's origin
            site_home = scratch / "home"
            if flow.requires_login:
                log_in_for_test(flow, base_url, site_home, scratch, {"browser_path": browser_path}, lent)
        else:
            site_home = Path(home)
    try:
        outcome = submit(
            case,
            flow,
            Settings(
                home=site_home,
                base_url=base_url,
                dry_run=True,
                headed=headed,
                timeout=timeout,
                # Named for the flow: a trace is kept in <home>/traces/ under this name, and with
                # --live that is the person's home, shared by the flows replayed at once.
                out=scratch / f"evidence-{flow.id}",
                browser_path=browser_path,
                browser=lent,
                trace=trace,
                retries=retries,
                log=log,
            ),
        )
    finally:
        if server is not None:
            server.stop()
    submit_step = flow.steps[flow.submit_index()]
    return {
        "flow": flow.id,
        "site": base_url or flow.homepage,
        "live": live,
        "checked_steps": flow.submit_index(),
        "submit_line": submit_step.line,
        "evidence_dir": str(outcome.evidence_dir),
    }
