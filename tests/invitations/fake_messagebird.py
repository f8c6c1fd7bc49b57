"""A stand-in for MessageBird's REST and Conversations APIs on 127.0.0.1: it records every request
it receives and answers with the status codes it is told to (200 once the list is used up)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class FakeMessageBird:
    server: ThreadingHTTPServer
    requests: list[ReceivedRequest] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    error_description: str = "fake error"
    delay: float = 0.0  # seconds to wait before answering (a worker can be killed meanwhile)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200


def start() -> FakeMessageBird:
    fake: FakeMessageBird

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the name http.server looks for
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_raw": raw.decode(errors="replace")}
            with fake.lock:
                fake.requests.append(ReceivedRequest("POST", self.path, dict(self.headers.items()), body))
            time.sleep(fake.delay)
            status = fake.next_status()
            if status < 300:
                answer = {"id": f"mb-{len(fake.requests)}", "status": "accepted"}
            else:
                answer = {"errors": [{"code": 9 if status < 500 else 0, "description": fake.error_description}]}
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format, *args):  # noqa: A002 - keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake = FakeMessageBird(server=server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake
