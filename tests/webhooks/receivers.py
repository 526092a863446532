"""Real HTTP receivers in the test process (``http.server`` threads on this helper's ports)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTS = itertools.cycle(range(18510, 18590))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when the request was read


@dataclass
class Receiver:
    """Answers ``status`` after ``delay`` seconds (both changeable while it runs)."""

    status: int = 204
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: called while waiting (the tests' stand-in for beat: PostgreSQL's horizon may hold an
    #: event back from the first dispatch while another transaction on the server is open)
    tick: Callable[[], object] | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, count: int, seconds: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            if self.tick is not None:
                self.tick()
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received)} of {count} requests arrived in {seconds} s")

    def start(self) -> Receiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with owner.lock:
                    owner.received.append(
                        Received(self.path, dict(self.headers.items()), body, time.time())
                    )
                if owner.delay:
                    time.sleep(owner.delay)
                self.send_response(owner.status)
                for name, value in owner.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        for _ in range(80):
            try:
                self.server = ThreadingHTTPServer(("127.0.0.1", next(PORTS)), Handler)
                break
            except OSError:
                continue
        assert self.server is not None, "no free port in 18510-18589"
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
