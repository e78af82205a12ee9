"""A stand-in MCP server for scripts/authz-interop.sh: answers every POST with a canned JSON-RPC result and logs
what it received (method, path, headers, body) as one JSON line per request, so the script can tell what got
through the front proxy. Usage: upstream.py PORT LOGFILE"""
import http.server
import json
import sys

PORT, LOG = int(sys.argv[1]), sys.argv[2]
RESULT = b'{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}'


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        entry = {"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                 "body": body}
        with open(LOG, "a") as log:
            log.write(json.dumps(entry) + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(RESULT)))
        self.end_headers()
        self.wfile.write(RESULT)

    do_GET = do_POST

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
