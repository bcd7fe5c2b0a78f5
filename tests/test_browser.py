"""Open the generated report in headless Chromium: every page loads without console errors, every
image renders, and a screenshot is saved.

How: Chromium is started with ``--remote-debugging-port=0``; the test speaks the Chrome DevTools
Protocol to it over a websocket implemented here on a raw socket (RFC 6455, ~60 lines), so no Python
package beyond the standard library is needed and no browser is downloaded. For each page it enables
the Runtime, Log and Page domains, navigates to the ``file://`` URL, waits for the load event, and
collects ``Runtime.exceptionThrown``, ``Runtime.consoleAPICalled`` of type error/assert and
``Log.entryAdded`` of level error (which is where failed loads of images and style sheets appear).
Images are checked in the page: ``complete && naturalWidth > 0`` for every ``<img>`` after each was
scrolled into view (they are ``loading="lazy"``). Skipped — not failed — where no Chromium is installed.

What a reader sees is checked too, on a report of the sections a reader opens first (Thm 2.1,
Thm 3.2, Appendix D, Section 4, quick mode): the index's headline names the failing statements, the
findings page has one row per statement, and no number in any table cell of any page is longer than
12 characters; screenshots of the index, findings, Thm 2.1, Thm 3.2, Appendix D and Section 4
pages are written (their paths printed; ``SAM_VERIFY_SCREENSHOTS=DIR`` keeps them in DIR).
"""
from __future__ import annotations

import base64
import json
import os
import pathlib
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import pytest

pytestmark = pytest.mark.browser

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    env = os.environ.get("SAM_VERIFY_CHROMIUM")
    if env and os.path.exists(env):
        return env
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


# -- a minimal websocket client (text frames, client masking, fragmentation, large payloads) ----------
class WebSocket:
    def __init__(self, url: str, timeout: float = 30.0):
        m = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        if not m:
            raise ValueError(f"unexpected websocket url {url!r}")
        host, port, path = m.group(1), int(m.group(2)), m.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            head += chunk
        status, _, self._buf = head.partition(b"\r\n\r\n")
        if b" 101 " not in status.split(b"\r\n")[0]:
            raise ConnectionError(f"websocket handshake refused: {status[:200]!r}")

    def send(self, text: str) -> None:
        data = text.encode()
        n = len(data)
        header = bytes([0x81])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self._buf)))
            if not chunk:
                raise ConnectionError("websocket closed")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def recv(self) -> str:
        parts = []
        while True:
            b0, b1 = self._read(2)
            fin, opcode, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise ConnectionError("websocket closed by the browser")
            if opcode in (0x9, 0xA):  # ping / pong: ignore (Chromium does not ping CDP clients)
                continue
            parts.append(payload)
            if fin:
                return b"".join(parts).decode()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Browser:
    """Headless Chromium driven over the DevTools Protocol (one page target)."""

    def __init__(self, binary: str, workdir: pathlib.Path):
        self.profile = pathlib.Path(tempfile.mkdtemp(prefix="chromium-profile-", dir=workdir))
        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-sync", "--mute-audio",
             "--allow-file-access-from-files", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", "--window-size=1400,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        url, seen, deadline = None, [], time.time() + 60
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                url = m.group(1)
                break
        if not url:
            self.quit()
            raise RuntimeError("Chromium did not start:\n" + "".join(seen[-20:]))
        # drain stderr in the background so Chromium never blocks on a full pipe
        import threading
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()
        self.ws = WebSocket(url)
        self._id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=1400, height=1000,
                  deviceScaleFactor=1, mobile=False)

    def call(self, method: str, session: bool = False, timeout: float = 60, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        deadline = time.time() + timeout
        while time.time() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)
        raise TimeoutError(method)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        for i, ev in enumerate(self.events):
            if ev["method"] == method:
                return self.events.pop(i)
        deadline = time.time() + timeout
        while time.time() < deadline:
            ev = json.loads(self.ws.recv())
            if ev.get("method") == method:
                return ev
            if "method" in ev:
                self.events.append(ev)
        raise TimeoutError(method)

    def evaluate(self, expression: str):
        res = self.call("Runtime.evaluate", session=True, expression=expression, awaitPromise=True,
                        returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"evaluate failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def open(self, url: str) -> list[str]:
        """Navigate and wait for load; return the console/log errors seen on the way."""
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        self.wait_for("Page.loadEventFired")
        # lazy images: bring each into view, then wait until every image has settled
        self.evaluate("""(async () => {
            for (const img of document.images) { img.loading = 'eager'; img.scrollIntoView(); }
            await Promise.all(Array.from(document.images).map(img => img.complete ? null :
                new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })));
            window.scrollTo(0, 0);
            return true; })()""")
        self.call("Runtime.evaluate", session=True, expression="1")  # flush pending events
        return self.errors()

    def errors(self) -> list[str]:
        out = []
        for ev in self.events:
            p = ev.get("params", {})
            if ev["method"] == "Runtime.exceptionThrown":
                out.append("exception: " + json.dumps(p.get("exceptionDetails", {}))[:500])
            elif ev["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.error: " + json.dumps(p.get("args", []))[:500])
            elif ev["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                e = p["entry"]
                out.append(f"log error ({e.get('source')}): {e.get('text')} {e.get('url', '')}")
        return out

    def images(self) -> list[dict]:
        return self.evaluate("Array.from(document.images).map(i => ({src: i.src, complete: i.complete,"
                             " w: i.naturalWidth, h: i.naturalHeight}))")

    def screenshot(self, path: pathlib.Path, full_page: bool = False) -> pathlib.Path:
        params = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
            params.update(captureBeyondViewport=True, clip={
                "x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1})
        data = self.call("Page.captureScreenshot", session=True, **params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def quit(self) -> None:
        try:
            if getattr(self, "ws", None):
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


# -- the test ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chromium_binary():
    binary = find_chromium()
    if not binary:
        pytest.skip("no Chromium installed (apt-get install chromium); browser test skipped")
    return binary


READER_SECTIONS = ["core_checks", "thm_2_1", "thm_3_2", "appendix_d", "mlp_check", "rivals_index",
                   "rivals_explanations"]
SCREENSHOTS = ("index.html", "findings.html", "thm_2_1.html", "thm_3_2.html", "appendix_d.html",
               "mlp_check.html", "rivals_index.html", "rivals_explanations.html")
MAX_NUMBER_CHARS = 12
# a decimal number in text, not part of a word, a version string or a hex digest (as in
# verify.core.display._IN_TEXT_RE)
NUMBER_JS = r"/(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]*\w)/g"


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    from verify.report.build import build
    out = tmp_path_factory.mktemp("report")
    # Module errors are rendered as error sections (pages still load), so the page checks are
    # about the site; the reader checks below need the sections' certificates.
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # Section 4's small MLP: one thread avoids oversubscription on a busy CPU
    try:
        report = build(out=out, quick=True, only=READER_SECTIONS, progress=False,
                       command="pytest tests/test_browser.py")
    finally:
        torch.set_num_threads(threads)
    return out, report


def long_numbers(browser) -> list[str]:
    """Numbers longer than MAX_NUMBER_CHARS characters in the table cells of the open page."""
    return browser.evaluate(f"""(() => {{
        const out = [];
        for (const cell of document.querySelectorAll('td, th')) {{
            for (const m of cell.innerText.matchAll({NUMBER_JS}))
                if (m[0].length > {MAX_NUMBER_CHARS}) out.push(m[0]);
        }}
        return out; }})()""")


def check_site(binary: str, out: pathlib.Path, shots: pathlib.Path, screenshot_pages=("index.html",)):
    """Open every page of the site in ``out``: return (problems, number of images). A problem is a
    console or load error, an image that does not render, a missing style sheet or a number
    longer than MAX_NUMBER_CHARS characters in a table cell."""
    pages = sorted(out.glob("*.html"))
    assert {"index.html", "findings.html", "environment.html"} <= {p.name for p in pages}
    browser = Browser(binary, shots)
    problems = []
    n_images = 0
    try:
        for page in pages:
            errors = browser.open(page.resolve().as_uri())
            problems += [f"{page.name}: {e}" for e in errors]
            imgs = browser.images()
            n_images += len(imgs)
            problems += [f"{page.name}: image does not render: {i['src']} ({i})" for i in imgs
                         if not (i["complete"] and i["w"] > 0)]
            styled = browser.evaluate("getComputedStyle(document.querySelector('header.top'))"
                                      ".backgroundColor")
            if styled in (None, "", "rgba(0, 0, 0, 0)"):
                problems.append(f"{page.name}: style.css not applied (header background {styled!r})")
            problems += [f"{page.name}: number longer than {MAX_NUMBER_CHARS} characters in a table "
                         f"cell: {n}" for n in long_numbers(browser)]
            if page.name in screenshot_pages:
                shot = browser.screenshot(shots / f"{page.stem}.png", full_page=True)
                print(f"screenshot: {shot}")
    finally:
        browser.quit()
    return problems, n_images


def _shots_dir(tmp_path_factory) -> pathlib.Path:
    keep = os.environ.get("SAM_VERIFY_SCREENSHOTS")
    if keep:
        path = pathlib.Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


def test_report_pages_load_and_images_render(chromium_binary, quick_report, tmp_path_factory):
    out, report = quick_report
    shots = _shots_dir(tmp_path_factory)
    problems, n_images = check_site(chromium_binary, out, shots, SCREENSHOTS)
    assert n_images > 0, "the quick report should contain figures"
    assert not problems, "\n".join(problems)
    for page in SCREENSHOTS:
        assert (shots / page.replace(".html", ".png")).stat().st_size > 10_000, page


def test_reader_sees_the_headline_and_one_row_per_statement(chromium_binary, quick_report, tmp_path):
    """The index says first how many paper statements fail; the findings page groups them."""
    out, report = quick_report
    statements = {(f["source"].strip(), f["statement"].strip()) for c in report.certificates
                  for f in c["findings"]}
    real = {(f["source"].strip(), f["statement"].strip()) for c in report.certificates
            if c["expected"] for f in c["findings"]}
    assert real, "the reader sections record findings (Thm 2.1, Thm 3.2, Appendix D)"
    browser = Browser(chromium_binary, tmp_path)
    try:
        browser.open((out / "index.html").resolve().as_uri())
        lead = browser.evaluate("document.querySelector('#headline .lead').innerText")
        banner = browser.evaluate("getComputedStyle(document.querySelector('#headline')).backgroundColor")
        first = browser.evaluate("document.querySelector('main').innerText.split('\\n')"
                                 ".filter(t => t.trim())[1]")
        badges = browser.evaluate("Array.from(document.querySelectorAll('#theorems .badge'))"
                                  ".map(b => b.innerText)")
        browser.open((out / "findings.html").resolve().as_uri())
        rows = browser.evaluate("Array.from(document.querySelectorAll('#findings tr.finding-row'))"
                                ".map(r => r.cells[1].querySelector('div').innerText)")
    finally:
        browser.quit()
    n = len(real)
    assert re.fullmatch(rf"{n} statements? of the papers fails? on cases whose hypotheses hold"
                        r" — see Findings\.", lead), lead
    assert first.startswith(f"{n} statement"), "the headline comes first on the page"
    assert banner not in ("rgb(218, 251, 225)",), "not the green 'all passed' banner"
    assert len(badges) == len(report.sections) and any("fails" in b for b in badges), badges
    assert len(rows) == len(statements), (len(rows), len(statements))
    for source, statement in statements:
        assert sum(1 for r in rows if r.startswith(source) and statement[:40] in r) == 1, statement


@pytest.mark.slow
def test_whole_quick_report_in_the_browser(chromium_binary, tmp_path_factory):
    """Every section of ``sam-verify report --quick`` (all theorem modules), in the browser."""
    from verify.report.build import build
    out = tmp_path_factory.mktemp("whole_report")
    report = build(out=out, quick=True, progress=False, jobs=2,
                   command="pytest --runslow tests/test_browser.py")
    shots = tmp_path_factory.mktemp("whole_screenshots")
    problems, n_images = check_site(chromium_binary, out, shots, ("index.html", "findings.html"))
    print(f"whole quick report: {report.summary()}")
    assert n_images > 0
    assert not problems, "\n".join(problems)


def test_report_is_offline(quick_report):
    """No page or style sheet refers to anything outside the report folder."""
    out, _ = quick_report
    for path in list(out.glob("*.html")) + list(out.glob("*.css")):
        text = path.read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), path.name
        assert "@import" not in text and "url(http" not in text, path.name


def test_checker_catches_broken_pages(chromium_binary, tmp_path):
    """Negative control of the checker itself: a missing image and style sheet, console.error and an
    uncaught exception must all be reported."""
    page = tmp_path / "broken.html"
    page.write_text('<html><head><link rel="stylesheet" href="missing.css"></head><body>'
                    '<img src="missing.png"><script>console.error("boom"); notDefined();</script>'
                    '<table><tr><td>value 0.44999999999999995559 at x1 = 2.5</td><td>v1.2.3 '
                    'sha 1234567890123abc</td></tr></table></body></html>')
    browser = Browser(chromium_binary, tmp_path)
    try:
        errors = browser.open(page.as_uri())
        images = browser.images()
        long = long_numbers(browser)
    finally:
        browser.quit()
    text = "\n".join(errors)
    assert "missing.css" in text and "missing.png" in text
    assert "boom" in text and "exception" in text
    assert images and not (images[0]["complete"] and images[0]["w"] > 0)
    assert long == ["0.44999999999999995559"]  # not the version, the digest or the short numbers
