#!/usr/bin/env python3
"""Latency from a slot closing to its alert event reaching a Server-Sent Events subscriber.

Starts a release `gridcarbon serve` with an intensity rule on 15-minute windows, subscribes to
GET /v1/alerts/stream, and feeds one meter over TCP, one 15-minute interval record at a time, with
real-time factors that alternate above and below the threshold: every record closes exactly one
slot (and its 15-minute window), which fires or resolves the alert. The clock starts just before
the record that closes the slot is written to the socket and stops when the event's `data:` line
arrives, so it includes parsing, the write-ahead-log fsync, the alert log fsync and delivery: an
upper bound. Prints p50, p99 and max over N events.

    Benchmarks/alert-latency.py [--events 300] [--bin .build/release/gridcarbon]
"""
import argparse, json, os, socket, subprocess, tempfile, threading, time, queue, datetime, http.client

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=300)
    ap.add_argument("--bin", default=".build/release/gridcarbon")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gridcarbon-alert-latency-")
    with open(f"{work}/registry.csv", "w") as f:
        f.write("meter_id,region,city,park,enterprise,industry,max_kw\nM1,CN-GD,SZ,,E1,C,\n")
    json.dump({"windows": ["15m", "1h", "1d"], "alerts": {"rules": [
        {"name": "hot", "kind": "intensity", "level": "province", "window": "15m", "threshold": 0.5}]}},
        open(f"{work}/config.json", "w"))
    tcp, http_port = free_port(), free_port()
    log = open(f"{work}/serve.log", "wb")
    d = subprocess.Popen([a.bin, "serve", "--config", f"{work}/config.json", "--registry", f"{work}/registry.csv",
                          "--data", f"{work}/data", "--tcp", f"127.0.0.1:{tcp}", "--http", f"127.0.0.1:{http_port}"],
                         stdout=log, stderr=log)
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", tcp), timeout=0.2).close()
                socket.create_connection(("127.0.0.1", http_port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        events = queue.Queue()
        def listen():
            c = http.client.HTTPConnection("127.0.0.1", http_port)
            c.request("GET", "/v1/alerts/stream")
            r = c.getresponse()
            while True:
                line = r.fp.readline()
                if not line:
                    return
                if line.startswith(b"data:"):
                    events.put((time.monotonic(), json.loads(line[5:])))
        threading.Thread(target=listen, daemon=True).start()
        time.sleep(0.5)
        sock = socket.create_connection(("127.0.0.1", tcp))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tz = datetime.timezone(datetime.timedelta(hours=8))
        start = datetime.datetime(2026, 11, 18, 0, 0, tzinfo=tz)
        q = datetime.timedelta(minutes=15)
        fmt = lambda t: t.isoformat()
        # Factors for every slot first: 0.9, 0.1, 0.9, ... (fires, resolves, fires, ...).
        n = a.events + 10
        feed = "".join(f"f,CN-GD,{fmt(start + i * q)},{fmt(start + (i + 1) * q)},{0.9 if i % 2 == 0 else 0.1}\n" for i in range(n))
        # Five slots ahead: the watermark (newest end - 15 min) stays just short of closing slot 0.
        feed += "".join(f"i,M1,{fmt(start + i * q)},{fmt(start + (i + 1) * q)},1\n" for i in range(5))
        sock.sendall(feed.encode() + b"!sync\n")
        f = sock.makefile("rb")
        assert f.readline().startswith(b"ok "), "no sync answer"
        lat = []
        for i in range(5, 5 + a.events):
            # This record's end moves the watermark to close slot i-5 and its 15-minute window.
            line = f"i,M1,{fmt(start + i * q)},{fmt(start + (i + 1) * q)},1\n".encode()
            t0 = time.monotonic()
            sock.sendall(line)
            t1, e = events.get(timeout=30)
            want = fmt(start + (i - 4) * q)
            assert e["window_end"] == want, (e["window_end"], want)
            lat.append((t1 - t0) * 1000)
        lat.sort()
        pick = lambda p: lat[min(len(lat) - 1, int(len(lat) * p + 0.999999) - 1)]
        print(f"alert latency, slot close -> SSE subscriber, {len(lat)} events: p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {lat[-1]:.1f} ms")
    finally:
        d.terminate(); d.wait(timeout=60)

if __name__ == "__main__":
    main()
