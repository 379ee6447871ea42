#!/usr/bin/env python3
"""Headless Chromium for Lathe's picture tests (lathe report, lathe ui).

usage:
  browser.py load URL_OR_FILE --dom OUT.html [--shot OUT.png] [--size W,H] [--console OUT.txt]
      Opens the page in headless Chromium, writes the DOM after scripts ran,
      a screenshot, and every console message (errors, logs and uncaught
      exceptions alike: Lathe's pages log nothing, so any line is a defect).
      Exits 1 if the page logged anything, 77 (meson's skip) if Chromium is absent.
  browser.py variance PNG        prints the grey-level variance of the image
                                 (a blank page is 0; a chart is well above 100)
  browser.py count DOM TAG [CLASS]  prints how many TAG elements (with CLASS) the DOM has
  browser.py links DOM           prints every href, one per line

Chromium's console lines do not say their level, so the check cannot single
out errors; it does not need to. The profile is a fresh temporary directory per
call, so tests may run in parallel.
"""
import html.parser
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

SKIP = 77


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    print("SKIP: Chromium is not installed (scripts/deps.sh installs the Debian package chromium)")
    sys.exit(SKIP)


def run_chromium(args, timeout=60):
    with tempfile.TemporaryDirectory(prefix="lathe-chromium-") as profile:
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--no-first-run", "--disable-extensions", "--hide-scrollbars",
               "--user-data-dir=" + profile] + args
        return subprocess.run(cmd, capture_output=True, timeout=timeout, text=True)


def url_of(target):
    if re.match(r"^[a-z]+://", target):
        return target
    return "file://" + os.path.abspath(target)


def load(argv):
    target = argv[0]
    opts = dict(zip(argv[1::2], argv[2::2]))
    url = url_of(target)
    res = run_chromium(["--enable-logging=stderr", "--v=0",
                        "--virtual-time-budget=5000", "--dump-dom", url])
    if res.returncode != 0:
        print(f"error: chromium exited {res.returncode} on {url}: {res.stderr[-400:]}", file=sys.stderr)
        return 1
    with open(opts["--dom"], "w") as f:
        f.write(res.stdout)
    console = [line for line in res.stderr.splitlines() if ":CONSOLE" in line]
    if "--console" in opts:
        with open(opts["--console"], "w") as f:
            f.write("\n".join(console) + ("\n" if console else ""))
    if "--shot" in opts:
        w, h = opts.get("--size", "1280,1600").split(",")
        shot = run_chromium([f"--window-size={w},{h}", "--screenshot=" + os.path.abspath(opts["--shot"]), url])
        if shot.returncode != 0 or not os.path.exists(opts["--shot"]):
            print(f"error: no screenshot of {url}: {shot.stderr[-400:]}", file=sys.stderr)
            return 1
    if console:
        for line in console:
            print("console: " + line, file=sys.stderr)
        return 1
    return 0


def png_grey(path):
    """Decodes an 8-bit RGB or RGBA PNG (what Chromium writes) to grey levels."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                raise ValueError(f"{path}: PNG colour type {colour} depth {depth} not handled")
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    grey = []
    i = 0
    for _ in range(height):
        ftype = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 255
            elif ftype == 2:
                line[x] = (line[x] + b) & 255
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 255
        prev = line
        for x in range(0, stride, bpp):
            grey.append((line[x] * 299 + line[x + 1] * 587 + line[x + 2] * 114) // 1000)
    return grey


def variance(path):
    g = png_grey(path)
    mean = sum(g) / len(g)
    return sum((v - mean) ** 2 for v in g) / len(g)


class Counter(html.parser.HTMLParser):
    def __init__(self, tag=None, cls=None):
        super().__init__()
        self.tag, self.cls, self.n, self.hrefs = tag, cls, 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == self.tag and (self.cls is None or self.cls in (a.get("class") or "").split()):
            self.n += 1
        if "href" in a and a["href"] is not None:
            self.hrefs.append(a["href"])

    handle_startendtag = handle_starttag


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "load":
        return load(argv)
    if cmd == "variance":
        print(f"{variance(argv[0]):.1f}")
        return 0
    if cmd in ("count", "links"):
        c = Counter(argv[1] if cmd == "count" else None, argv[2] if len(argv) > 2 else None)
        c.feed(open(argv[0]).read())
        print(c.n if cmd == "count" else "\n".join(c.hrefs))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
