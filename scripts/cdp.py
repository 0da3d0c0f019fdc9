"""A minimal Chrome DevTools Protocol client over a WebSocket (RFC 6455), standard library only:
enough for scripts/dashboard-test.py to drive a headless chromium."""
import base64, json, os, socket, struct, time, urllib.parse

class CDP:
    def __init__(self, ws_url, timeout=30):
        u = urllib.parse.urlparse(ws_url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(f"DevTools refused the WebSocket: {head[:200]!r}")
        self.next_id = 0
        self.events = []   # (method, params) in arrival order, for the caller to inspect

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self):
        """One whole message (continuation frames joined); answers pings."""
        data = b""
        while True:
            b0, b1 = self._read(2)
            op, n = b0 & 0x0F, b1 & 0x7F
            if n == 126: n = struct.unpack(">H", self._read(2))[0]
            elif n == 127: n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask: payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
            if op == 0x9: self._send(payload, 0xA); continue
            if op == 0x8: raise ConnectionError("DevTools closed the WebSocket")
            data += payload
            if b0 & 0x80: return data

    def _send(self, payload, op=0x1):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | op])
        head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536 else bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload)))

    def call(self, method, **params):
        """Sends a command and returns its result; events read meanwhile are kept in `events`."""
        self.next_id += 1
        mid = self.next_id
        self._send(json.dumps({"id": mid, "method": method, "params": params}).encode())
        while True:
            msg = json.loads(self._frame())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append((msg["method"], msg.get("params", {})))

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (promises awaited), by JSON."""
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page exception evaluating {expression[:80]!r}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expression, seconds=20, poll=0.05):
        """Polls `expression` until it is truthy; returns its value, or None after `seconds`."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            v = self.evaluate(expression)
            if v:
                return v
            time.sleep(poll)
        return None

    def close(self):
        try: self.sock.close()
        except OSError: pass
