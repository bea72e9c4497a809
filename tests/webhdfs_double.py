"""A WebHDFS test double: the few calls of the ``hdfs`` package that pipe uses.

It serves GETFILESTATUS, LISTSTATUS, MKDIRS, CREATE (with the namenode's
redirect to a "datanode", which is the same server), RENAME and DELETE over
plain HTTP on 127.0.0.1, storing files under a local folder. It checks no
permissions and keeps no replicas; every request is recorded in ``requests``.
"""

from __future__ import annotations

import json
import shutil
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PREFIX = "/webhdfs/v1"


class WebHdfsDouble:
    """Start with ``start()``; ``url`` is the address for ``PIPE_HDFS_URL``; ``stop()`` shuts it down."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.requests: list[tuple[str, str, str]] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # keep the test output quiet
                pass

            def do_GET(self):
                double.handle(self, "GET")

            def do_PUT(self):
                double.handle(self, "PUT")

            def do_DELETE(self):
                double.handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "WebHdfsDouble":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def local(self, hdfs_path: str) -> Path:
        return self.root / hdfs_path.lstrip("/")

    def files(self) -> dict[str, bytes]:
        """Return every stored file by its HDFS path."""
        return {"/" + path.relative_to(self.root).as_posix(): path.read_bytes() for path in self.root.rglob("*") if path.is_file()}

    # --- requests -----------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urllib.parse.urlsplit(request.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
        path = urllib.parse.unquote(parts.path[len(PREFIX):]) or "/"
        operation = query.get("op", "").upper()
        self.requests.append((method, operation, path))
        target = self.local(path)
        if not parts.path.startswith(PREFIX):
            return self.reply(request, 404, self.error("IllegalArgumentException", f"not a WebHDFS path: {parts.path}"))
        if method == "GET" and operation == "GETFILESTATUS":
            if not target.exists():
                return self.reply(request, 404, self.error("FileNotFoundException", f"File does not exist: {path}"))
            return self.reply(request, 200, {"FileStatus": self.status(target, "")})
        if method == "GET" and operation == "LISTSTATUS":
            if not target.exists():
                return self.reply(request, 404, self.error("FileNotFoundException", f"File {path} does not exist."))
            children = sorted(target.iterdir()) if target.is_dir() else [target]
            statuses = [self.status(child, child.name if target.is_dir() else "") for child in children]
            return self.reply(request, 200, {"FileStatuses": {"FileStatus": statuses}})
        if method == "PUT" and operation == "MKDIRS":
            target.mkdir(parents=True, exist_ok=True)
            return self.reply(request, 200, {"boolean": True})
        if method == "PUT" and operation == "CREATE":
            return self.create(request, target, path, query)
        if method == "PUT" and operation == "RENAME":
            destination = self.local(query["destination"])
            if not target.exists() or destination.exists() or not destination.parent.is_dir():
                return self.reply(request, 200, {"boolean": False})
            target.rename(destination)
            return self.reply(request, 200, {"boolean": True})
        if method == "DELETE" and operation == "DELETE":
            if not target.exists():
                return self.reply(request, 200, {"boolean": False})
            if target.is_dir():
                if any(target.iterdir()) and query.get("recursive") != "true":
                    return self.reply(request, 403, self.error("PathIsNotEmptyDirectoryException", f"{path} is non empty"))
                shutil.rmtree(target)
            else:
                target.unlink()
            return self.reply(request, 200, {"boolean": True})
        return self.reply(request, 400, self.error("UnsupportedOperationException", f"{method} {operation} is not in this test double"))

    def create(self, request, target: Path, path: str, query: dict) -> None:
        if "data" not in query:
            # The namenode redirects to a datanode, which receives the bytes.
            location = f"{self.url}{request.path}&data=true"
            request.send_response(307)
            request.send_header("Location", location)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        if target.exists() and query.get("overwrite", "false") != "true":
            return self.reply(request, 403, self.error("FileAlreadyExistsException", f"{path} already exists"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.body(request))
        request.send_response(201)
        request.send_header("Location", f"hdfs://127.0.0.1{path}")
        request.send_header("Content-Length", "0")
        request.end_headers()

    @staticmethod
    def body(request) -> bytes:
        if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(request.rfile.readline().strip(), 16)
                if size == 0:
                    request.rfile.readline()
                    return b"".join(chunks)
                chunks.append(request.rfile.read(size))
                request.rfile.readline()
        return request.rfile.read(int(request.headers.get("Content-Length", "0")))

    @staticmethod
    def status(path: Path, suffix: str) -> dict:
        is_dir = path.is_dir()
        return {
            "pathSuffix": suffix,
            "type": "DIRECTORY" if is_dir else "FILE",
            "length": 0 if is_dir else path.stat().st_size,
            "owner": "pipe",
            "group": "supergroup",
            "permission": "755" if is_dir else "644",
            "modificationTime": int(path.stat().st_mtime * 1000),
            "replication": 0 if is_dir else 1,
        }

    @staticmethod
    def error(exception: str, message: str) -> dict:
        return {"RemoteException": {"exception": exception, "javaClassName": f"java.io.{exception}", "message": message}}

    @staticmethod
    def reply(request, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
