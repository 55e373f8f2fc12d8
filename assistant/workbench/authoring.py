"""The maintainers' workbench: scaffold a flow, snapshot a real form, check a flow.

`new` writes a flow, a replica and a sample case that pass `assistant flow
test` at once; `snapshot` starts the replica from a real page's form and
drafts the flow's steps from its fields; `check` walks a flow up to, not
including, the submit click, on the replica or on the live site.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, FoldedScalarString

from assistant.errors import InputError
from assistant.translation import N_, _
from assistant.workbench import drafting

SCAFFOLD = Path(__file__).resolve().parent / "scaffold"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# The CAPTCHAs drafting names in words (the others by their product's name), as the maintainer reads them.
CAPTCHA_WORDS = {
    "an image CAPTCHA": N_("an image CAPTCHA"),
    "a CAPTCHA typed from a picture": N_("a CAPTCHA typed from a picture"),
}


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


def check_name(name: str) -> None:
    if not NAME.match(name):
        raise InputError(
            _("NAME: {name!r} must be lower-case letters, digits and '-', like acme-support").format(name=name)
        )


def _refuse_existing(paths: list[Path], force: bool) -> None:
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise InputError(
            _("already exists: {paths}; choose another NAME or pass --force").format(paths=", ".join(existing))
        )


def relative(target: Path, start: Path) -> str:

    return Path(os.path.relpath(target, start)).as_posix()


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    return template


def write_sample_case(
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


def new(name: str, places: Places, *, force: bool = False) -> list[Path]:
    """Scaffold flow + replica + sample case; `assistant flow test NAME` passes at once."""
    check_name(name)
    flow, site, case = places.flow(name), places.site(name), places.case(name)
    _refuse_existing([flow, site, case], force)
    site.mkdir(parents=True, exist_ok=True)
    for item in ("site.py", "form.html", "done.html"):
        shutil.copy(SCAFFOLD / "site" / item, site / item)
    write_sample_case(places, name, "general")
    text = (SCAFFOLD / "flow.yaml").read_text(encoding="utf-8")
    flow.parent.mkdir(parents=True, exist_ok=True)
    flow.write_text(
        _fill(text, {"name": name, "replica": relative(site, flow.parent), "case": relative(case, flow.parent)}),
        encoding="utf-8",
    )
    return [flow, site / "site.py", site / "form.html", site / "done.html", case]


# ----------------------------------------------------------------- snapshot


def _pick_form(page, selector: str | None):
    if selector:
        form = page.locator(selector).first
        if form.count() == 0:
            raise InputError(_("--form: no element matches {selector!r} on the page").format(selector=selector))
        return form
    forms = page.locator("form")
    count = forms.count()
    if count == 0:
        raise InputError(_("no <form> on the page; pass --form SELECTOR for the element that holds the fields"))
    sizes = [forms.nth(i).locator("input, select, textarea").count() for i in range(count)]
    return forms.nth(max(range(count), key=lambda i: sizes[i]))


def unique_form_selector(page, form, fallback: str | None = None) -> str:
    """A selector that finds this form and no other on the page (a form with no <form> element,
    the element that holds its fields: by its own tag; `fallback` when nothing shorter is unique)."""
    form_id, name, classes = form.get_attribute("id"), form.get_attribute("name"), form.get_attribute("class")
    tag = form.evaluate("(f) => f.tagName.toLowerCase()")
    candidates = []
    if form_id and re.fullmatch(r"[A-Za-z][\w-]*", form_id):
        candidates.append(f"{tag}#{form_id}")
    if name and re.fullmatch(r"[\w-]+", name):
        candidates.append(f"{tag}[name='{name}']")
    for cls in (classes or "").split():
        if re.fullmatch(r"[A-Za-z][\w-]*", cls):
            candidates.append(f"{tag}.{cls}")
    candidates.append(tag)
    # The form holding a field only it has: true on the real page and in the replica's copy alike.
    for field_name in form.evaluate(
        "(f) => [...f.querySelectorAll('input, select, textarea')].map((e) => e.getAttribute('name') || '')"
    ):
        if re.fullmatch(r"[\w\[\]-]+", field_name) and tag == "form":
            candidates.append(f"form:has([name='{field_name}'])")
    for candidate in candidates:
        if page.locator(candidate).count() == 1:
            return candidate
    if fallback is not None:
        return fallback
    index = form.evaluate("(f) => [...document.forms].indexOf(f)")
    return f"form >> nth={index}"


@dataclass
class FormStep:
    """One form as captured: a single form, or one step of a wizard."""

    css: str
    fields: list[dict[str, Any]]
    html: str
    captcha: str | None
    submit: str | None


def _capture_form(page: Any, form_selector: str | None) -> FormStep:
    form = _pick_form(page, form_selector)
    css = form_selector or unique_form_selector(page, form)
    return FormStep(
        css=css,
        fields=form.evaluate(drafting.FIELDS_JS),
        html=form.evaluate("(f) => f.outerHTML"),
        captcha=form.evaluate(drafting.CAPTCHA_JS),
        submit=submit_selector(page, css, form.evaluate(drafting.SUBMIT_JS)),
    )


def _draft_steps(forms: list[FormStep], path: str) -> drafting.Draft:
    """One draft for the forms: a wizard's steps joined by its "Next" and a wait for the next form."""
    out = drafting.Draft()
    for number, form in enumerate(forms, 1):
        last = number == len(forms)
        part = drafting.draft(
            form.fields,
            form.css,
            path,
            submit=form.submit,
            captcha=form.captcha,
            first=number == 1,
            last=last,
            categories=not out.categories,
        )
        out.categories = out.categories or part.categories
        out.todo += part.todo
        out.login_form = out.login_form or part.login_form
        out.captcha = out.captcha or part.captcha
        out.human_steps += part.human_steps
        lines = part.steps
        if number > 1:
            # The next step's own field, not the form (it may be the same <form> as the step before).
            own = next(
                (line.step for line in lines if line.step and next(iter(line.step)) in ("fill", "select", "upload")),
                None,
            )
            if own is not None:
                selector = next(iter(own.values()))["selector"]
                lines = [drafting.Line({"wait_for": {"selector": selector}}), *lines[1:]]
            out.steps.append(drafting.Line(None, f"step {number} of {len(forms)} of the form"))
        out.steps += lines
        if not last:
            out.steps.append(drafting.Line({"click": part.submit}, f'"Next": step {number + 1} of the form'))
        out.submit = part.submit
    return out


def _sample_values() -> dict[str, Any]:
    """The scaffold's sample case as the templates see it, to fill a wizard's steps while it is
    captured (the real site gets invented data, and only its "Next" is clicked, never the send)."""
    text = _fill(
        (SCAFFOLD / "case.yaml").read_text(encoding="utf-8"), {"name": "x", "category": "x", "attachment": "x"}
    )
    case = YAML(typ="safe").load(text)
    return {"case": case, "request": {"subject": case["subject"], "body": case["description"]}}


def _next_step(page: Any, forms: list[FormStep], number: int, timeout: float, log: Callable[[str], None]) -> None:
    """Fill step `number` of a wizard with the sample case, click its "Next", wait for the next form."""
    from assistant.errors import RunFailed
    from assistant.language import templating
    from assistant.run.outcome import quote

    form = forms[-1]
    part = drafting.draft(form.fields, form.css, "/", first=False, last=False)
    context = _sample_values()
    context["category"] = {"form_value": next((c["form_value"] for c in part.categories.values()), "")}
    for line in part.steps:
        if line.step is None:
            continue
        ((kind, args),) = line.step.items()
        if kind == "fill":
            page.locator(args["selector"]).first.fill(str(templating.render(args["value"], context)))
        elif kind == "select":
            page.locator(args["selector"]).first.select_option(str(templating.render(args["value"], context)))
        elif kind == "check":
            page.locator(templating.render(args if isinstance(args, str) else args["selector"], context)).first.check()
    names = [f["name"] for f in form.fields]

    def shown() -> list[str]:
        try:
            found = _pick_form(page, None).evaluate("(f) => [...f.elements].map((e) => e.getAttribute('name') || '')")
        except InputError:
            return []
        return [n for n in found if n]

    refused = after_next(page, part.submit, shown, [n for n in names if n], set(), timeout)
    if refused:
        raise InputError(
            _(
                "--steps: step {number} of the form refused the sample case: {refusal}; capture from that "
                "page by hand (--form), or make the sample case fit"
            ).format(number=number, refusal=quote(refused))
        )
    if refused is None:
        raise RunFailed(
            _('--steps: after step {number}\'s "Next" no other form appeared within {timeout:g} s').format(
                number=number, timeout=timeout
            )
        )


def after_next(
    page: Any, button: str, shown: Callable[[], list[str]], before: list[str], baseline: set[str], timeout: float
) -> list[Any] | None:
    """Click a wizard's "Next" and wait for what the site answers: [] once the form's fields
    (`shown()`) are no longer `before`, the page's new refusals (not in `baseline`) when it shows
    some, None when neither comes within `timeout`."""
    from assistant.run.outcome import read_refusal

    page.locator(button).first.click(timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_timeout(200)
        try:
            page.wait_for_load_state("load", timeout=timeout * 1000)
            now = shown()
        except Exception:  # mid-navigation: the document is being replaced
            continue
        if now and now != before:
            return []
        refused = [r for r in read_refusal(page, None, browser=True) if r.message not in baseline]
        if refused:
            return refused
    return None


def submit_selector(page: Any, form_css: str, button: dict[str, str] | None) -> str | None:
    """A selector for the form's submit button that matches it and nothing else on the page."""
    if not button:
        return None
    inside = f"{form_css} >> " if ">>" in form_css else f"{form_css} "
    candidates = []
    if button["id"] and re.fullmatch(r"[A-Za-z][\w-]*", button["id"]):
        candidates.append(f"#{button['id']}")
    if button["name"] and re.fullmatch(r"[\w\[\]-]+", button["name"]):
        candidates.append(f"{inside}{button['tag']}[name='{button['name']}']")
    if button.get("submits", True):  # a type=button (a script's "Next") is found by its words
        candidates.append(f"{inside}[type=submit]")
    text = button["text"] or button["value"]
    if text and '"' not in text and button["tag"] == "button":
        candidates.append(f'{inside}button:has-text("{text}")')
    elif text and '"' not in text:
        candidates.append(f'{inside}input[value="{text}"]')
    for candidate in candidates:
        try:
            if page.locator(candidate).count() == 1:
                return candidate
        except Exception:  # a selector this page cannot parse: the next one
            continue
    return None


def snapshot(
    url: str,
    name: str,
    places: Places,
    *,
    form_selector: str | None = None,
    force: bool = False,
    browser_path: str | None = None,
    timeout: float = 30,
    home: Path | None = None,
    storage_state: dict[str, Any] | None = None,
    steps: int = 1,
    log: Callable[[str], None] = lambda m: None,
) -> list[Path]:
    """Save a page's form as the start of a replica, and draft a flow for it if there is none.

    `storage_state`: a session saved by `assistant login`, for a form behind a login. The
    browser's temporary files go to a run folder in `home` (removed after), as for a submission."""

    from assistant.run import browser as browsers

    check_name(name)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(_("URL: {url!r} is not an http(s) address").format(url=url))
    site = places.site(name)
    flow_path = places.flow(name)
    _refuse_existing([site / "form.html"], force)

    from playwright.sync_api import Error as PlaywrightError

    from assistant.errors import RunFailed
    from assistant.language.urls import Policy
    from assistant.run.netguard import Guard
    from assistant.run.scratch import run_folder

    # Any page the maintainer names; through the guard's proxy all the same, which looks host
    # names up for the browser (which looks none up itself), with WebRTC off in the page.
    guard = Guard(Policy.open("snapshot"), log=log)
    with (
        run_folder(home) if home is not None else nullcontext(),
        guard,
        browsers.open_browser(browser_path) as (
            _started,
            browser,
            choice,
        ),
    ):
        try:
            guard.start_gate_if_local(choice)
            options = guard.context_options()
            if storage_state is not None:
                options["storage_state"] = storage_state
            context = browser.new_context(**options)
            guard.install(context)
            page = context.new_page()
            log(_("opening {url} …").format(url=url))
            page.goto(url, wait_until="load", timeout=timeout * 1000)
            final = page.url
            original = page.content()
            title = page.title()
            forms: list[FormStep] = []
            for number in range(1, steps + 1):
                forms.append(_capture_form(page, form_selector if number == 1 else None))
                if number < steps:  # a wizard: the sample case's values, "Next", and the next form
                    log(
                        _("step {number} of {steps}: filling it with the sample case and going on …").format(
                            number=number, steps=steps
                        )
                    )
                    _next_step(page, forms, number, timeout, log)
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0]
            raise RunFailed(_("could not capture the form at {url}: {error}").format(url=url, error=first)) from None
    written, rejected = write_replica(site, forms, final, original, force=force)
    if flow_path.exists() and not force:
        log(
            _("{path} exists; left as it is (the fields are in {fields})").format(
                path=flow_path, fields=site / "fields.json"
            )
        )
        return written
    drafted = _draft_steps(forms, urlsplit(final).path or "/")
    if drafted.login_form:
        if final != url:
            warning = _(
                "warning: the form captured has a password field: it looks like a login form (it opened {final}, "
                "not {url}: the site sent the browser to its login). If the support form is behind a login, log in "
                "once with `assistant login FLOW` and snapshot again with --session FLOW"
            )
        else:
            warning = _(
                "warning: the form captured has a password field: it looks like a login form. If the support form "
                "is behind a login, log in once with `assistant login FLOW` and snapshot again with --session FLOW"
            )
        log(warning.format(final=final, url=url))
    if drafted.captcha:
        captcha = CAPTCHA_WORDS.get(drafted.captcha)
        # Translators: {captcha} is reCAPTCHA, hCaptcha, Yandex SmartCaptcha, Cloudflare Turnstile,
        # "an image CAPTCHA" or "a CAPTCHA typed from a picture".
        note = _("note: {captcha} on the form: the draft pauses for a person there (submit with --headed)")
        log(note.format(captcha=_(captcha) if captcha else drafted.captcha))
    categories = drafted.categories
    case = places.case(name)
    first = next(iter(categories), "general")
    rules = drafting.attachment_rules([f for form in forms for f in form.fields])
    write_sample_case(places, name, first, rules.media_types, attach=rules.max_files > 0)
    if not categories:
        categories = {"general": {"label": "General question", "form_value": "general"}}
    final_parts = urlsplit(final)
    text = drafted_flow(
        name,
        drafted,
        categories,
        rules,
        url=final,
        title=title,
        homepage=f"{final_parts.scheme}://{final_parts.netloc}/",
        # With its port when it has one, so the homepage is an origin the flow allows.
        host=(final_parts.hostname or "") + (f":{final_parts.port}" if final_parts.port else ""),
        rejected=rejected,
        replica=relative(site, flow_path.parent),
        case=relative(case, flow_path.parent),
    )
    flow_path.parent.mkdir(parents=True, exist_ok=True)
    flow_path.write_text(text, encoding="utf-8")
    if drafted.todo:
        log(_("left out (nothing in a case says what goes there): {fields}").format(fields="; ".join(drafted.todo)))
    return written + [flow_path, case]


def write_replica(
    site: Path, forms: list[FormStep], final: str, original: str, *, force: bool
) -> tuple[list[Path], str]:
    """The replica's files for the forms captured from `final` (the page's whole HTML is
    `original`): the form pointed at the replica, its fields, a wizard's later steps, the
    replica's server and done page. Returns (files written, the `rejected:` selector)."""
    fields, form_html = forms[0].fields, forms[0].html
    path = urlsplit(final).path or "/"
    rejected, error_class = drafting.refusal_marker(original, fields)
    site.mkdir(parents=True, exist_ok=True)
    (site / "snapshot.html").write_text(original, encoding="utf-8")
    form_html = _local_form(form_html, path)
    page_html = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>$title</title></head>\n<body>\n'
        f"<!-- form captured from {final} by `assistant flow snapshot`; snapshot.html is the whole page -->\n"
        f"$errors\n{form_html}\n</body></html>\n"
    )
    (site / "form.html").write_text(page_html, encoding="utf-8")
    meta: dict[str, Any] = {
        "url": final,
        "path": path,
        "form": forms[0].css,
        "error_class": error_class,
        "fields": fields,
    }
    written = [site / "snapshot.html", site / "form.html", site / "fields.json"]
    if len(forms) > 1:
        # A wizard: each later step's form is served in turn (its post goes to /replica-step/N).
        meta["steps"] = []
        for number, step in enumerate(forms[1:], 2):
            name_html = f"form-{number}.html"
            step_html = page_html.replace(form_html, _local_form(step.html, f"/replica-step/{number}"))
            (site / name_html).write_text(step_html, encoding="utf-8")
            written.append(site / name_html)
            meta["steps"].append({"form": step.css, "page": name_html, "fields": step.fields})
    (site / "fields.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if force or not (site / "site.py").exists():
        shutil.copy(SCAFFOLD / "snapshot_site.py", site / "site.py")
        shutil.copy(SCAFFOLD / "site" / "done.html", site / "done.html")
        written += [site / "site.py", site / "done.html"]
    return written, rejected


def drafted_flow(
    name: str,
    drafted: drafting.Draft,
    categories: dict[str, dict[str, str]],
    rules: drafting.AttachmentRules,
    *,
    url: str,
    title: str,
    homepage: str,
    host: str,
    rejected: str,
    replica: str,
    case: str,
    learned: dict[str, Any] | None = None,
) -> str:
    """The drafted flow's YAML: the scaffold read with ruamel's round trip (its comments kept),
    every value from the page set on the document, so a quote, a `#` or a line break in a
    page's title, label or address stays text; a page's words in a comment are one printable
    line (drafting.display)."""
    template = (SCAFFOLD / "snapshot_flow.yaml").read_text(encoding="utf-8")
    template = template.split("\n", 2)[2].replace("{{name}}", name)  # a checked name: letters, digits, -
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # long selectors stay on one line
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), _null)
    doc = yaml.load(template)
    doc.yaml_set_start_comment(
        f"{name}: drafted by `assistant flow snapshot` from {drafting.display(url)}\n"
        f'("{drafting.display(title)}"). Check every TODO, then `assistant flow test {name}`.'
    )
    doc["name"] = DoubleQuotedScalarString(title)
    doc["homepage"] = homepage
    doc["allowed_hosts"] = _flow_seq([host])
    doc["notes"] = _folded(
        f"Form captured from {' '.join(url.split())}. TODO: what is known and from where; the "
        f"confirmation page was never seen, so success/confirmation below describe the replica's "
        f"(replicas/{name}/done.html) until someone files one real request and runs `assistant flow "
        f"snapshot {name} --confirmation EVIDENCE_DIR` on its evidence."
    )
    shown = CommentedMap()
    for key, info in categories.items():
        entry = CommentedMap(
            label=DoubleQuotedScalarString(info["label"]),
            form_value=DoubleQuotedScalarString(info["form_value"]),
            deadline=_flow_map(business_days=3),
        )
        entry.yaml_add_eol_comment("TODO: the provider's answer time, with its source", "deadline")
        shown[key] = entry
    doc["categories"] = shown
    attachments = doc["attachments"]
    attachments["media_types"] = _flow_seq(rules.media_types)
    if rules.extensions:
        attachments.insert(1, "extensions", _flow_seq(rules.extensions))
        attachments.yaml_add_eol_comment("the names the file field's accept= allows", "extensions")
    attachments["max_files"] = rules.max_files
    attachments["max_bytes"] = rules.max_bytes
    steps = CommentedSeq()
    waiting: list[str] = []  # comment lines that go before the next step
    for line in drafted.steps:
        if line.step is None:
            waiting.append(line.comment or "")
            continue
        ((kind, args),) = line.step.items()
        if isinstance(args, dict):
            value: Any = _flow_map(**args)
        else:  # a selector or an address may start with # or [: quoted; a picture's name is a word
            value = args if kind == "screenshot" else DoubleQuotedScalarString(args)
        item = CommentedMap({kind: value})
        if line.comment:
            item.yaml_add_eol_comment(line.comment, kind)
        steps.append(item)
        if waiting:
            steps.yaml_set_comment_before_after_key(len(steps) - 1, before="\n".join(waiting), indent=2)
            waiting = []
    doc["steps"] = steps
    doc["rejected"]["selector"] = DoubleQuotedScalarString(rejected)
    doc["test"]["replica"] = replica
    doc["test"]["case"] = case
    if learned is not None:
        _learned(doc, name, url, learned)
    if drafted.human_steps:
        doc["test"]["human_steps"] = CommentedSeq(
            CommentedMap({kind: _flow_map(**args)}) for step in drafted.human_steps for kind, args in step.items()
        )
        doc["test"].yaml_add_eol_comment("what flow test does at pause_for_human, on the replica", "human_steps")
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _learned(doc: CommentedMap, name: str, url: str, learned: dict[str, Any]) -> None:
    """What `submit --url` changes in a drafted flow: the generic readers of the answer (its
    page was never described), the date it last worked on the live site, its own notes."""
    doc.yaml_set_start_comment(
        f"{name}: written by `assistant submit --url` from {drafting.display(url)}.\n"
        f"Each step says where its value came from. Check it, then `assistant flow test {name}`."
    )
    doc["verified_live"] = learned["verified_live"]
    doc["provider"] = learned["provider"]
    doc["allowed_hosts"] = _flow_seq(list(dict.fromkeys(learned["hosts"])))
    doc["notes"] = _folded(
        f"Learned from the form at {' '.join(url.split())} by `assistant submit --url`: the fields as the "
        f"page showed them then. The answer is read by the generic readers (a thank-you sentence; a number "
        f"after the words a provider puts before one, or in the address) until someone writes where the "
        f"real page shows them. The answer time is an assumption (the longer end of DOMAIN.md's 3-5 business "
        f"days for complaints about service): set the provider's own, with its source."
    )
    for entry in doc["categories"].values():
        entry["deadline"] = _flow_map(business_days=learned["deadline_days"])
    doc["success"] = CommentedMap(thanks=True)
    doc["success"].yaml_add_eol_comment("a request left and the page thanks for it (Russian or English)", "thanks")
    doc["confirmation"] = CommentedMap({"from": "page"})
    doc["confirmation"].yaml_add_eol_comment(
        "a number after номер / заявка / ticket / № / #, or in the address", "from"
    )


def _null(representer: Any, value: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _folded(text: str, width: int = 76) -> FoldedScalarString:
    """Text written as a folded block (`>-`), broken at spaces near `width`."""
    folded = FoldedScalarString(text)
    positions, start = [], 0
    while len(text) - start > width:
        cut = text.rfind(" ", start, start + width)
        if cut <= start:
            break
        positions.append(cut)
        start = cut + 1
    folded.fold_pos = positions
    return folded


def _flow_seq(items: list[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _flow_map(**values: Any) -> CommentedMap:
    shown = CommentedMap((k, DoubleQuotedScalarString(v) if isinstance(v, str) else v) for k, v in values.items())
    shown.fa.set_flow_style()
    return shown


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
    evidence: Path | None = None,
) -> dict[str, Any]:
    """Walk the flow up to, not including, its submit step, and find the submit button.

    `lent` is a running browser (assistant.run.browser.Started), `trace` records a Playwright
    trace into <home>/traces/, `retries` tries a failed step again, and `evidence` is where the
    evidence goes (default: a new folder in the home's checks/)."""

    from assistant.language.case import load_case
    from assistant.language.flow import load_flow

    flow = load_flow(path)
    if flow.channel != "web_form":
        raise InputError(
            _("{path}: check walks web forms; this flow is channel: {channel}").format(
                path=flow.path, channel=flow.channel
            )
        )
    if case_file is None and flow.test is None:
        raise InputError(_("{path}: no test: block with a sample case; pass --case FILE").format(path=flow.path))
    case = load_case(case_file or flow.sample_case(), {"provider": flow.id})
    # The evidence is kept in the assistant's home (the command prints where); the replica's
    # throwaway home goes with the temporary folder.
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    evidence = evidence or Path(home) / "checks" / f"{stamp}-{flow.id}"
    replay = {"lent": lent, "trace": trace, "retries": retries}
    with tempfile.TemporaryDirectory(prefix=f"flowcheck-{flow.id}-") as scratch_name:
        outcome = _walk(
            flow, case, Path(scratch_name), evidence, live, base_url, home, headed, timeout, browser_path, log, replay
        )
    submit_step = flow.steps[flow.submit_index()]
    return {
        "flow": flow.id,
        "site": outcome.site,
        "live": live,
        "checked_steps": flow.submit_index(),
        "submit_line": submit_step.line,
        "evidence_dir": str(outcome.evidence_dir),
    }


@dataclass
class _Walked:
    site: str
    evidence_dir: Path


def _walk(
    flow: Any,
    case: Any,
    scratch: Path,
    evidence: Path,
    live: bool,
    base_url: str | None,
    home: Path,
    headed: bool,
    timeout: float | None,
    browser_path: str | None,
    log: Callable[[str], None],
    replay: dict[str, Any],
) -> _Walked:
    """`replay`: what a replay adds to the run's Settings (the lent browser, trace, retries)."""
    from assistant.pipeline import Settings, submit

    server = None
    if live:
        if base_url:
            raise InputError(_("--live checks the real site at the flow's homepage; drop --base-url"))
        if "base_url" in flow.homepage:
            raise InputError(
                _("{flow} has no live site (its homepage is {homepage!r})").format(flow=flow.id, homepage=flow.homepage)
            )
        site_home = Path(home)
    else:
        if base_url is None:
            if flow.test is None:
                raise InputError(
                    _("{path}: no replica named (test: block); pass --live or --base-url URL").format(path=flow.path)
                )
            from assistant.sites.replica import open_replica
            from assistant.workbench.flowtest import announce_code, log_in_for_test, replica_spec

            announce_code(flow, log)
            server = open_replica(replica_spec(flow)).start()
            base_url = server.url  # allowed for this run: submit() adds base_url's origin
            site_home = scratch / "home"
        else:
            site_home = Path(home)
    try:
        if server is not None and base_url is not None and flow.requires_login:
            log_in_for_test(flow, base_url, site_home, scratch, {"browser_path": browser_path}, replay["lent"])
        outcome = submit(
            case,
            flow,
            Settings.of(
                home=site_home,
                base_url=base_url,
                dry_run=True,
                headed=headed,
                timeout=timeout,
                out=evidence,
                browser_path=browser_path,
                log=log,
                **replay,
            ),
        )
    finally:
        if server is not None:
            server.stop()
    return _Walked(base_url or flow.homepage, outcome.evidence_dir)
