"""Minimal OCI distribution v2 client for the test tools (push and pull of blobs and manifests).

Follows opencontainers/distribution-spec spec.md ("Pushing blobs" monolithic POST+PUT,
"Pushing manifests", "Pulling manifests"). Plain HTTP or HTTPS with the system roots; optional
Basic credentials "user:pass". Talks only to the registry URL it is given (the tests use
127.0.0.1).
"""
import base64
import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request

MANIFEST_ACCEPT = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
])


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    def __init__(self, base_url: str, creds: str = ""):
        self.base = base_url.rstrip("/")
        self.auth = None
        if creds:
            self.auth = "Basic " + base64.b64encode(creds.encode()).decode()

    def _request(self, method, url, data=None, headers=None):
        req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
        if self.auth:
            req.add_header("Authorization", self.auth)
        return urllib.request.urlopen(req, timeout=60)

    def blob_exists(self, repo: str, digest: str) -> bool:
        try:
            with self._request("HEAD", f"{self.base}/v2/{repo}/blobs/{digest}"):
                return True
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return False
            raise

    def push_blob(self, repo: str, data: bytes) -> str:
        digest = sha256_digest(data)
        if self.blob_exists(repo, digest):
            return digest
        with self._request("POST", f"{self.base}/v2/{repo}/blobs/uploads/", data=b"") as r:
            location = r.headers["Location"]
        location = urllib.parse.urljoin(self.base + "/", location)
        sep = "&" if "?" in location else "?"
        with self._request("PUT", f"{location}{sep}digest={urllib.parse.quote(digest)}", data=data,
                           headers={"Content-Type": "application/octet-stream"}):
            pass
        return digest

    def push_manifest(self, repo: str, reference: str, body: bytes, media_type: str) -> str:
        with self._request("PUT", f"{self.base}/v2/{repo}/manifests/{reference}", data=body,
                           headers={"Content-Type": media_type}):
            pass
        return sha256_digest(body)

    def get_manifest(self, repo: str, reference: str):
        """(body bytes, media type, digest) or None when the registry answers 404."""
        try:
            with self._request("GET", f"{self.base}/v2/{repo}/manifests/{reference}",
                               headers={"Accept": MANIFEST_ACCEPT}) as r:
                body = r.read()
                return body, r.headers.get("Content-Type", ""), sha256_digest(body)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise

    def get_blob(self, repo: str, digest: str) -> bytes:
        with self._request("GET", f"{self.base}/v2/{repo}/blobs/{digest}") as r:
            return r.read()


def canonical_json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
