"""What both interop clients share (standard library only, so it runs in the mcp 2.3.0 and 1.26.0 venvs alike):
tokens from Glewlwyd, raw HTTP requests to the proxy, challenge parsing and numbered checks."""
import base64
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

PROXY_URL = os.environ["PROXY_URL"]          # http://127.0.0.1:PORT/mcp (also the token audience)
RESOURCE = os.environ["MCP_RESOURCE"]
ISSUER = os.environ["MCP_ISSUER"]
CLIENT_ID = os.environ.get("CLIENT_ID", "mcp-client")
CLIENT_SECRET = os.environ.get("CLIENT_SECRET", "mcp-secret")
PRIVATE_KEY = os.environ.get("IDP_PRIVATE_KEY")
LABEL = os.environ.get("LABEL", "")
MODERN = "2026-07-28"

_steps = 0
TOKENS_ISSUED = []


def check(condition, what, detail=""):
    global _steps
    if not condition:
        raise SystemExit(f"FAIL [{LABEL}]: {what}\n  {detail}")
    _steps += 1
    print(f"ok {LABEL} {_steps} - {what}", flush=True)


def token(scope, resource=RESOURCE):
    form = {"grant_type": "client_credentials", "scope": scope}
    if resource is not None:
        form["resource"] = resource
    request = urllib.request.Request(
        ISSUER + "/token", data=urllib.parse.urlencode(form).encode(),
        headers={"Authorization": "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()})
    with urllib.request.urlopen(request, timeout=10) as response:
        value = json.loads(response.read())["access_token"]
    TOKENS_ISSUED.append(value)
    return value


def expired_token(scope):
    """A token signed with the IdP's own key and kid, past its expiry (a real IdP signature)."""
    import jwt as pyjwt
    fresh = token(scope)
    header = pyjwt.get_unverified_header(fresh)
    claims = pyjwt.decode(fresh, options={"verify_signature": False})
    now = int(time.time())
    claims.update({"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600, "jti": "expired-interop"})
    value = pyjwt.encode(claims, open(PRIVATE_KEY).read(), algorithm="RS256",
                         headers={"kid": header.get("kid"), "typ": header.get("typ", "at+jwt")})
    TOKENS_ISSUED.append(value)
    return value


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)


def post(body, bearer=None, headers=None, accept="application/json, text/event-stream"):
    fields = {"Content-Type": "application/json", "Accept": accept}
    if bearer:
        fields["Authorization"] = "Bearer " + bearer
    fields.update(headers or {})
    request = urllib.request.Request(PROXY_URL, data=json.dumps(body).encode(), headers=fields, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def modern_call(name, arguments, bearer, id=1, progress_token=None):
    """A 2026-07-28 tools/call: the per-request envelope in params._meta and the Mcp-* headers."""
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    if progress_token is not None:
        meta["progressToken"] = progress_token
    body = {"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": name, "arguments": arguments, "_meta": meta}}
    return post(body, bearer, {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": name})


def challenge(answer):
    """The parameters of a `Bearer k="v", …` challenge."""
    header = answer.header("www-authenticate")
    check(header is not None and header.startswith("Bearer"), "the answer carries a Bearer challenge", header)
    params = {}
    for part in header[len("Bearer"):].split('",'):
        part = part.strip().rstrip('"')
        if "=" in part:
            key, value = part.split("=", 1)
            params[key.strip()] = value.strip().strip('"')
    return params


def sse_events(body):
    """The JSON data of each SSE event in order."""
    events = []
    for block in body.decode().replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].lstrip() for line in block.split("\n") if line.startswith("data:"))
        if data:
            events.append(json.loads(data))
    return events


def authentication_checks(call):
    """No token, a wrong audience and an expired token are each refused with 401 (`call(bearer)` sends one)."""
    answer = call(None)
    params = challenge(answer)
    check(answer.status == 401 and "resource_metadata" in params, "no token → 401 with resource_metadata",
          f"{answer.status} {params}")
    answer = call(token("time:read", resource="https://other.test/mcp"))
    check(answer.status == 401 and challenge(answer).get("error") == "invalid_token", "a wrong audience → 401",
          f"{answer.status} {answer.body[:200]}")
    answer = call(expired_token("time:read"))
    check(answer.status == 401 and challenge(answer).get("error") == "invalid_token", "an expired token → 401",
          f"{answer.status} {answer.body[:200]}")


def write_issued_tokens():
    """Saves every token this client was issued, for the script's check of the upstream's header log."""
    path = os.environ.get("TOKENS_OUT")
    if path:
        with open(path, "a") as out:
            out.write("".join(t + "\n" for t in TOKENS_ISSUED))
