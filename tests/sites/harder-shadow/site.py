"""A support form built as a web component: every field is inside an open shadow root.

The form posts with fetch() to a JSON endpoint and writes the number into
the shadow root, as single-page apps do.
"""

import json

from assistant.sites.replica import Response, Site

site = Site(__file__)


@site.get("/")
def home(request):
    return site.page("index.html")


@site.post("/api/tickets")
def create(request):
    if not request.value("email") or len(request.value("message")) < 20 or not request.files:
        return Response(422, b'{"error": "email, message and a file are required"}', "application/json")
    number = site.record(request, prefix="SH-")
    return Response(201, json.dumps({"number": number}).encode(), "application/json")
