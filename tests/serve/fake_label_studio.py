"""A stand-in for the Label Studio endpoints the server calls (``from fake_label_studio import FakeLabelStudio``):
its uploaded files, behind a legacy token or a personal access token, and the token refresh endpoint."""

import base64
import http.server
import itertools
import json
import threading
import time

#: The legacy token the fake accepts (``Authorization: Token secret``).
LEGACY = "secret"


def make_jwt(claims):
    """A JWT of ``claims`` as Label Studio writes them (the signature is not checked by the server)."""
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


#: A personal access token (a refresh JWT, as ``POST /api/token/`` of Label Studio 1.23 makes them).
PAT = make_jwt({"token_type": "refresh", "exp": 8103807634, "iat": 1796607634, "jti": "f1c9", "user_id": "1"})


class _Handler(http.server.BaseHTTPRequestHandler):
    """Routes of :class:`FakeLabelStudio` (its state is the server's)."""

    def do_POST(self):  # noqa: N802 - http.server's name
        fake = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake.seen.append(("POST " + self.path, self.headers.get("Authorization")))
        refresh = json.loads(body or b"{}").get("refresh")
        if self.path != "/api/token/refresh/" or refresh != PAT or fake.revoked:
            return self._answer(401, b'{"detail": "Token is invalid", "code": "token_not_valid"}')
        access = make_jwt({"token_type": "access", "exp": int(time.time()) + fake.lifetime_s,
                           "jti": str(next(fake.counter))})
        fake.issued.append(access)
        return self._answer(200, json.dumps({"access": access}).encode())

    def do_GET(self):  # noqa: N802 - http.server's name
        fake = self.server.fake
        authorization = self.headers.get("Authorization")
        fake.seen.append((self.path, authorization))
        bearer = (authorization or "").removeprefix("Bearer ")
        allowed = authorization == f"Token {LEGACY}" or (bearer in fake.issued and bearer not in fake.refused)
        if self.path == "/big.png":
            return self._answer(200, b"\x89PNG" + b"\0" * 60_000)
        if self.path == "/public/a.png":
            return self._answer(200, fake.image)
        if self.path == "/tasks/7/resolve/":  # a redirect to another origin, as to cloud storage
            self.send_response(303)
            self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/public/a.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if self.path in fake.uploads and allowed:
            return self._answer(200, fake.image)
        return self._answer(401, b'{"detail": "Authentication credentials were not provided."}')

    def _answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class FakeLabelStudio:
    """Serves ``image`` (bytes) at each of ``uploads`` (paths) to ``Token secret`` or a Bearer access token it
    issued at ``POST /api/token/refresh/`` for :data:`PAT`; to anyone ``/public/a.png``, ``/big.png`` (too many
    bytes) and ``/tasks/7/resolve/`` (a redirect to ``/public/a.png`` on another origin: localhost).

    Attributes:
        url: ``http://127.0.0.1:<port>``; seen: ``(path, Authorization)`` of each request (``"POST <path>"``);
        issued: the access tokens issued; refused: access tokens answered 401 although issued (revoked early);
        revoked: whether the refresh endpoint refuses :data:`PAT`; lifetime_s: the access tokens' lifetime.
    """

    def __init__(self, image, uploads=("/data/upload/7/a.png",)):
        self.image, self.uploads = image, set(uploads)
        self.seen, self.issued, self.refused = [], [], set()
        self.revoked, self.lifetime_s, self.counter = False, 300, itertools.count()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.fake = self
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False
