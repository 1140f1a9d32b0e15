#!/usr/bin/python3
"""A Key Broker Service that misbehaves on demand, for the broker fault matrix.

It speaks enough of Trustee's KBS protocol 0.4.0 (confidential-containers/trustee,
kbs/docs/kbs_attestation_protocol.md) to serve the real KBS client: POST /kbs/v0/auth answers a
challenge and sets the `kbs-session-id` cookie, POST /kbs/v0/attest accepts any evidence and
answers a JWT, GET /kbs/v0/resource/... answers the secret "healthy-secret" as a JWE
(ECDH-ES+A256KW, A256GCM) to the TEE key of the session; Trustee checks evidence, this broker
does not (the faults are the point, not attestation).

A fault is chosen at run time with POST /control/mode, body "<step>:<behaviour>" (step: auth,
attest, resource or any; "healthy" clears it), so one client with one connection pool meets a
fault and then a healthy broker. GET /control/stats answers counters as JSON.

Behaviours: silent (accept, read, never answer), drip (200, then a byte a second), 503 (text
body), truncated (Content-Length larger than what is sent, then close), reset (part of the body,
then RST), 401 (a refusal, forever), oversize (a 2 MiB body), redirect (302 to another host),
413 (answered at once without reading the request body; the connection is kept and never
answered again, as a server that lost the framing), 431 (when the request head exceeds 8 KiB),
431-if-bearer (whenever an Authorization header is sent), 431-always, bigtoken (/attest issues a 171 KB
token), extra-cookie (/auth also sets a load balancer's cookie that /attest requires).

TLS listeners: tls_good (a certificate for IP 127.0.0.1 from ca.pem), tls_expired (same CA,
expired), tls_wronghost (same CA, for DNS wrong.example); other_ca.pem is a CA that signed none.

Usage: fault_broker.py DIR   -- writes DIR/ca.pem, DIR/other_ca.pem and, once listening,
DIR/ports.json {"plain": p, "tls_good": p, "tls_expired": p, "tls_wronghost": p}. Listens on
127.0.0.1 only. Runs until SIGTERM.
"""

import base64
import datetime
import ipaddress
import json
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from cryptography.x509.oid import NameOID

SECRET = b"healthy-secret"
MAX_HEAD = 8192  # the 431 behaviour's limit on the request head, bytes

state_lock = threading.Lock()
state = {"mode": "healthy", "sessions": {}, "stats": {"auth": 0, "attest": 0, "resource": 0, "open": 0,
                                                       "connections": 0}}


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---- PKI ----

def make_cert(subject_cn, key, issuer_cert, issuer_key, san, not_before, not_after, is_ca):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer_cert.subject if issuer_cert else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True))
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def write_pki(directory):
    now = datetime.datetime.utcnow()
    day = datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = make_cert("fault-broker test CA", ca_key, None, None, None, now - day, now + 30 * day, True)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = make_cert("unrelated test CA", other_key, None, None, None, now - day, now + 30 * day, True)
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    with open(os.path.join(directory, "ca.pem"), "wb") as f:
        f.write(pem(ca))
    with open(os.path.join(directory, "other_ca.pem"), "wb") as f:
        f.write(pem(other))
    leaves = {}
    ip = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    for name, san, nb, na in (("tls_good", ip, now - day, now + 30 * day),
                              ("tls_expired", ip, now - 30 * day, now - 2 * day),
                              ("tls_wronghost", [x509.DNSName("wrong.example")], now - day, now + 30 * day)):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = make_cert(name, key, ca, ca_key, san, nb, na, False)
        cert_path = os.path.join(directory, name + ".crt")
        key_path = os.path.join(directory, name + ".key")
        with open(cert_path, "wb") as f:
            f.write(pem(cert))
        with open(key_path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        leaves[name] = (cert_path, key_path)
    return leaves


# ---- KBS protocol pieces ----

def jwe_for(plaintext, jwk):
    """Trustee's JWE: ECDH-ES+A256KW with an ephemeral P-256 key, A256GCM (RFC 7518 §4.6)."""
    x = int.from_bytes(b64u_decode(jwk["x"]), "big")
    y = int.from_bytes(b64u_decode(jwk["y"]), "big")
    peer = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    eph = ec.generate_private_key(ec.SECP256R1())
    shared = eph.exchange(ec.ECDH(), peer)
    alg = b"ECDH-ES+A256KW"
    other_info = struct.pack(">I", len(alg)) + alg + struct.pack(">I", 0) + struct.pack(">I", 0) + struct.pack(">I", 256)
    kek = ConcatKDFHash(algorithm=hashes.SHA256(), length=32, otherinfo=other_info).derive(shared)
    cek = os.urandom(32)
    nums = eph.public_key().public_numbers()
    header = {"alg": "ECDH-ES+A256KW", "enc": "A256GCM",
              "epk": {"crv": "P-256", "kty": "EC", "x": b64u(nums.x.to_bytes(32, "big")),
                      "y": b64u(nums.y.to_bytes(32, "big"))}}
    protected = b64u(json.dumps(header, separators=(",", ":")).encode())
    iv = os.urandom(12)
    sealed = AESGCM(cek).encrypt(iv, plaintext, protected.encode())
    return json.dumps({"protected": protected, "encrypted_key": b64u(aes_key_wrap(kek, cek)), "iv": b64u(iv),
                       "ciphertext": b64u(sealed[:-16]), "tag": b64u(sealed[-16:])})


def token(size=0):
    claims = {"exp": int(time.time()) + 300, "pad": "x" * size}
    return "eyJhbGciOiJFUzI1NiJ9." + b64u(json.dumps(claims).encode()) + ".c2ln"


def problem(kind, detail):
    return json.dumps({"type": "https://github.com/confidential-containers/kbs/errors/" + kind, "detail": detail})


# ---- the server ----

class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        with state_lock:
            state["stats"]["open"] += 1
            state["stats"]["connections"] += 1
        self.buf = b""

    def finish(self):
        with state_lock:
            state["stats"]["open"] -= 1

    def recv_more(self):
        data = self.request.recv(65536)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            self.recv_more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.setdefault(k.strip().lower(), []).append(v.strip())
        return method, target, headers, len(head) + 4

    def read_body(self, headers):
        n = int(headers.get("content-length", ["0"])[0])
        while len(self.buf) < n:
            self.recv_more()
        body, self.buf = self.buf[:n], self.buf[n:]
        return body

    def send(self, status, body=b"", headers=(), reason="X"):
        if isinstance(body, str):
            body = body.encode()
        out = "HTTP/1.1 %d %s\r\nContent-Length: %d\r\n" % (status, reason, len(body))
        for k, v in headers:
            out += "%s: %s\r\n" % (k, v)
        self.request.sendall(out.encode() + b"\r\n" + body)

    def hold(self):
        """Never answer again; return when the peer goes away."""
        try:
            while True:
                self.recv_more()
                self.buf = b""
        except (ConnectionError, OSError):
            pass

    def handle(self):
        try:
            while True:
                if not self.one_request():
                    return
        except (ConnectionError, OSError, ValueError):
            return

    def one_request(self):
        method, target, headers, head_bytes = self.read_head()
        path = target.split("?", 1)[0]
        if path.startswith("/control/"):
            body = self.read_body(headers)
            if path == "/control/mode":
                with state_lock:
                    state["mode"] = body.decode().strip()
                self.send(200, "ok")
            else:
                with state_lock:
                    stats = dict(state["stats"])
                stats["open"] -= 1  # not counting this request's own connection
                self.send(200, json.dumps(stats))
            return True
        step = {"/kbs/v0/auth": "auth", "/kbs/v0/attest": "attest"}.get(path, "resource")
        with state_lock:
            state["stats"][step] += 1
            mode = state["mode"]
        where, _, behaviour = mode.partition(":")
        fault = behaviour if where in (step, "any") else ""
        if fault == "413":
            self.send(413, "Payload Too Large")
            self.hold()
            return False
        body = self.read_body(headers)
        if fault == "silent":
            self.hold()
            return False
        if fault == "503":
            self.send(503, "backend overloaded, try later", [("Content-Type", "text/plain")])
            return True
        if fault == "drip":
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(1000):
                time.sleep(1)
                self.request.sendall(b"x")
            return False
        if fault == "truncated":
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
            return False
        if fault == "reset":
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if fault == "401":
            self.send(401, problem("TokenVerifierError", "token refused"), [("Content-Type", "application/json")])
            return True
        if fault == "oversize":
            self.send(200, b"x" * (2 << 20))
            return True
        if fault == "redirect":
            self.send(302, "", [("Location", "http://other.example:8080" + target)])
            return True
        if fault == "431" and head_bytes > MAX_HEAD:
            self.send(431, "Request Header Fields Too Large")
            return True
        if fault == "431-always" or (fault == "431-if-bearer" and "authorization" in headers):
            self.send(431, "Request Header Fields Too Large")
            return True
        return self.healthy(step, method, headers, body, fault)

    def cookies(self, headers):
        jar = {}
        for line in headers.get("cookie", []):
            for part in line.split(";"):
                k, _, v = part.strip().partition("=")
                jar[k] = v
        return jar

    def healthy(self, step, method, headers, body, fault):
        jar = self.cookies(headers)
        if step == "auth":
            sid = str(uuid.uuid4())
            with state_lock:
                state["sessions"][sid] = {"lb": fault == "extra-cookie"}
            set_cookies = [("Set-Cookie", "kbs-session-id=%s; Expires=Thu, 01 Jan 2099 00:00:00 GMT" % sid)]
            if fault == "extra-cookie":
                set_cookies.append(("Set-Cookie", "LB_AFFINITY=node-7; Path=/; HttpOnly"))
            self.send(200, json.dumps({"nonce": b64u(os.urandom(32)), "extra-params": ""}),
                      [("Content-Type", "application/json")] + set_cookies)
            return True
        with state_lock:
            session = state["sessions"].get(jar.get("kbs-session-id", ""))
        if session is None or (session["lb"] and jar.get("LB_AFFINITY") != "node-7"):
            # What a load balancer's wrong backend answers: the session is unknown there.
            self.send(401, problem("TokenVerifierError", "session not found"), [("Content-Type", "application/json")])
            return True
        if step == "attest":
            request = json.loads(body)
            session["tee_pubkey"] = request["runtime-data"]["tee-pubkey"]
            session["token"] = token(171 * 1024 if fault == "bigtoken" else 0)
            self.send(200, json.dumps({"token": session["token"]}), [("Content-Type", "application/json")])
            return True
        if method != "GET" or "tee_pubkey" not in session:
            self.send(401, problem("TokenVerifierError", "not attested"), [("Content-Type", "application/json")])
            return True
        bearer = headers.get("authorization", [""])[0]
        if bearer and bearer != "Bearer " + session["token"]:
            self.send(401, problem("TokenVerifierError", "bad token"), [("Content-Type", "application/json")])
            return True
        self.send(200, jwe_for(SECRET, session["tee_pubkey"]), [("Content-Type", "application/json")])
        return True


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, tls=None):
        self.tls = tls
        super().__init__(("127.0.0.1", 0), Handler)

    def get_request(self):
        conn, addr = self.socket.accept()
        if self.tls is not None:
            conn.settimeout(10)
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()
                raise OSError("TLS handshake failed")
            conn.settimeout(None)
        return conn, addr

    def handle_error(self, request, client_address):
        pass  # a client that gave up mid-exchange is what this broker exists for


def main():
    directory = sys.argv[1]
    leaves = write_pki(directory)
    servers = {"plain": Server()}
    for name, (cert, key) in leaves.items():
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        servers[name] = Server(ctx)
    for s in servers.values():
        threading.Thread(target=s.serve_forever, daemon=True).start()
    ports = {name: s.server_address[1] for name, s in servers.items()}
    tmp = os.path.join(directory, "ports.json.tmp")
    with open(tmp, "w") as f:
        json.dump(ports, f)
    os.rename(tmp, os.path.join(directory, "ports.json"))
    threading.Event().wait()  # until the test stops us (SIGTERM)


if __name__ == "__main__":
    main()
