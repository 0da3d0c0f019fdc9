#!/usr/bin/env python3
"""POSTs a records file to gridcarbon's /v1/records in batches of N lines over a few keep-alive
connections and prints the durable ingest rate (each answer comes once the batch is in the log)."""
import http.client, sys, threading, time

path, port = sys.argv[1], int(sys.argv[2])
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
conns = int(sys.argv[4]) if len(sys.argv) > 4 else 2
data = open(path, "rb").read().splitlines(keepends=True)
bodies = [b"".join(data[i:i + batch]) for i in range(0, len(data), batch)]
next_i, lock, accepted, errors = 0, threading.Lock(), [0], [0]

def worker():
    global next_i
    c = http.client.HTTPConnection("127.0.0.1", port)
    while True:
        with lock:
            if next_i >= len(bodies):
                return
            i = next_i; next_i += 1
        c.request("POST", "/v1/records", body=bodies[i], headers={"Content-Type": "text/csv"})
        r = c.getresponse(); body = r.read()
        if r.status != 200:
            errors[0] += 1
        else:
            with lock:
                accepted[0] += int(body.split(b'"accepted":')[1].split(b",")[0])

t0 = time.time()
ts = [threading.Thread(target=worker) for _ in range(conns)]
for t in ts: t.start()
for t in ts: t.join()
dt = time.time() - t0
print(f"http: {len(data)} lines in {len(bodies)} POSTs of {batch} over {conns} connections: {dt:.2f} s = {len(data) / dt / 1e6:.2f} M lines/s durable; accepted {accepted[0]}, errors {errors[0]}")
