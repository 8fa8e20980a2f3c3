"""A local HTTP server on 127.0.0.1 that plays download mirrors, and a closed port that plays no network.

``server.url(kind)`` is a mirror base URL; ``/<kind>/<name>`` serves
``server.files[name]`` as kind good, corrupt (one byte flipped), truncated
(announces the full length, sends half, hangs up); anything else is a 404.
Test modules import the fixtures ``server`` and ``closed_port_url``.
"""
import http.server
import socket
import threading

import pytest

from tinygrad_bn.data import download as download_module


class _Mirror(http.server.BaseHTTPRequestHandler):
    timeout = 5

    def do_GET(self):
        _, kind, name = self.path.split("/", 2)
        body = self.server.files.get(name)
        if body is None or kind not in ("good", "corrupt", "truncated"):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if kind == "corrupt":
            body = body[:100] + bytes([body[100] ^ 1]) + body[101:]
        self.wfile.write(body[:len(body) // 2] if kind == "truncated" else body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    """A local mirror server on an ephemeral port, serving ``server.files`` (empty at first)."""
    monkeypatch.setattr(download_module, "TIMEOUT", 5)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Mirror)
    httpd.daemon_threads = True
    httpd.files = {}
    httpd.url = lambda kind: f"http://127.0.0.1:{httpd.server_port}/{kind}/"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def closed_port_url():
    """A base URL on 127.0.0.1 where nothing listens: the connection is refused, as offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
