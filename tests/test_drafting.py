"""A drafted flow is YAML written by ruamel from the page's words, never text pasted into YAML:
whatever a page calls its title, labels, options and address, the draft parses and says it back."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from assistant.workbench import drafting
from assistant.workbench.authoring import drafted_flow

HOSTILE = [
    'a "quoted" title',
    "ends with a comment # like: this",
    "two\nlines: with a key",
    "C1 control \x85 and \x9b bytes",
    "{{ case.contacts.email }} and ${HOME}",
    "- starts like a list",
    "'single' and `back` quotes",
]


def field(tag: str, kind: str, name: str, label: str, **more: object) -> dict[str, object]:
    return {
        "tag": tag,
        "type": kind,
        "name": name,
        "id": "",
        "label": label,
        "selected": "",
        "required": True,
        "options": [],
        "checked": False,
        "value": "",
        "multiple": False,
        **more,
    }


def test_a_page_s_words_stay_data_in_the_draft(tmp_path: Path) -> None:
    options = [{"value": words, "text": words} for words in HOSTILE]
    fields = [field("select", "", "topic", "Topic", options=options)]
    fields += [field("input", "text", f"f{i}", words) for i, words in enumerate(HOSTILE)]
    draft = drafting.draft(fields, "form#support", "/support?q='x'#top")
    title = " | ".join(HOSTILE)
    text = drafted_flow(
        "acme",
        draft,
        draft.categories,
        drafting.attachment_rules(fields),
        url="https://support.example.com/a?b='c'#d",
        title=title,
        homepage="https://support.example.com/",
        host="support.example.com",
        rejected=HOSTILE[1],
        replica="../sites/acme",
        case="samples/acme-case.yaml",
    )
    doc = YAML(typ="safe").load(text)
    assert doc["name"] == title and doc["rejected"]["selector"] == HOSTILE[1]
    assert [c["form_value"] for c in doc["categories"].values()] == HOSTILE
    assert doc["steps"][0] == {"goto": "{{ base_url }}/support?q='x'#top"}
    assert doc["steps"][-1] == {"submit": "form#support [type=submit]"}
    # The page's words in comments are one printable line each: nothing they hold becomes YAML.
    keys = {k for step in doc["steps"] for k in step}
    assert keys <= {"goto", "wait_for", "select", "fill", "check", "upload", "screenshot", "submit"}
