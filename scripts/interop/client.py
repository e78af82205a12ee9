"""Interop client for scripts/interop.sh: the Python MCP SDK against the ScopeGate example server, with real
tokens from Glewlwyd. Every step prints one line; any difference raises and the script exits non-zero."""
import asyncio
import base64
import json
import os
import sys
import time

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

MCP_URL = os.environ["MCP_URL"]            # http://127.0.0.1:PORT/mcp
RESOURCE = os.environ["MCP_RESOURCE"]      # the canonical resource id (token audience)
ISSUER = os.environ["ISSUER"]              # http://127.0.0.1:GPORT/api/oidc
CLIENT_ID = os.environ["CLIENT_ID"]
CLIENT_SECRET = os.environ["CLIENT_SECRET"]
PRIVATE_KEY = os.environ.get("IDP_PRIVATE_KEY")  # the IdP's signing key (only to mint an expired token)

STEPS = 0


def check(condition, what, detail=""):
    global STEPS
    if not condition:
        raise SystemExit(f"FAIL: {what}\n  {detail}")
    STEPS += 1
    print(f"ok {STEPS} - {what}")


def challenge_params(header):
    """Parses `Bearer k="v", k2="v2"` (values have no quotes or backslashes by construction)."""
    check(header is not None and header.startswith("Bearer"), "WWW-Authenticate is a Bearer challenge", header)
    params = {}
    for part in header[len("Bearer"):].split('",'):
        part = part.strip().rstrip('"')
        if "=" in part:
            k, v = part.split("=", 1)
            params[k.strip()] = v.strip().strip('"')
    return params


def token(scope, resource=RESOURCE):
    data = {"grant_type": "client_credentials", "scope": scope}
    if resource is not None:
        data["resource"] = resource
    r = httpx.post(ISSUER + "/token", data=data, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    check(r.status_code == 200, f"glewlwyd issues a token for scope={scope!r} resource={resource!r}", r.text)
    return r.json()["access_token"]


def claims(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}


def raw_post(body, bearer=None):
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if bearer:
        headers["Authorization"] = "Bearer " + bearer
    return httpx.post(MCP_URL, json=body, headers=headers, timeout=10)


def tool_call(name, arguments, id=2):
    return {"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


async def with_session(bearer, body):
    async with streamablehttp_client(MCP_URL, headers={"Authorization": "Bearer " + bearer}) as (read, write, _):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            return await body(session, init)


async def main():
    # JWKS discovery from the issuer (the server does the same: MCP_JWKS_URI is unset).
    oidc = httpx.get(ISSUER + "/.well-known/openid-configuration", timeout=10).json()
    check(oidc.get("issuer") == ISSUER, "issuer discovery document names the issuer", oidc.get("issuer"))
    jwks = httpx.get(oidc["jwks_uri"], timeout=10).json()
    check(len(jwks.get("keys", [])) >= 1 and jwks["keys"][0].get("kid"), "JWKS discovered from the issuer has a key with a kid")

    # No token: 401 with resource_metadata, then the metadata itself.
    r = raw_post(INIT)
    check(r.status_code == 401, "no token → 401", r.status_code)
    p = challenge_params(r.headers.get("www-authenticate"))
    check("error" not in p, "no error parameter when no token was presented", p)
    check(p.get("scope") == "mcp:tools:climate", "401 scope is scopes_supported", p)
    metadata_url = p.get("resource_metadata", "")
    check(metadata_url.endswith("/.well-known/oauth-protected-resource/mcp"), "401 names the metadata URL (path form)", metadata_url)
    prm = httpx.get(MCP_URL.rsplit("/mcp", 1)[0] + "/.well-known/oauth-protected-resource/mcp", timeout=10).json()
    check(prm.get("resource") == RESOURCE, "metadata resource is the canonical resource id", prm)
    check(prm.get("authorization_servers") == [ISSUER], "metadata names the issuer", prm)
    check(prm.get("bearer_methods_supported") == ["header"], "metadata bearer methods", prm)
    root = httpx.get(MCP_URL.rsplit("/mcp", 1)[0] + "/.well-known/oauth-protected-resource", timeout=10).json()
    check(root == prm, "root form serves the same metadata")

    # Allowed call with the Python SDK.
    climate = token("mcp:tools:climate")
    check(claims(climate)["aud"] == RESOURCE, "token audience is the resource (RFC 8707)", claims(climate))

    async def allowed(session, init):
        check(init.protocolVersion == "2025-11-25", "negotiated protocol revision 2025-11-25", init.protocolVersion)
        tools = [t.name for t in (await session.list_tools()).tools]
        check(tools == ["get_forecast"], "tools/list filtered to the token", tools)
        result = await session.call_tool("get_forecast", {"location": "Oslo"})
        check(not result.isError and "forecast for Oslo" in result.content[0].text, "allowed call succeeds", result)
    await with_session(climate, allowed)

    # Denied call: 403 insufficient_scope naming the scope to step up to.
    r = raw_post(tool_call("read_client", {"client_id": "c-1"}), climate)
    check(r.status_code == 403, "read_client with mcp:tools:climate → 403", r.status_code)
    p = challenge_params(r.headers.get("www-authenticate"))
    check(p.get("error") == "insufficient_scope", "403 error is insufficient_scope", p)
    check(p.get("scope") == "mcp:data:client-info:read", "403 scope is what read_client needs", p)
    check(p.get("resource_metadata") == metadata_url, "403 names the metadata URL", p)
    denial = r.json()
    check(denial.get("id") == 2 and denial["error"]["data"]["reason"] == "missing_scope",
          "403 body is the request's JSON-RPC error with structured data", denial)

    # Step-up: a new token for what was held plus the challenged scopes (2026-07-28: the client accumulates).
    stepped = token(" ".join(["mcp:tools:climate"] + p["scope"].split()))

    async def step_up(session, init):
        result = await session.call_tool("read_client", {"client_id": "c-1"})
        check(not result.isError and "client c-1" in result.content[0].text, "after step-up the call succeeds", result)
        tools = [t.name for t in (await session.list_tools()).tools]
        check(tools == ["get_forecast", "read_client"], "tools/list grows with the grant", tools)
    await with_session(stepped, step_up)

    # A downstream tool (RFC 8693 exchange) while the issuer has no exchange settings — Glewlwyd has no token
    # exchange grant: a clear tool error, never a crash, and never the caller's token passed through.
    writer = token("mcp:data:client-info:write")

    async def downstream(session, init):
        result = await session.call_tool("update_client", {"client_id": "c-1"})
        content = result.structuredContent or {}
        check(result.isError and content.get("reason") == "exchange.not_configured",
              "update_client without exchange settings → tool error exchange.not_configured", result)
        check(writer not in json.dumps(result.model_dump(mode="json")), "the tool error does not echo the token")
    await with_session(writer, downstream)

    # A token for another audience: 401 invalid_token.
    other = token("mcp:tools:climate", resource="https://other.test/mcp")
    r = raw_post(INIT, other)
    p = challenge_params(r.headers.get("www-authenticate"))
    check(r.status_code == 401 and p.get("error") == "invalid_token", "token for another audience → 401 invalid_token", p)
    check("aud" in p.get("error_description", ""), "description names the audience", p)
    no_resource = token("mcp:tools:climate", resource=None)
    r = raw_post(INIT, no_resource)
    check(r.status_code == 401, "token without a resource indicator (aud = scope string) → 401", r.status_code)

    # An expired token, signed with the IdP's own key and kid (a real IdP signature, past exp).
    if PRIVATE_KEY:
        import jwt as pyjwt
        c = claims(climate)
        now = int(time.time())
        c.update({"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600, "jti": "expired-1"})
        header = json.loads(base64.urlsafe_b64decode(climate.split(".")[0] + "=="))
        expired = pyjwt.encode(c, open(PRIVATE_KEY).read(), algorithm="RS256",
                               headers={"kid": header.get("kid"), "typ": header.get("typ", "at+jwt")})
        r = raw_post(INIT, expired)
        p = challenge_params(r.headers.get("www-authenticate"))
        check(r.status_code == 401 and p.get("error_description") == "token has expired", "expired token → 401 token has expired", p)
    # A tampered token (signature no longer verifies).
    parts = climate.split(".")
    tampered_claims = claims(climate)
    tampered_claims["scope"] = "admin:system"
    tampered = parts[0] + "." + base64.urlsafe_b64encode(json.dumps(tampered_claims).encode()).decode().rstrip("=") + "." + parts[2]
    r = raw_post(INIT, tampered)
    check(r.status_code == 401, "tampered token → 401", r.status_code)

    print(f"{STEPS} passed, 0 failed")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except SystemExit as e:
        print(e, file=sys.stderr)
        print(f"{STEPS} passed, 1 failed")
        sys.exit(1)
