"""How well the field classifier maps unknown forms: precision, recall, forms with no question.

Over the corpus of real-world-shaped forms (tests/forms/corpus/, each with its golden mapping),
in the real browser. Precision: of the fields filled without asking, the share with the right
value (a wrong value is worse than a question). Recall: of the fields the case could fill, the
share filled rightly without asking. "No question": forms where every required field is filled
or left to the page, so `submit --url … --yes` would go through. Aims: precision ≥ 0.98, recall ≥ 0.9.

    .venv/bin/python bench/bench_fieldmap.py [-v]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from playwright.sync_api import sync_playwright
from ruamel.yaml import YAML

from assistant.run.browser import discover, launch_args
from assistant.workbench.fieldmap import FILLED, FORMS_JS, choose_form, classify

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "forms" / "corpus"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print every field that is not right")
    args = parser.parse_args()
    choice = discover()
    # Two sets: the forms the rules were tuned on, and the held-out ones written afterwards by someone
    # who did not read the classifier (`heldout: true`): their figures are the honest ones.
    totals: dict[bool, Counter[str]] = {False: Counter(), True: Counter()}
    no_question: Counter[bool] = Counter()
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=choice.target, args=launch_args(choice.target, lookups=True))
        page = browser.new_page()
        forms = sorted(CORPUS.glob("*.html"))
        for path in forms:
            truth = YAML(typ="safe").load(path.with_suffix(".yaml").read_text(encoding="utf-8"))
            page.set_content(path.read_text(encoding="utf-8"), wait_until="load")
            form = choose_form(page.evaluate(FORMS_JS))
            right = wrong = asked = 0
            fillable = sum(1 for t in truth["fields"].values() if t in FILLED)
            found_right = form is not None and page.evaluate(
                "([sel, i]) => document.querySelector(sel) === document.forms[i]", [truth["form"], form["index"]]
            )
            questions = []
            mapped = classify(form["fields"]) if form is not None else []
            if args.verbose:
                for key in sorted(set(truth["fields"]) - {m.key for m in mapped}):
                    print(f"  UNSEEN {path.stem}: {key} (truth {truth['fields'][key]}) is not among the form's fields")
            for m in mapped:
                expected = truth["fields"].get(m.key)
                if m.target in FILLED and m.sure:
                    if expected == m.target:
                        right += 1
                    else:
                        wrong += 1
                        if args.verbose:
                            print(f"  WRONG {path.stem}: {m.key} → {m.target} ({m.why}); truth {expected}")
                elif m.required or m.target == "captcha" or (m.target in FILLED and not m.sure):
                    asked += 1
                    questions.append(m.key)
                if args.verbose and expected in FILLED and not (m.target == expected and m.sure):
                    if not (m.target in FILLED and m.sure):
                        print(f"  MISSED {path.stem}: {m.key} → {m.target} ({m.why}); truth {expected}")
            held = bool(truth.get("heldout"))
            totals[held].update(right=right, wrong=wrong, fillable=fillable, asked=asked, forms=1)
            no_question[held] += found_right and not questions
            rows.append((path.stem, found_right, right, wrong, fillable, asked))
        browser.close()
    print(f"{'form':<28} {'found':>5} {'right':>5} {'wrong':>5} {'of':>4} {'asks':>4}")
    for name, found, right, wrong, fillable, asked in rows:
        print(f"{name:<28} {'yes' if found else 'NO':>5} {right:>5} {wrong:>5} {fillable:>4} {asked:>4}")
    print()
    for held, name in ((False, "tuned on"), (True, "held out")):
        t = totals[held]
        if not t["forms"]:
            continue
        filled = t["right"] + t["wrong"]
        precision = t["right"] / filled if filled else 0.0
        recall = t["right"] / t["fillable"] if t["fillable"] else 0.0
        print(
            f"{name}: {t['forms']} forms: precision {precision:.3f} (aim ≥ 0.98), recall {recall:.3f} (aim ≥ 0.9), "
            f"filed with no question {no_question[held]}/{t['forms']} ({no_question[held] / t['forms']:.0%})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
