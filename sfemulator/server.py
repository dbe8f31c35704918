"""The HTTP(S) front: threaded servers, keep-alive handler, routing, and the `Emulator` handle.

Hosts: the same HTTPS listener answers `https://127.0.0.1:PORT` as the production login host
(login.salesforce.com) and as the API instance, and `https://localhost:PORT` as the sandbox
login host (test.salesforce.com). The `Host` header decides; tokens remember which login host
issued them, the identity URL in the token response names that host, and
`GET /__emulator__/sessions` lists it per grant. A second, plain-HTTP listener serves only the
browser-facing authorize page, under the same two host names.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import socket
import ssl
import threading
import time
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import control, oauth, rest, tls
from .cursors import MAX_OPEN_CURSORS
from .errors import ApiError
from .oauth import OAuthApp
from .standard import build_schema
from .store import MAX_REPLICATION_IDS, Org
from .wire import Request, Response, error_response, json_response

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 300


class Handler(BaseHTTPRequestHandler):
    """One thread per connection; HTTP/1.1 keep-alive; every response written in one send."""

    protocol_version = "HTTP/1.1"
    server_version = "sfemulator"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    server: EmulatorHTTPServer

    def do_GET(self) -> None:  # noqa: N802 - names fixed by BaseHTTPRequestHandler
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET  # noqa: N815

    def _serve(self) -> None:
        headers = {key.lower(): value for key, value in self.headers.items()}
        body = self._read_body(headers)
        request = Request.build(self.command, self.path, headers, body, self.server.secure)
        response = self.server.emulator.dispatch(request)
        self._write(response)

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Skip trailers up to the blank line that ends the message.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _write(self, response: Response) -> None:
        lines = [f"HTTP/1.1 {response.status} {self.responses.get(response.status, ('',))[0]}",
                 f"Date: {self.date_time_string()}", "Server: sfemulator",
                 f"Content-Length: {len(response.body)}"]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + response.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base-class name
        log.debug("%s %s", self.address_string(), format % args)


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator,
                 context: ssl.SSLContext | None) -> None:
        self.emulator = emulator
        self.context = context
        self.secure = context is not None
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        # Nagle's algorithm would hold small responses back waiting for ACKs.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.context is not None:
            # The handshake runs in the connection's own thread, not in the accept loop.
            sock = self.context.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, address

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        try:
            if isinstance(request, ssl.SSLSocket):
                request.settimeout(IDLE_TIMEOUT)
                try:
                    request.do_handshake()
                except (ssl.SSLError, OSError) as error:
                    log.debug("TLS handshake with %s failed: %s", client_address, error)
                    self.shutdown_request(request)
                    return
            super().process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error:\n%s", client_address,
                  traceback.format_exc())

    def close_connections(self) -> None:
        """Drop idle keep-alive connections so their threads end with the server."""
        with self.connections_lock:
            for sock in list(self.connections):
                with contextlib.suppress(OSError):  # already closed by the peer
                    sock.shutdown(socket.SHUT_RDWR)


class Emulator:
    """A running (or ready to run) emulated org; also the handle tests receive.

    Attributes: `org`, `base_url` (API and production login), `login_url`,
    `sandbox_login_url`, `http_url` / `sandbox_http_url` (browser authorize page), `ca_path`,
    `client_id`, `client_secret`, `control` (a client for `/__emulator__/`).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, http_port: int | None = 0,
                 seed: str | int = "none", rng_seed: int = 42, auto_approve: bool = False,
                 token_ttl: int = 7200, rotate_refresh_tokens: bool = False,
                 client_id: str = "forcebridge-demo", client_secret: str = "demo-secret",
                 redirect_uris: list[str] | None = None, data_dir: str | Path | None = None,
                 custom_objects: list[dict[str, Any]] | None = None,
                 custom_fields: dict[str, list[dict[str, Any]]] | None = None,
                 daily_api_limit: int = 15000, max_cursors: int = MAX_OPEN_CURSORS,
                 max_replication_ids: int = MAX_REPLICATION_IDS,
                 seed_now: str | dt.datetime | None = None) -> None:
        self.host = host
        self.org = Org(build_schema(custom_objects, custom_fields),
                       daily_api_limit=daily_api_limit, max_cursors=max_cursors,
                       max_replication_ids=max_replication_ids)
        self.org.sessions.token_ttl = token_ttl
        self.org.sessions.rotate_refresh_tokens = rotate_refresh_tokens
        self.app = OAuthApp(client_id, client_secret, redirect_uris, auto_approve)
        self._initial_settings = (auto_approve, token_ttl, rotate_refresh_tokens, max_cursors,
                                  max_replication_ids)
        self.seed_spec, self.rng_seed, self.seed_now = seed, rng_seed, seed_now
        self.ca_path, cert, key = tls.ensure_certificates(tls.data_dir(data_dir))
        self._https = EmulatorHTTPServer((host, port), self, tls.server_context(cert, key))
        self._http = (EmulatorHTTPServer((host, http_port), self, None)
                      if http_port is not None else None)
        self._threads: list[threading.Thread] = []
        self.control = control.ControlClient(self.base_url, self.ca_path)

    # -- addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._https.server_address[1]

    @property
    def _public_host(self) -> str:
        return "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host

    @property
    def base_url(self) -> str:
        return f"https://{self._public_host}:{self.port}"

    @property
    def login_url(self) -> str:
        return self.base_url

    @property
    def sandbox_login_url(self) -> str:
        return f"https://localhost:{self.port}"

    @property
    def http_url(self) -> str | None:
        return f"http://{self._public_host}:{self._http.server_address[1]}" if self._http else None

    @property
    def sandbox_http_url(self) -> str | None:
        return f"http://localhost:{self._http.server_address[1]}" if self._http else None

    @property
    def client_id(self) -> str:
        return self.app.client_id

    @property
    def client_secret(self) -> str:
        return self.app.client_secret

    def login_base(self, login_host: str) -> str:
        return self.sandbox_login_url if login_host == "sandbox" else self.login_url

    # -- lifecycle ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Empty the org and restore the settings given at construction (see control settings)."""
        self.org.reset()
        auto_approve, token_ttl, rotate, max_cursors, max_ids = self._initial_settings
        self.app.auto_approve = auto_approve
        self.org.sessions.token_ttl = token_ttl
        self.org.sessions.rotate_refresh_tokens = rotate
        self.org.cursors.limit = max_cursors
        self.org.max_replication_ids = max_ids

    def seed(self, spec: str | int, rng_seed: int | None = None,
             seed_now: str | dt.datetime | None = None) -> dict[str, int]:
        """Fill the org with demo data through seed.apply (imported on use: seeding is optional).

        `rng_seed` and `seed_now` default to the values given at construction; see seed.py for
        what `seed_now` anchors.
        """
        from . import seed as seeding

        return seeding.apply(self.org, spec,
                             rng_seed=self.rng_seed if rng_seed is None else rng_seed,
                             now=self.seed_now if seed_now is None else seed_now)

    def start(self) -> None:
        """Seed, then serve on background threads."""
        if str(self.seed_spec) != "none":
            self.seed(self.seed_spec)
        for server in filter(None, (self._https, self._http)):
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                      name=f"sfemulator-{server.server_address[1]}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop serving and close every socket; safe to call whether or not start() ran."""
        serving = bool(self._threads)
        for server in filter(None, (self._https, self._http)):
            # shutdown() waits for serve_forever, so only call it when that loop runs.
            if serving:
                server.shutdown()
            server.close_connections()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    @classmethod
    @contextlib.contextmanager
    def running(cls, **options: Any) -> Iterator[Emulator]:
        """`with Emulator.running(seed="none", auto_approve=True) as org:` on free ports."""
        emulator = cls(**options)
        try:
            emulator.start()
            yield emulator
        finally:
            emulator.stop()

    # -- routing -----------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        """Route one request; never raises (unexpected errors become a logged 500)."""
        try:
            return self._route(request)
        except ApiError as error:
            return error_response(error)
        except Exception:
            log.exception("unexpected error serving %s %s", request.method, request.path)
            return error_response(ApiError(500, "UNKNOWN_EXCEPTION",
                                           "An unexpected error occurred in the emulator."))

    def _route(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/services/oauth2/authorize"):
            return oauth.authorize(self, request)
        if not request.secure:
            return json_response(403, {"error": "invalid_request",
                                       "error_description": "HTTPS required"})
        if path.startswith("/__emulator__/"):
            return control.handle(self, request)
        self._delay()
        if path.startswith("/services/data"):
            return rest.handle(self.org, request, self.login_base)
        if path.startswith(("/services/oauth2/", "/id/")):
            return oauth.handle(self, request)
        return error_response(ApiError(404, "NOT_FOUND", "The requested resource does not exist"))

    def _delay(self) -> None:
        latency = self.org.faults.latency_ms
        if latency:
            time.sleep(latency / 1000)
