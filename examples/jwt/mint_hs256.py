#!/usr/bin/env python3
"""Mints an HS256 JWT for a browser client of sigd (--jwt-secret-file).

Standard library only; an identity service would do the same with its own
JWT library. Prints the token on stdout.

  ./mint_hs256.py --secret-file /etc/sigd/jwt-secrets --sub ana \
      --paths '/chat/*' --send '/chat/*' --ttl 3600
"""
import argparse
import base64
import hashlib
import hmac
import json
import time


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(secret: bytes, claims: dict) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--secret-file", required=True, help="sigd's file; its first secret signs")
    p.add_argument("--sub", help="who the client is (shown as Client.subject)")
    p.add_argument("--ttl", type=int, default=3600, help="seconds until exp (default 3600)")
    p.add_argument("--paths", action="append", help="a path pattern it may connect to (repeat)")
    p.add_argument("--send", action="append", help="a path pattern it may send to (repeat)")
    p.add_argument("--iss", help="issuer, if sigd runs with --jwt-issuer")
    p.add_argument("--aud", help="audience, if sigd runs with --jwt-audience")
    args = p.parse_args()

    with open(args.secret_file) as f:
        secret = next(line.strip() for line in f if line.strip() and not line.strip().startswith("#"))
    claims = {"exp": int(time.time()) + args.ttl}
    for name in ("sub", "paths", "send", "iss", "aud"):
        if getattr(args, name) is not None:
            claims[name] = getattr(args, name)
    print(mint(secret.encode(), claims))


if __name__ == "__main__":
    main()
