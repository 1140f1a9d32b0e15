#!/usr/bin/python3
"""A Bearer token server for docker-registry's `auth: token` mode, for tests only.

docker-registry (distribution 2.8) only verifies tokens and Debian ships no issuer, so the tests
run this one (distribution docs/spec/auth/token.md, jwt.md). Tokens are ES256 JWTs with an `x5c`
header holding a self-signed P-256 certificate, which the registry trusts via `rootcertbundle`.

Anonymous callers get `pull` on repositories under `public/`; the configured user gets every
action asked for; wrong credentials get 401. Listens on 127.0.0.1 only.

usage: token_server.py PORT_FILE CERT_OUT ISSUER SERVICE USER:PASSWORD
  Binds port 0 and writes the chosen port to PORT_FILE once it is ready.
"""
import base64
import datetime
import http.server
import json
import os
import sys
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    port_file, cert_out, issuer, service, creds = sys.argv[1:6]
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cdh test token issuer")])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    with open(cert_out, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    cert_der_b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    user, password = creds.split(":", 1)

    def sign(claims):
        header = {"typ": "JWT", "alg": "ES256", "x5c": [cert_der_b64]}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return signing_input + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            sys.stderr.write("token_server: " + (fmt % args) + "\n")

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            if url.path != "/token":
                self.send_error(404)
                return
            query = urllib.parse.parse_qs(url.query)
            authed = False
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                try:
                    u, p = base64.b64decode(auth[6:]).decode().split(":", 1)
                except Exception:
                    u, p = "", ""
                if (u, p) != (user, password):
                    self.send_response(401)
                    self.end_headers()
                    return
                authed = True
            access = []
            for scope in query.get("scope", []):
                for item in scope.split(" "):
                    parts = item.split(":")
                    if len(parts) != 3 or parts[0] != "repository":
                        continue
                    actions = parts[2].split(",")
                    if not authed:
                        actions = [a for a in actions if a == "pull"] if parts[1].startswith("public/") else []
                    access.append({"type": "repository", "name": parts[1], "actions": actions})
            t = int(time.time())
            token = sign({"iss": issuer, "sub": user if authed else "", "aud": query.get("service", [service])[0],
                          "exp": t + 300, "nbf": t - 10, "iat": t, "jti": b64url(os.urandom(12)),
                          "access": access})
            body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
