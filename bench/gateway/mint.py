"""Mints what bench/gateway/run.sh needs to run `scopegate proxy` without an IdP: an RSA key, its JWKS file and
a long-lived RS256 access token for the issuer, audience and scope given.

    python mint.py WORKDIR ISSUER AUDIENCE SCOPE      → WORKDIR/{jwks.json,token,private.pem}
"""
import json
import sys
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

work, issuer, audience, scope = sys.argv[1:5]
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
public.update({"kid": "bench", "use": "sig", "alg": "RS256"})
json.dump({"keys": [public]}, open(f"{work}/jwks.json", "w"))
pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
open(f"{work}/private.pem", "wb").write(pem)
now = int(time.time())
claims = {"iss": issuer, "sub": "bench-client", "aud": audience, "scope": scope, "iat": now, "nbf": now,
          "exp": now + 6 * 3600, "client_id": "bench-client", "jti": "bench"}
token = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": "bench", "typ": "at+jwt"})
open(f"{work}/token", "w").write(token)
