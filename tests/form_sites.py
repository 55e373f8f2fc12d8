"""The saved real-world-shaped forms of tests/forms/, each served as its site would serve it.

GET on the form's path shows page.html; a POST to the form's action is
accepted with the site's own kind of number and answered, as the real site
would, with a redirect to success.html (which repeats what was sent, as real
confirmation pages do).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlsplit

from helpers import REPO

from assistant.sites.replica import ReplicaServer, Site

FORMS = REPO / "tests" / "forms"
NAMES = sorted(p.name for p in FORMS.iterdir() if (p / "site.json").is_file())


def meta(name: str) -> dict:
    return json.loads((FORMS / name / "site.json").read_text(encoding="utf-8"))


def real_site(name: str) -> ReplicaServer:
    info = meta(name)
    site = Site(FORMS / name / "site.json", title=name)
    done = urlsplit(info["done"])
    key = next((k for k, v in parse_qsl(done.query) if v == "{number}"), None)

    # A form whose page is another's ("page_of": "wp-cf7"), with a confirmation page of its own.
    page = f"../{info['page_of']}/page.html" if "page_of" in info else "page.html"

    @site.get(re.escape(info["path"]))
    def form(request):
        return site.page(page)

    @site.post(re.escape(info["action"]))
    def send(request):
        number = site.record(request, prefix=info["prefix"], digits=info["digits"])
        answer = site.redirect(info["done"].replace("{number}", number))
        if "{number}" not in info["done"]:  # a site that keeps the number out of the address
            answer.cookies.append(f"last_request={number}; Path=/")
        return answer

    @site.get(re.escape(done.path).replace(re.escape("{number}"), r"(?P<number>[^/]+)"))
    def thanks(request):
        number = (
            request.params.get("number") or request.query.get(key or "", "") or request.cookies.get("last_request", "")
        )
        received = site.lookup(number)
        if received is None:
            return site.page_text("Not found", "<h1>Not found</h1>", status=404)
        echoed = {slot: received.fields.get(field, "") for slot, field in info["echo"].items()}
        return site.page("success.html", number=number, **echoed)

    return ReplicaServer(site)


def form_url(server: ReplicaServer, name: str) -> str:
    return server.url + meta(name)["path"]
