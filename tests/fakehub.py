"""A stand-in for the Hugging Face hub and an Argos package index, on a loopback port.

It answers the two requests ``huggingface_hub.hf_hub_download`` makes for a file at a revision (read
from huggingface_hub's ``file_download.py``): ``HEAD /{repo}/resolve/{revision}/{path}``, whose
``X-Repo-Commit`` names the commit and whose ``ETag`` (for a Git LFS file: its SHA-256) names the blob,
then ``GET`` of the same URL, resumed with ``Range: bytes=N-`` after a cut. Errors carry the hub's
``X-Error-Code`` (RepoNotFound, RevisionNotFound, EntryNotFound), as the real hub's do. The Argos part
serves ``/argos/index.json`` and the packages it links to.

Faults on demand: a file served cut off (every time, or only the first time), a file whose ETag lies.
Every request is recorded, so a test can say what was (not) fetched.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


@dataclass
class Repo:
    commit: str
    files: dict[str, bytes]


@dataclass
class Hub:
    repos: dict[str, Repo] = field(default_factory=dict)
    argos: dict[str, bytes] = field(default_factory=dict)  # path under /argos/ -> bytes
    cut_always: set[str] = field(default_factory=set)  # file paths served cut off every time
    cut_once: set[str] = field(default_factory=set)  # ... only the first time (a flaky connection)
    lying_etag: set[str] = field(default_factory=set)  # ... with an ETag that is not their SHA-256
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, Range header)
    url: str = ""

    def add_repo(self, repo: str, files: dict[str, bytes], commit: str | None = None) -> str:
        commit = commit or hashlib.sha1(repo.encode()).hexdigest()
        self.repos[repo] = Repo(commit, files)
        return commit

    def gets(self, suffix: str = "") -> list[tuple[str, str, str]]:
        return [r for r in self.requests if r[0] == "GET" and r[1].endswith(suffix)]


def _handler(hub: Hub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            hub.requests.append((self.command, self.path, self.headers.get("Range", "")))
            if self.path.startswith("/argos/"):
                data = hub.argos.get(self.path.removeprefix("/argos/"))
                if data is None:
                    return self._error(404, {})
                return self._send(self.path, data, {}, body)
            parts = self.path.split("/resolve/", 1)
            repo = hub.repos.get(parts[0].strip("/"))
            if len(parts) != 2 or repo is None:
                return self._error(401, {"X-Error-Code": "RepoNotFound"})
            revision, _, path = parts[1].partition("/")
            revision, path = unquote(revision), unquote(path)
            if revision not in (repo.commit, "main"):
                return self._error(404, {"X-Error-Code": "RevisionNotFound"})
            data = repo.files.get(path)
            if data is None:
                return self._error(404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": repo.commit})
            digest = hashlib.sha256(data).hexdigest()
            if path in hub.lying_etag:
                digest = hashlib.sha256(b"something else").hexdigest()
            self._send(path, data, {"X-Repo-Commit": repo.commit, "ETag": f'"{digest}"'}, body)

        def _send(self, path: str, data: bytes, headers: dict[str, str], body: bool) -> None:
            start = 0
            ranged = self.headers.get("Range", "")
            if body and ranged.startswith("bytes=") and ranged.endswith("-"):
                start = int(ranged[6:-1])
            self.send_response(206 if start else 200)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(data) - start))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if not body:
                return
            name = path.rsplit("/", 1)[-1]
            if name in hub.cut_always or name in hub.cut_once:
                hub.cut_once.discard(name)
                self.wfile.write(data[start:start + max((len(data) - start) // 2, 1)])
                self.wfile.flush()
                self.close_connection = True
                import socket
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(data[start:])

        def _error(self, status: int, headers: dict[str, str]) -> None:
            payload = json.dumps({"error": headers.get("X-Error-Code", "not found")}).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

    return Handler


class serve:
    """``with serve(hub) as url:`` — the hub listening on 127.0.0.1 in a thread, for the block's length."""

    def __init__(self, hub: Hub):
        self.hub = hub
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
        self.server.daemon_threads = True

    def __enter__(self) -> str:
        self.hub.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.hub.url

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
