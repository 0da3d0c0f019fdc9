#!/usr/bin/env python3
"""The dashboard `GET /` in a real browser (reference §6): Debian `chromium` headless, driven over
the DevTools protocol (scripts/cdp.py), against the built daemon.

A simulated day (two days ago) goes in over TCP up to 20:00; the page is opened and must show, with
no console error or exception, the 31 provinces with the intensities `GET /v1/aggregates` gives
for the last closed hour (and the factor basis `GET /v1/factors?at=` gives). Then a real-time factor
of 5 kg/kWh for CN-HB, 21:00-22:00, and the rest of the day go in: the engine raises the
`hot/province/CN-HB` intensity alert, which must appear in the page's feed (read over SSE with
fetch); the time from the lines' acknowledgement is printed as a figure (not asserted). The page must fit a 390 px wide screen.
Then once more with tokens on: the page asks for a token, and with it shows the data.

    scripts/dashboard-test.py [--bin .build/debug/gridcarbon] [--meters 200] [--screenshot docs/dashboard.png] [--keep]
"""
import argparse, base64, decimal, json, os, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import CDP
from testkit import free_port, wait_port

TOKEN = "dashboard-test-token-0123456789"
ALERTS = {"alerts": {"budgets": "budgets.csv", "rules": [
    {"name": "hot", "kind": "intensity", "level": "province", "window": "1h", "threshold": 2.0},
    {"name": "budget", "kind": "budget", "warn_ratio": 0.8},
]}}
BUDGETS = "level,key,period,budget_kg\nnational,CN,day,400000\nprovince,CN-GD,day,40000\nprovince,CN-JS,month,900000\n"
failures = []

def check(ok, what):
    print(f"dashboard-test: {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)

class Daemon:
    def __init__(self, binary, work, name, registry, tokens=None):
        self.tcp, self.http = free_port(), free_port()
        self.data = f"{work}/{name}"
        self.log = f"{work}/{name}.log"
        args = [binary, "serve", "--registry", registry, "--data", self.data, "--config", f"{work}/config.json",
                "--tcp", f"127.0.0.1:{self.tcp}", "--http", f"127.0.0.1:{self.http}",
                # Only the lines move the watermark: the wall clock must not close the day early.
                "--idle-timeout", "1h", "--fsync", "never"]
        if tokens:
            args += ["--tokens", tokens]
        self.token = TOKEN if tokens else None
        self.proc = subprocess.Popen(args, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        for port in (self.tcp, self.http):
            wait_port(port, self.proc, "dashboard-test: daemon", self.log)

    def get(self, path):
        req = urllib.request.Request(f"http://127.0.0.1:{self.http}{path}")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=20) as r:
            return json.load(r)

    def send(self, lines):
        """Sends lines over TCP and waits until they are durable (`!sync`)."""
        with socket.create_connection(("127.0.0.1", self.tcp), timeout=120) as s:
            f = s.makefile("rb")
            if self.token:
                s.sendall(f"!auth {self.token}\n".encode())
                assert f.readline().startswith(b"ok auth")
            s.sendall(b"".join(lines) + b"!sync\n")
            answer = f.readline()
            assert answer.startswith(b"ok "), answer

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)

class Browser:
    def __init__(self, work):
        self.profile = f"{work}/chromium-profile"
        os.makedirs(self.profile)
        args = ["chromium", "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
                "--hide-scrollbars", "--window-size=1200,1500", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")   # chromium refuses to run as root with its sandbox
        self.log = open(f"{work}/chromium.log", "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        port_file = f"{self.profile}/DevToolsActivePort"
        for _ in range(600):
            if os.path.exists(port_file) and open(port_file).read().count("\n") >= 1:
                break
            if self.proc.poll() is not None:
                raise SystemExit(f"dashboard-test: chromium exited {self.proc.returncode}; see {work}/chromium.log")
            time.sleep(0.05)
        else:
            raise SystemExit("dashboard-test: chromium did not write DevToolsActivePort")
        self.port = int(open(port_file).read().split("\n")[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10))
        page = next(t for t in targets if t["type"] == "page")
        self.cdp = CDP(page["webSocketDebuggerUrl"])
        for domain in ("Runtime", "Log", "Page"):
            self.cdp.call(f"{domain}.enable")

    def errors(self):
        """Console errors, uncaught exceptions and error log entries seen so far."""
        out = []
        for method, p in self.cdp.events:
            if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
            elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        return out

    def open(self, url):
        self.cdp.call("Page.navigate", url=url)
        return self.cdp.wait_for("document.readyState === 'complete'", 20)

    def screenshot(self, path, full=True):
        r = self.cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=full)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        return os.path.getsize(path)

    def stop(self):
        self.cdp.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill(); self.proc.wait()

def fixed3(text):
    """JavaScript's Number(text).toFixed(3): the double's exact value, ties away from zero."""
    return str(decimal.Decimal(float(text)).quantize(decimal.Decimal("0.001"), rounding=decimal.ROUND_HALF_UP))

def tiles(cdp):
    return cdp.evaluate("""[...document.querySelectorAll('#map .tile')].map(t => ({region: t.dataset.region,
        intensity: t.dataset.intensity, basis: t.dataset.basis, shown: t.querySelector('.v').textContent}))""")

def check_map(cdp, daemon, label):
    """The 31 tiles against the API: the last closed 1h window's province rows and the basis. The
    page redraws every 10 s and on each alert: a redraw that raced the last lines is waited out."""
    agg = daemon.get("/v1/aggregates?window=1h&level=province&limit=1")["windows"]
    check(len(agg) == 1, f"{label}: the API has a closed 1h window")
    if not agg:
        return
    w = agg[-1]
    api = {r["key"]: r["intensity_kg_per_kwh"] for r in w["rows"]}
    factors = {f["region"]: f["basis"] for f in daemon.get("/v1/factors?at=" + urllib.request.quote(w["window_start"]) + "&window=1h")["in_force"]}
    deadline = time.time() + 25
    while True:
        shown = tiles(cdp)
        bad = []
        for t in shown:
            want = api.get(t["region"])
            got = float(t["intensity"]) if t["intensity"] else None
            text = fixed3(str(want)) if want is not None else "–"
            if got != want or t["shown"] != text or t["basis"] != factors.get(t["region"]):
                bad.append((t["region"], t, want, text, factors.get(t["region"])))
        if not bad or time.time() > deadline:
            break
        time.sleep(0.2)
    check(len(shown) == 31 and len({t["region"] for t in shown}) == 31, f"{label}: the map shows 31 provinces ({len(shown)} tiles)")
    with_data = sum(1 for t in shown if t["intensity"])
    check(not bad, f"{label}: every tile's intensity and basis equal the API's ({with_data} with data, hour {w['window_start']}){'' if not bad else ': ' + repr(bad[:3])}")
    check(with_data >= 25, f"{label}: most provinces have data ({with_data})")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=".build/debug/gridcarbon")
    ap.add_argument("--meters", type=int, default=200)
    ap.add_argument("--screenshot", help="also save the desktop screenshot here (e.g. docs/dashboard.png)")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    work = tempfile.mkdtemp(prefix="gridcarbon-dashboard-")
    # The screenshots are the test's artefacts: kept in a folder of their own, never removed.
    shots = tempfile.mkdtemp(prefix="gridcarbon-dashboard-shots-")
    daemons, browser = [], None
    try:
        day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600 - 2 * 86400))
        subprocess.run([binary, "simulate", "--meters", str(a.meters), "--start", day, "--seed", "7", "--out", f"{work}/sim"],
                       check=True, stderr=subprocess.DEVNULL)
        json.dump(ALERTS, open(f"{work}/config.json", "w"))
        open(f"{work}/budgets.csv", "w").write(BUDGETS)
        open(f"{work}/tokens", "w").write(f"read,ingest {TOKEN}\n")
        lines = open(f"{work}/sim/records.csv", "rb").read().splitlines(keepends=True)
        split = next(i for i, l in enumerate(lines) if f"{day}T20:00:00".encode() in l)
        before, after = lines[:split], lines[split:]
        trigger = [f"f,CN-HB,{day}T21:00:00+08:00,{day}T22:00:00+08:00,5\n".encode()]
        registry = f"{work}/sim/registry.csv"

        # 1. No tokens: the page, its map, the live feed, a phone-sized screen.
        d = Daemon(binary, work, "open", registry)
        daemons.append(d)
        d.send(before)
        browser = Browser(work)
        cdp = browser.cdp
        check(browser.open(f"http://127.0.0.1:{d.http}/") is not None, "the page loads")
        check(cdp.wait_for("Number(document.body.dataset.loaded || 0) >= 1", 20) is not None, "the page drew its data")
        check_map(cdp, d, "tokens off")
        check(cdp.wait_for("document.getElementById('live').classList.contains('on')", 10) is not None, "the alert stream is open")
        check(cdp.evaluate("document.querySelectorAll('#budgets .gauge').length") == 3, "a gauge per budget (3)")
        check(cdp.evaluate("document.querySelectorAll('#enterprises li[data-key]').length") >= 1, "top enterprises listed")
        check(cdp.evaluate("document.querySelectorAll('#trend polyline').length") >= 1, "the trend chart has a line")
        # A province's cities, parks and industries on click.
        cdp.evaluate("document.querySelector('.tile[data-region=\"CN-GD\"]').click()")
        prov = d.get("/v1/province?key=CN-GD")
        shown = cdp.wait_for("!document.getElementById('province').hidden && document.querySelectorAll('#cities li[data-key]').length > 0 && "
                             "[...document.querySelectorAll('#cities li[data-key]')].map(l => l.dataset.key)", 10)
        want = [c["key"] for c in prov["cities"] if c["day_co2_kg"] > 0]
        check(shown is not None and len(shown) == min(50, len(want)) and set(shown) <= set(want), f"clicking CN-GD lists its cities ({len(want)})")
        check(cdp.wait_for("document.querySelectorAll('#trend polyline').length === 2", 10) is not None, "the trend chart adds CN-GD's line")
        # The engine raises an alert while the page is open: it appears in the feed. How long that
        # took is printed as a figure (the issue asks for under a second; 10-33 ms measured here),
        # not asserted: a loaded CI machine must not fail the test on time alone.
        seen_before = set(cdp.evaluate("[...document.querySelectorAll('#feed li[data-seq]')].map(l => l.dataset.id)"))
        check("hot/province/CN-HB" not in " ".join(seen_before), "no CN-HB alert before the trigger")
        d.send(trigger + after)
        acked = time.time()
        got = cdp.wait_for("[...document.querySelectorAll('#feed li[data-seq]')].some(l => l.dataset.id.startsWith('hot/province/CN-HB'))", 30, poll=0.02)
        latency = time.time() - acked
        active = d.get("/v1/alerts")["alerts"]
        check(any(x["id"].startswith("hot/province/CN-HB") for x in active), "the API has the CN-HB intensity alert")
        check(got is not None, f"the alert appeared in the feed, {latency:.3f} s after the lines were acknowledged")
        print(f"dashboard-test: figure: alert in the page's feed {latency * 1000:.0f} ms after the !sync answer", flush=True)
        check(cdp.wait_for("Number(document.body.dataset.loaded) >= 2", 15) is not None, "the page refreshed after the alert")
        time.sleep(0.5)
        check_map(cdp, d, "after the rest of the day")
        shot = f"{shots}/dashboard.png"
        cdp.evaluate("document.querySelector('.tile[data-region=\"CN-HB\"]').click()")
        cdp.wait_for("!document.getElementById('province').hidden && document.getElementById('province-title').textContent.startsWith('CN-HB')", 10)
        cdp.call("Emulation.setDeviceMetricsOverride", width=1200, height=900, deviceScaleFactor=1, mobile=False)
        time.sleep(0.3)
        height = cdp.evaluate("document.documentElement.scrollHeight")
        cdp.call("Emulation.setDeviceMetricsOverride", width=1200, height=height, deviceScaleFactor=1, mobile=False)
        time.sleep(0.3)
        size = browser.screenshot(shot)
        print(f"dashboard-test: screenshot {shot} ({size} bytes)")
        if a.screenshot:
            shutil.copy(shot, a.screenshot)
            print(f"dashboard-test: screenshot saved to {a.screenshot}")
        # A phone-sized screen: nothing wider than 390 px.
        cdp.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
        time.sleep(0.3)
        width = cdp.evaluate("document.documentElement.scrollWidth")
        tile = cdp.evaluate("document.querySelector('.tile').getBoundingClientRect().width")
        check(width <= 390 and tile >= 30, f"usable at 390 px: page {width} px wide, tiles {tile:.0f} px")
        browser.screenshot(f"{shots}/dashboard-390.png", full=False)
        cdp.call("Emulation.clearDeviceMetricsOverride")
        errors = browser.errors()
        check(not errors, f"no console error or exception with tokens off{'' if not errors else ': ' + repr(errors[:5])}")
        # Leave the page before its daemon stops: its stream would retry a closed port.
        browser.open("about:blank")
        check(d.stop() == 0, "daemon (tokens off) exits 0")

        # 2. Tokens on: the page asks for a token, then shows the data; data endpoints stay closed.
        cdp.events.clear()
        d2 = Daemon(binary, work, "secured", registry, tokens=f"{work}/tokens")
        daemons.append(d2)
        d2.send(before)
        for path, want in (("/", 200), ("/dashboard.js", 200), ("/dashboard.css", 200), ("/v1/aggregates", 401), ("/v1/series", 401),
                           ("/v1/province?key=CN-GD", 401), ("/v1/budgets", 401), ("/v1/factors?at=0", 401), ("/v1/alerts/stream", 401)):
            try:
                status = urllib.request.urlopen(f"http://127.0.0.1:{d2.http}{path}", timeout=10).status
            except urllib.error.HTTPError as e:
                status = e.code
            check(status == want, f"tokens on: GET {path} without a token is {status} (want {want})")
        browser.open(f"http://127.0.0.1:{d2.http}/")
        check(cdp.wait_for("!document.getElementById('login').hidden && document.getElementById('main').hidden", 10) is not None, "tokens on: the page asks for a token")
        browser.screenshot(f"{shots}/dashboard-login.png", full=False)
        cdp.evaluate(f"document.getElementById('token').value = {json.dumps(TOKEN)}; document.getElementById('login').requestSubmit(); true")
        check(cdp.wait_for("Number(document.body.dataset.loaded || 0) >= 1", 20) is not None, "tokens on: the page drew its data after the login")
        check(cdp.evaluate("window.location.href.indexOf('token') < 0 && sessionStorage.getItem('gridcarbon-token') !== null"), "tokens on: the token is kept in the tab, not the URL")
        check_map(cdp, d2, "tokens on")
        check(cdp.wait_for("document.getElementById('live').classList.contains('on')", 10) is not None, "tokens on: the alert stream is open")
        errors = browser.errors()
        check(not errors, f"no console error or exception with tokens on{'' if not errors else ': ' + repr(errors[:5])}")
        check(d2.stop() == 0, "daemon (tokens on) exits 0")
    finally:
        if browser:
            browser.stop()
        for d in daemons:
            d.stop()
        if failures:
            print(f"dashboard-test: work folder kept: {work}")
        elif not a.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"dashboard-test: work folder kept: {work}")
    print(f"dashboard-test: screenshots in {shots}")
    print(f"dashboard-test: {'FAIL' if failures else 'passed'} ({len(failures)} failed)")
    sys.exit(1 if failures else 0)

if __name__ == "__main__":
    main()
