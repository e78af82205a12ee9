"""A Streamable-HTTP-shaped MCP upstream with faults on demand, for scripts/gateway-drills.sh.

The tool name in a `tools/call` body picks the behaviour: `hang` accepts and never answers, `long` streams 50
progress events 100 ms apart then the result, `stream` and `flip` 5 events 10 ms apart then the result; anything else answers
JSON at once; `tools/list` answers the list as SSE. Every request's tool (or method) is appended to LOG, so the
drills can check that nothing denied was ever forwarded.

    python3 upstream.py PORT LOG
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
TOOLS = [{"name": n} for n in ("stream", "long", "flip", "never", "read_file", "hang")]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def chunk(self, data: bytes):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def event(self, message):
        self.chunk(b"data: " + json.dumps(message, separators=(",", ":")).encode() + b"\n\n")

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        method = body.get("method", "")
        tool = body.get("params", {}).get("name", method) if method == "tools/call" else method
        with lock, open(LOG, "a") as f:
            f.write(tool + "\n")
        rid = body.get("id")
        if tool == "hang":
            time.sleep(3600)
            return
        if tool in ("long", "stream", "flip") or method == "tools/list":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            count, pause = (50, 0.1) if tool == "long" else (5, 0.01)
            if method == "tools/list":
                count = 1
            for i in range(count):
                self.event({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": i}})
                time.sleep(pause)
            result = {"tools": TOOLS} if method == "tools/list" else {"content": [], "done": True}
            self.event({"jsonrpc": "2.0", "id": rid, "result": result})
            self.chunk(b"")
            return
        data = json.dumps({"jsonrpc": "2.0", "id": rid, "result": {"content": []}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 1024
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
