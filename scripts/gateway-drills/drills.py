"""The client side of scripts/gateway-drills.sh: faults against a running `scopegate proxy`, one JSON line per
drill on stdout (fault, observed outcome, peak RSS of the proxy, errors, time to recover).

    python3 drills.py keys WORK ISSUER                    # an ES256 key: WORK/key.pem and WORK/jwks.json
    python3 drills.py run WORK PROXY_PORT PROXY_PID UPSTREAM_PORT ISSUER AUDIENCE POLICY [DRILL…]

`run` starts the upstream (upstream.py) itself, so that it can kill and restart it. Any broken expectation
exits 1 with the reason; the shell script turns that into a failure.
"""
import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

HERE = os.path.dirname(os.path.abspath(__file__))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fail(message):
    print(f"gateway-drills: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


# --- tokens --------------------------------------------------------------------------------------------------

def keys(work, issuer):
    key = ec.generate_private_key(ec.SECP256R1())
    with open(f"{work}/key.pem", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    n = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "kid": "drill", "alg": "ES256", "use": "sig",
           "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))}
    with open(f"{work}/jwks.json", "w") as f:
        json.dump({"keys": [jwk]}, f)


class Minter:
    def __init__(self, work, issuer, audience):
        with open(f"{work}/key.pem", "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), None)
        self.issuer, self.audience = issuer, audience

    def token(self, scope, subject="drill", forged=False):
        now = int(time.time())
        header = b64(json.dumps({"alg": "ES256", "typ": "JWT", "kid": "drill"}).encode())
        claims = b64(json.dumps({"iss": self.issuer, "aud": self.audience, "sub": subject, "scope": scope,
                                 "iat": now, "exp": now + 3600}).encode())
        signing = f"{header}.{claims}".encode()
        if forged:
            return f"{header}.{claims}.{b64(os.urandom(64))}"
        r, s = decode_dss_signature(self.key.sign(signing, ec.ECDSA(hashes.SHA256())))
        return f"{header}.{claims}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


# --- a small HTTP/1.1 client (one connection per request) -----------------------------------------------------

class Answer:
    def __init__(self, status=0, body=b"", error=None, headers=None):
        self.status, self.body, self.error, self.headers = status, body, error, headers or {}


async def read_body(reader, headers):
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out = b""
        while True:
            size = int((await reader.readline()).strip() or b"x", 16)
            if size == 0:
                await reader.readline()
                return out
            out += await reader.readexactly(size)
            await reader.readline()
    return await reader.read()


async def request(port, body, token=None, method="POST", path="/mcp", extra=None, timeout=60):
    """Sends one request; the answer, or the error that ended it (with what was read so far)."""
    answer = Answer()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
                 "Content-Type: application/json", "Accept: application/json, text/event-stream",
                 "MCP-Protocol-Version: 2025-11-25", f"Content-Length: {len(data)}"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        lines += extra or []
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        await writer.drain()

        async def read():
            status_line = await reader.readline()
            answer.status = int(status_line.split()[1]) if status_line else 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                k, _, v = line.decode().partition(":")
                answer.headers[k.strip().lower()] = v.strip()
            answer.body = await read_body(reader, answer.headers)

        await asyncio.wait_for(read(), timeout)
        writer.close()
    except Exception as e:  # noqa: BLE001 — any failure is the observation
        answer.error = type(e).__name__
    return answer


def call(tool, rid=1):
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": tool, "arguments": {}}}


# --- the proxy process -----------------------------------------------------------------------------------------

def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Drills:
    def __init__(self, work, port, pid, upstream_port, issuer, audience, policy):
        self.work, self.port, self.pid, self.upstream_port = work, port, pid, upstream_port
        self.policy = policy
        self.mint = Minter(work, issuer, audience)
        self.reader = self.mint.token("files:read")
        self.upstream = None
        self.log = f"{work}/upstream-calls.txt"
        open(self.log, "w").close()

    def start_upstream(self):
        self.upstream = subprocess.Popen(
            [sys.executable, f"{HERE}/upstream.py", str(self.upstream_port), self.log],
            stdout=open(f"{self.work}/upstream.log", "a"), stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.upstream_port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        fail("the upstream did not start")

    def kill_upstream(self):
        self.upstream.send_signal(signal.SIGKILL)
        self.upstream.wait()

    def forwarded(self):
        with open(self.log) as f:
            return [line.strip() for line in f]

    async def served(self, count=20):
        """`count` ordinary calls, at once: how many got a 200 with a result, and the slowest (ms)."""
        async def one():
            t = time.monotonic()
            a = await request(self.port, call("read_file"), self.reader)
            return a.status == 200 and b'"result"' in a.body, (time.monotonic() - t) * 1000
        results = await asyncio.gather(*[one() for _ in range(count)])
        return sum(ok for ok, _ in results), max(ms for _, ms in results)

    def row(self, name, fault, expected, observed, errors, recover_s, started, **extra):
        row = {"drill": name, "fault": fault, "expected": expected, "observed": observed,
               "peak_rss_mb": round(status_kb(self.pid, "VmHWM") / 1024, 1),
               "rss_after_mb": round(status_kb(self.pid, "VmRSS") / 1024, 1), "errors": errors,
               "time_to_recover_s": recover_s, "seconds": round(time.monotonic() - started, 1)}
        row.update(extra)
        print(json.dumps(row), flush=True)

    # --- drills ------------------------------------------------------------------------------------------------

    async def never_answers(self):
        started = time.monotonic()
        hung = asyncio.create_task(request(self.port, call("hang"), self.reader))
        await asyncio.sleep(0.5)
        ok, slowest = await self.served(20)
        t = time.monotonic()
        answer = await hung
        waited = time.monotonic() - started
        if answer.status != 504 or b"-32004" not in answer.body:
            fail(f"never-answering upstream: {answer.status} {answer.body[:200]} {answer.error}")
        if ok != 20:
            fail(f"other clients not served while the upstream hangs: {ok}/20")
        self.row("upstream-never-answers", "the upstream accepts the request and never answers",
                 "504 with JSON-RPC -32004 after --upstream-timeout; other clients served",
                 f"504 -32004 after {waited:.1f} s; 20/20 other calls served meanwhile (slowest {slowest:.0f} ms)",
                 0, round(time.monotonic() - t, 1), started)

    async def killed_mid_sse(self):
        started = time.monotonic()
        ended = []

        async def stream():
            a = await request(self.port, call("long"), self.reader)
            ended.append(time.monotonic())
            return a
        streams = [asyncio.create_task(stream()) for _ in range(20)]
        await asyncio.sleep(1.5)
        self.kill_upstream()
        killed = time.monotonic()
        answers = await asyncio.gather(*streams)
        # Each cut stream must end with a JSON-RPC error for its request, never a result and never just stop.
        ended_with_error = sum(1 for a in answers
                               if not a.error and b'"code":-32004' in a.body and b'"done"' not in a.body)
        if ended_with_error != len(answers):
            fail(f"streams cut by the upstream's death: {ended_with_error}/{len(answers)} ended with a -32004 event; "
                 f"{[(a.status, a.error, a.body[-120:]) for a in answers[:3]]}")
        down = await request(self.port, call("read_file"), self.reader)
        if down.status != 502 or b"-32004" not in down.body:
            fail(f"a call while the upstream is down: {down.status} {down.body[:200]}")
        self.start_upstream()
        restarted = time.monotonic()
        while (await request(self.port, call("read_file"), self.reader)).status != 200:
            if time.monotonic() - restarted > 30:
                fail("the proxy did not recover after the upstream came back")
            await asyncio.sleep(0.05)
        self.row("upstream-killed-mid-sse", "the upstream is killed (SIGKILL) with 20 SSE answers in flight",
                 "each cut stream ends with a JSON-RPC -32004 event for its request; calls while it is down get "
                 "502 -32004; the first call after it is back succeeds",
                 f"{ended_with_error}/20 streams ended with a -32004 event {min(ended) - killed:.2f}–"
                 f"{max(ended) - killed:.2f} s after the kill; 502 -32004 while down",
                 ended_with_error, round(time.monotonic() - restarted, 2), started)

    async def slowloris(self, connections=200, seconds=25):
        started = time.monotonic()
        socks = []
        for _ in range(connections):
            s = socket.create_connection(("127.0.0.1", self.port))
            s.setblocking(False)
            socks.append(s)
        head = b"POST /mcp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"a" * 100
        closed_at = {}
        served = []
        for i in range(seconds):
            for n, s in enumerate(socks):
                if n in closed_at:
                    continue
                try:
                    s.send(head[i:i + 1])
                    if s.recv(1) == b"":
                        closed_at[n] = time.monotonic() - started
                except BlockingIOError:
                    pass
                except OSError:
                    closed_at[n] = time.monotonic() - started
            served.append(await self.served(5))
            await asyncio.sleep(max(0, started + i + 1 - time.monotonic()))
        for s in socks:
            s.close()
        ok = sum(o for o, _ in served)
        if ok != 5 * seconds:
            fail(f"clients not served during slowloris: {ok}/{5 * seconds}")
        if len(closed_at) != connections:
            fail(f"slowloris: {connections - len(closed_at)} connections still open after {seconds} s")
        latest = max(closed_at.values())
        self.row("slowloris", f"{connections} clients send their request head one byte a second",
                 "each such connection closed after --idle-timeout; other clients served throughout",
                 f"all {connections} closed by {latest:.1f} s; {ok}/{5 * seconds} other calls served "
                 f"(slowest {max(ms for _, ms in served):.0f} ms)",
                 0, round(latest, 1), started)

    async def idle_connections(self, count=5000):
        started = time.monotonic()
        fds_before = open_fds(self.pid)
        sem = asyncio.Semaphore(256)
        held = []

        async def connect():
            async with sem:
                for attempt in range(50):
                    try:
                        held.append(await asyncio.open_connection("127.0.0.1", self.port))
                        return
                    except OSError:
                        await asyncio.sleep(0.01 * (attempt + 1))
        await asyncio.gather(*[connect() for _ in range(count)])
        opened_in = time.monotonic() - started
        peak_fds, t = 0, time.monotonic()
        while peak_fds < count and time.monotonic() - t < 5:  # the proxy may still be accepting its backlog
            peak_fds = max(peak_fds, open_fds(self.pid) - fds_before)
            await asyncio.sleep(0.1)
        ok, slowest = await self.served(20)
        t = time.monotonic()
        while open_fds(self.pid) - fds_before > 10 and time.monotonic() - t < 60:
            await asyncio.sleep(0.25)
        closed_after = time.monotonic() - started
        left = open_fds(self.pid) - fds_before
        for _, writer in held:
            writer.close()
        if len(held) != count or ok != 20 or left > 10 or peak_fds < count * 0.9:
            fail(f"idle connections: opened {len(held)}/{count} (proxy held {peak_fds}), served {ok}/20, "
                 f"{left} still held")
        self.row("idle-connections", f"{count} connections opened and left idle",
                 "all accepted and held; other clients served; each closed after --idle-timeout",
                 f"{len(held)} opened in {opened_in:.1f} s, {peak_fds} held by the proxy at once; 20/20 other calls "
                 f"served (slowest {slowest:.0f} ms); all closed {closed_after:.1f} s after the first was opened",
                 0, round(closed_after, 1), started)

    async def big_body(self, megabytes=100):
        started = time.monotonic()
        results = []
        for chunked in (False, True):
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            size = megabytes << 20
            framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
            writer.write((f"POST /mcp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.reader}\r\n"
                          f"Content-Type: application/json\r\n{framing}\r\n\r\n").encode())
            block = b" " * (1 << 20)

            async def send():
                try:
                    for _ in range(megabytes):
                        writer.write((b"%x\r\n" % len(block) + block + b"\r\n") if chunked else block)
                        await writer.drain()
                    if chunked:
                        writer.write(b"0\r\n\r\n")
                    await writer.drain()
                    return "all sent"
                except Exception as e:  # noqa: BLE001
                    return type(e).__name__
            sending = asyncio.create_task(send())
            t = time.monotonic()
            status_line = await asyncio.wait_for(reader.readline(), 60)
            answered = time.monotonic() - t
            sent = await sending
            writer.close()
            status = int(status_line.split()[1]) if status_line else 0
            if status != 413:
                fail(f"100 MB body ({'chunked' if chunked else 'length'}): status {status}")
            results.append(f"{'chunked' if chunked else 'Content-Length'}: 413 in {answered:.2f} s (sender: {sent})")
        ok, _ = await self.served(20)
        if ok != 20:
            fail(f"calls after the 100 MB bodies: {ok}/20")
        if "read_file" in self.forwarded()[-25:-20]:
            pass
        self.row("100mb-body", f"a {megabytes} MB body, with Content-Length and chunked",
                 "413 once 1 MiB is read, nothing forwarded, memory bounded", "; ".join(results), 0, 0, started)

    async def invalid_tokens(self, valid=100, invalid=10_000, concurrency=50):
        started = time.monotonic()
        tokens = [self.mint.token("files:read", subject=f"user{i}") for i in range(valid)]

        async def run(items, expect):
            sem = asyncio.Semaphore(concurrency)
            bad = []

            async def one(tok):
                async with sem:
                    a = await request(self.port, call("read_file"), tok)
                    if a.status != expect:
                        bad.append((a.status, a.error))
            await asyncio.gather(*[one(t) for t in items])
            return bad

        def hits():
            text = subprocess.run(["curl", "-s", f"http://127.0.0.1:{self.port}/metrics"], capture_output=True,
                                  text=True).stdout
            total = 0.0
            for line in text.splitlines():
                if line.startswith("scopegate_token_verifications_total") and 'cache="hit"' in line:
                    total += float(line.split()[-1])
            return total

        if await run(tokens, 200):
            fail("valid tokens refused before the flood")
        forged = [self.mint.token("files:admin", subject=f"attacker{i}", forged=True) for i in range(invalid)]
        t = time.monotonic()
        bad = await run(forged, 401)
        flood = time.monotonic() - t
        if bad:
            fail(f"{len(bad)} forged tokens were not answered 401: {bad[:3]}")
        before = hits()
        if await run(tokens, 200):
            fail("valid tokens refused after the flood")
        after = hits()
        if after - before < valid:
            fail(f"valid tokens were verified again after the flood (cache hits {after - before}/{valid})")
        self.row("invalid-token-flood", f"{invalid} requests, each with a distinct forged token",
                 "all 401 invalid_token; the cached valid tokens stay cached (served as cache hits afterwards)",
                 f"{invalid}/{invalid} 401 in {flood:.1f} s ({invalid / flood:.0f}/s); then {valid}/{valid} valid "
                 f"tokens served from the cache ({int(after - before)} hits)", 0, 0, started)

    async def reload_during_streams(self, calls=1000, concurrency=50):
        started = time.monotonic()
        with open(self.policy) as f:
            original = f.read()
        versions = [original, original.replace("flip: files:read", "flip: files:write")]
        if versions[0] == versions[1]:
            fail("the drill policy has no `flip: files:read` line")
        done = asyncio.Event()
        reloads = 0

        async def reloader():
            nonlocal reloads
            while not done.is_set():
                reloads += 1
                tmp = self.policy + ".tmp"
                with open(tmp, "w") as f:
                    f.write(versions[reloads % 2])
                os.replace(tmp, self.policy)
                os.kill(self.pid, signal.SIGHUP)
                await asyncio.sleep(0.1)

        kinds = ["stream", "flip", "never", "list"]
        sem = asyncio.Semaphore(concurrency)
        outcomes = {k: {} for k in kinds}
        broken = []
        forwarded_before = len(self.forwarded())

        async def one(i):
            kind = kinds[i % 4]
            body = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"} if kind == "list" else call(kind)
            async with sem:
                a = await request(self.port, body, self.reader)
            outcomes[kind][a.status] = outcomes[kind].get(a.status, 0) + 1
            if a.error or (a.status == 200 and kind != "list" and b'"done":true' not in a.body):
                broken.append((kind, a.status, a.error))
            if kind == "list" and (b'"never"' in a.body or b'"stream"' not in a.body):
                broken.append((kind, "list shows `never` or lacks `stream`"))
        task = asyncio.create_task(reloader())
        await asyncio.gather(*[one(i) for i in range(calls)])
        done.set()
        await task
        with open(self.policy, "w") as f:
            f.write(original)
        calls_seen = self.forwarded()[forwarded_before:]
        if broken:
            fail(f"reload drill: {len(broken)} broken answers: {broken[:5]}")
        if outcomes["never"] != {403: calls // 4} or "never" in calls_seen:
            fail(f"reload drill: `never` answered {outcomes['never']}, forwarded {calls_seen.count('never')}")
        if outcomes["stream"] != {200: calls // 4}:
            fail(f"reload drill: `stream` answered {outcomes['stream']}")
        if calls_seen.count("flip") != outcomes["flip"].get(200, 0):
            fail("reload drill: a denied `flip` reached the upstream")
        self.row("reload-during-streams", f"{reloads} policy reloads (atomic rewrite + SIGHUP every 100 ms) during "
                 f"{calls} streaming calls, {concurrency} at a time",
                 "every call ends with a whole answer or a 403; a tool both versions deny is never forwarded",
                 f"stream {outcomes['stream']}, flip {outcomes['flip']} (each allowed one forwarded once), never "
                 f"{outcomes['never']} (0 forwarded), list {outcomes['list']}", 0, 0, started, reloads=reloads)


async def main(args):
    work, port, pid, upstream_port, issuer, audience, policy = args[:7]
    d = Drills(work, int(port), int(pid), int(upstream_port), issuer, audience, policy)
    d.start_upstream()
    order = ["never_answers", "killed_mid_sse", "slowloris", "idle_connections", "big_body", "invalid_tokens",
             "reload_during_streams"]
    chosen = args[7:] or order
    try:
        for name in chosen:
            reset_peak(d.pid)
            kwargs = {}
            if os.environ.get("DRILLS_SMOKE"):
                kwargs = {"idle_connections": {"count": 500}, "invalid_tokens": {"invalid": 500},
                          "reload_during_streams": {"calls": 200}, "slowloris": {"connections": 50},
                          "big_body": {"megabytes": 20}}.get(name, {})
            await getattr(d, name)(**kwargs)
    finally:
        d.upstream.kill()


if __name__ == "__main__":
    if sys.argv[1] == "keys":
        keys(sys.argv[2], sys.argv[3])
    else:
        asyncio.run(main(sys.argv[2:]))
