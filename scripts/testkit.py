"""Helpers shared by the end-to-end scripts (crash-test.py, scale-out-test.py): ports, waiting for
a process to listen, and reading back a data folder's aggregate files and alert log."""
import glob, os, socket, subprocess, time

def free_port():
    """A TCP port free on loopback now."""
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def wait_port(port, proc, what, log, seconds=60):
    """Waits until `port` accepts connections; exits naming `log` if `proc` dies or time runs out."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close(); return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{what} exited {proc.returncode}; see {log}")
            time.sleep(0.05)
    raise SystemExit(f"{what} did not start within {seconds} s; see {log}")

def aggregates(data):
    """Every aggregate file under `data`, path relative to it -> bytes."""
    out = {}
    for p in glob.glob(os.path.join(data, "aggregates", "**", "*.csv.zst"), recursive=True):
        out[os.path.relpath(p, data)] = open(p, "rb").read()
    return out

def alert_log(data):
    """The alert log's events as bytes, in file order (zstd frames decompressed)."""
    files = sorted(glob.glob(os.path.join(data, "alerts", "alerts-*.ndjson.zst")))
    if not files:
        return b""
    return subprocess.run(["zstd", "-dc", *files], check=True, stdout=subprocess.PIPE).stdout
