"""Evidence costs, measured side by side (ratios printed; these are targets, not tests).

1. Packaging 200 MB of screenshots (copy into the package with SHA-256 as they
   are written, manifest, Ed25519 signature, SHA256SUMS, deterministic zip)
   against `sha256sum` over the same files. Target: ratio at most 1.5, for
   the package written as a run writes it (write_behind: each file written and
   fsynced on a thread while the next is read and hashed); one file after
   another is printed beside it.
2. Stamping a 1920×1080 screenshot (text chunks + stamped copy with banner)
   against taking it with Chromium. Target: ratio at most 0.2.

    .venv/bin/python bench/bench_evidence.py [--megabytes 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from evidence import Environment, EvidencePackage
from evidence.keys import Signer
from evidence.stamp import Stamper, add_text_chunks, stamp
from evidence.times import Clocks


def screenshots(folder: Path, megabytes: int) -> list[Path]:
    """Real-looking screenshots: 1920×1080 PNGs with enough detail to weigh ~2 MB each."""
    folder.mkdir(parents=True, exist_ok=True)
    base = Image.effect_noise((1920, 1080), 64).convert("RGB")
    paths, total, i = [], 0, 0
    while total < megabytes * 1024 * 1024:
        image = base.rotate(i % 360) if i % 7 else base
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=1)
        path = folder / f"{i:04d}-screen.png"
        path.write_bytes(buffer.getvalue())
        paths.append(path)
        total += path.stat().st_size
        i += 1
    return paths


def package(paths: list[Path], out: Path, signer: Signer, *, behind: bool) -> None:
    pkg = EvidencePackage(out)
    if behind:  # as a run writes its package: each file hashed while the one before is written
        pkg.write_behind()
    for path in paths:
        pkg.add_file(f"screenshots/{path.name}", path, "image/png", role="screenshot", captured_at=datetime.now(UTC))
    env = Environment(os="bench", os_version="", kernel="", architecture="", python="")
    pkg.finish(tool="bench", case={"subject": "bench"}, environment=env, actions=[], signer=signer, report=False)
    pkg.bundle(out.with_suffix(".zip"))


def sha256sum(paths: list[Path]) -> None:
    subprocess.run(["sha256sum", *map(str, paths)], check=True, stdout=subprocess.DEVNULL)


def bench_packaging(megabytes: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = screenshots(tmp / "src", megabytes)
        size = sum(p.stat().st_size for p in paths)
        signer = Signer.load_or_create(tmp / "key.pem")
        ours: dict[bool, list[float]] = {True: [], False: []}
        theirs = []
        for r in range(rounds):
            # Each timing starts with nothing left for the disk to write from the one before it
            # (the page cache holds 200 MB of dirty files after a package), untimed.
            os.sync()
            start = time.perf_counter()
            sha256sum(paths)
            theirs.append(time.perf_counter() - start)
            for behind in (True, False) if r % 2 else (False, True):
                out = tmp / f"pkg{r}{'-behind' if behind else ''}"
                os.sync()
                start = time.perf_counter()
                package(paths, out, signer, behind=behind)
                ours[behind].append(time.perf_counter() - start)
                subprocess.run(["rm", "-rf", str(out), str(out.with_suffix(".zip"))], check=True)
        b = statistics.median(theirs)
        a, serial = statistics.median(ours[True]), statistics.median(ours[False])
        print(
            f"packaging {len(paths)} screenshots, {size / 1e6:.0f} MB, as a run does (each file written on a "
            f"thread while the next is hashed): package+zip {a:.2f} s, sha256sum {b:.2f} s, ratio {a / b:.2f} "
            f"(target <= 1.5); one file after another: {serial:.2f} s, ratio {serial / b:.2f}"
        )


def bench_stamping(rounds: int) -> None:
    from playwright.sync_api import sync_playwright

    from assistant.run import browser as browsers

    choice = browsers.discover()
    html = (
        "<html><body style='margin:0;font:16px sans-serif'>"
        + "".join(
            f"<p style='color:hsl({i * 37 % 360},60%,40%)'>Строка {i}: support request text, "
            f"order DM-{i:06d}, payment failed, 2 480,00 ₽</p>"
            for i in range(60)
        )
        + "</body></html>"
    )
    clocks = Clocks(person_zone="Asia/Yekaterinburg", provider_zone="Europe/Moscow", language="ru")
    kw = dict(
        url="https://example.com/support/new",
        case_ref="Оплата не прошла · case 1",
        title="Служба поддержки",
        clocks=clocks,
    )
    with sync_playwright() as p:
        browser = browsers.connect(p, choice)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.set_content(html)
        page.screenshot(type="png")  # warm up
        # 1. The stamping work itself, on the caller's thread.
        take, mark = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            raw = page.screenshot(type="png")
            take.append(time.perf_counter() - start)
            start = time.perf_counter()
            now = datetime.now(UTC)
            add_text_chunks(raw, {"Creation Time": now.isoformat(), "URL": kw["url"], "Title": kw["title"]})
            stamp(raw, captured_at=now, **kw)  # type: ignore[arg-type]
            mark.append(time.perf_counter() - start)
        # 2. What a run pays: screenshots as the capturer takes them (stamped copies on
        #    worker threads, collected at the end) against the same screenshots alone.
        bare, stamped = [], []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(rounds):
                page.screenshot(type="png")
            bare.append(time.perf_counter() - start)
            start = time.perf_counter()
            stamper = Stamper()
            for _ in range(rounds):
                raw = page.screenshot(type="png")
                now = datetime.now(UTC)
                add_text_chunks(raw, {"Creation Time": now.isoformat(), "URL": kw["url"], "Title": kw["title"]})
                # As the capturer does: the stamped copy and the contact sheet's picture.
                stamper.submit(None, raw, thumbnail=True, captured_at=now, **kw)
            stamper.results()
            stamper.close()
            stamped.append(time.perf_counter() - start)
        browser.close()
    a, b = statistics.median(mark), statistics.median(take)
    print(
        f"stamping a 1920×1080 screenshot: {a * 1000:.0f} ms of work, taking it: {b * 1000:.0f} ms, "
        f"ratio {a / b:.2f} when done inline"
    )
    a, b = statistics.median(stamped), statistics.median(bare)
    print(
        f"in a run ({rounds} screenshots, stamped copies made in the background and waited for): "
        f"{a:.2f} s vs {b:.2f} s unstamped, stamping adds {(a - b) / b:.2f} of taking them (target <= 0.2)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bench_packaging(args.megabytes, args.rounds)
    bench_stamping(max(args.rounds, 7))


if __name__ == "__main__":
    sys.exit(main())
