"""FastMCP 4.1.6's proxy with JWT authentication, for bench/gateway/run.sh's comparison row.

    python fastmcp_proxy.py PORT UPSTREAM_URL PUBLIC_KEY_PEM ISSUER AUDIENCE
"""
import sys

from fastmcp.server import create_proxy
from fastmcp.server.auth.providers.jwt import JWTVerifier

port, upstream, pem, issuer, audience = sys.argv[1:6]
auth = JWTVerifier(public_key=open(pem).read(), issuer=issuer, audience=audience, algorithm="RS256",
                   required_scopes=["time:read"])
proxy = create_proxy(upstream, name="bench-fastmcp-proxy", auth=auth)
proxy.run(transport="http", host="127.0.0.1", port=int(port), stateless_http=True, log_level="warning")
