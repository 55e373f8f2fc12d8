"""Attachment rules sites use: `extensions:` beside media types. A photo.jpeg goes to a site that
takes only .jpg as photo.jpg, the manifest and the request text say so; a file no rule allows is
refused before anything is typed, naming the file and the rule."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_cli, submissions
from PIL import Image

from assistant.sites.replica import ReplicaServer, load_site

STRICT_SITE = """
from assistant.sites.replica import Markup, Site

site = Site(__file__)


@site.get("/support")
def form(request):
    return site.page("form.html", errors="")


@site.post("/support")
def send(request):
    # The real site's rule: the name must end .jpg, .png or .pdf; ".jpeg" is refused after the click.
    bad = [f.filename for f in request.files if not f.filename.lower().endswith((".jpg", ".png", ".pdf"))]
    if bad:
        return site.page("form.html", status=422, errors=Markup(f'<p class="errors" role="alert">Not allowed: {bad}</p>'))
    number = site.record(request, prefix="REQ-")
    return site.redirect(f"/support/done/{number}")


@site.get(r"/support/done/(?P<number>[\\w-]+)")
def done(request):
    return site.page("done.html", number=request.params["number"])
"""


def make_flow(tmp: Path, attachment: str, rules: str = "  extensions: [.jpg, .png, .pdf]\n") -> tuple[Path, Path]:
    home = tmp / "home"
    done = run_cli(
        "flow", "new", "acme", "--flows-dir", str(tmp / "flows"), "--sites-dir", str(tmp / "sites"), home=home
    )
    assert done.returncode == 0, done.stderr
    flow = tmp / "flows" / "acme.yaml"
    text = flow.read_text().replace("  max_bytes: 5242880\n", rules + "  max_bytes: 5242880\n")
    flow.write_text(text)
    (tmp / "sites" / "acme" / "site.py").write_text(STRICT_SITE)
    case = tmp / "flows" / "samples" / "acme-case.yaml"
    source = tmp / "flows" / "samples" / attachment
    if attachment.endswith((".jpeg", ".jpg")):
        Image.new("RGB", (64, 48), (200, 30, 30)).save(source, "JPEG")
    elif attachment.endswith(".heic"):
        from pillow_heif import register_heif_opener

        register_heif_opener()
        # 200×300 with a blue band on top: it must arrive whole and the same way up.
        photo = Image.new("RGB", (200, 300), (200, 30, 30))
        photo.paste((30, 30, 200), (0, 0, 200, 30))
        photo.save(source, quality=70)
    else:
        source.write_text("a note\n")
    case.write_text(case.read_text().replace("acme-screenshot.png", attachment))
    return flow, case


def filed(tmp: Path, flow: Path, case: Path):
    """Submit case through flow to the strict replica, evidence in tmp/ev: what the site received."""
    with ReplicaServer(load_site(tmp / "sites" / "acme")) as server:
        done = run_cli(
            "submit", str(flow), "--case", str(case), "--base-url", server.url, "--yes",
            "--out", str(tmp / "ev"), home=tmp / "home",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        [received] = server.received
    return received


def test_a_jpeg_named_photo_jpeg_is_sent_as_photo_jpg_and_the_manifest_says_so(tmp_path):
    flow, case = make_flow(tmp_path, "photo.jpeg")
    original = (case.parent / "photo.jpeg").read_bytes()
    with ReplicaServer(load_site(tmp_path / "sites" / "acme")) as server:
        done = run_cli(
            "submit",
            str(flow),
            "--case",
            str(case),
            "--base-url",
            server.url,
            "--yes",
            "--out",
            str(tmp_path / "ev"),
            home=tmp_path / "home",
        )
        assert done.returncode == 0, done.stderr
        [received] = server.received
    [sent] = received.files
    assert sent.filename == "photo.jpg" and sent.data == original  # the same bytes, only the name changed
    manifest = json.loads((tmp_path / "ev" / "manifest.json").read_text())
    [fitting] = manifest["fitting"]
    assert fitting["sources"] == ["attachments/photo.jpeg"] and fitting["result"] == "attachments/fitted/photo.jpg"
    assert fitting["actions"] == ["renamed photo.jpeg to photo.jpg: the form takes only names ending .jpg, .png, .pdf"]
    assert "photo.jpg (renamed from photo.jpeg to fit the provider's rules;" in manifest["request"]["body"]
    assert "renamed from photo.jpeg" in received.fields["message"]


def test_a_file_no_rule_allows_is_refused_before_anything_is_typed(tmp_path):
    flow, case = make_flow(tmp_path, "notes.txt")
    with ReplicaServer(load_site(tmp_path / "sites" / "acme")) as server:
        done = run_cli(
            "submit", str(flow), "--case", str(case), "--base-url", server.url, "--yes", home=tmp_path / "home"
        )
        assert server.received == []
    assert done.returncode == 2, done.stderr
    [line] = [l for l in done.stderr.splitlines() if l.startswith("error:")]
    assert "notes.txt" in line and ".jpg, .png, .pdf" in line, line
    assert submissions(tmp_path / "home") == []


def test_a_site_that_takes_only_latin_names_gets_a_transliterated_name(tmp_path):
    flow, case = make_flow(tmp_path, "фото чека.jpeg", "  extensions: [.jpg, .png, .pdf]\n  latin_names: true\n")
    received = filed(tmp_path, flow, case)
    assert [f.filename for f in received.files] == ["foto-cheka.jpg"]
    [fitting] = json.loads((tmp_path / "ev" / "manifest.json").read_text())["fitting"]
    assert fitting["actions"][0].startswith(
        "renamed фото чека.jpeg to foto-cheka.jpg: the form takes only names ending"
    )


def test_an_iphone_heic_photo_is_sent_as_a_jpeg_and_the_original_is_kept(tmp_path):
    """HEIC is the iPhone camera's default: a form that takes PNG and JPEG gets a JPEG made from
    it, and the package keeps the photo as it came, hashed, with what was done to it."""
    import hashlib
    import io

    flow, case = make_flow(tmp_path, "IMG_0042.heic")
    original = (case.parent / "IMG_0042.heic").read_bytes()
    assert original[4:12] == b"ftypheic"
    done = run_cli("check", "--case", str(case), "--flow", str(flow), home=tmp_path / "home")
    assert done.returncode == 0, done.stdout + done.stderr
    received = filed(tmp_path, flow, case)
    [sent] = received.files
    assert sent.filename == "IMG_0042-fitted.jpg" and sent.data.startswith(b"\xff\xd8\xff")
    picture = Image.open(io.BytesIO(sent.data))
    assert picture.size == (200, 300) and picture.getpixel((100, 10))[2] > 150  # whole, blue edge on top
    manifest = json.loads((tmp_path / "ev" / "manifest.json").read_text())
    kept = {f["path"]: f for f in manifest["files"]}["attachments/IMG_0042.heic"]
    assert kept["sha256"] == hashlib.sha256(original).hexdigest()
    assert (tmp_path / "ev" / "attachments" / "IMG_0042.heic").read_bytes() == original
    [fitting] = manifest["fitting"]
    assert fitting["sources"] == ["attachments/IMG_0042.heic"] and fitting["actions"][0].startswith(
        "converted HEIC to JPEG"
    )
