"""The ``Authorization`` header for Label Studio: a legacy token, or a personal access token exchanged for access.

Label Studio has two kinds of API key (Account & Settings):

* a legacy token (40 hex digits): sent as ``Authorization: Token <key>``;
* a personal access token (Label Studio 1.18 and later, the only kind a new organisation gets unless legacy
  tokens are enabled): a JWT *refresh* token, which Label Studio refuses as ``Token`` and as ``Bearer`` alike
  (HTTP 401, seen on 1.23.2). It is exchanged at ``POST /api/token/refresh/`` (``{"refresh": key}``) for an
  access token valid a few minutes (``{"access": ...}``), sent as ``Authorization: Bearer <access>``; the access
  token is kept until 30 s before its ``exp`` and fetched again after that, or after a 401.

Example:
    >>> token = LabelStudioToken("http://localhost:8080", "eyJhbGciOi...")   # a personal access token
    >>> token.header()                                                        # doctest: +SKIP
    'Bearer eyJhbGciOiJIUzI1NiIs...'
"""

import base64
import binascii
import json
import threading
import time
import urllib.error
import urllib.request

from ..errors import ServeError

#: Where Label Studio exchanges a refresh token for an access token.
REFRESH_PATH = "/api/token/refresh/"
#: An access token is fetched again this many seconds before it expires.
_MARGIN_S = 30.0
#: The largest answer read from the refresh endpoint (bytes).
_MAX_ANSWER = 1 << 16


def jwt_claims(key):
    """The claims of ``key`` when it is a JWT (three base64url parts, a JSON object in the middle), else ``None``;
    the signature is not checked (Label Studio checks it).

    Example:
        >>> jwt_claims("0123456789abcdef0123456789abcdef01234567") is None
        True
    """
    parts = key.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


class LabelStudioToken:
    """The ``Authorization`` header value for Label Studio at ``url`` with the API key ``key``.

    Args:
        url: Label Studio's URL (no trailing slash); key: a legacy token or a personal access token.
        timeout_s: how long the refresh endpoint may take to answer.
    """

    def __init__(self, url, key, timeout_s):
        self.url, self.key, self.timeout_s = url, key, float(timeout_s)
        claims = jwt_claims(key)
        self.kind = "legacy" if claims is None else claims.get("token_type") or "access"
        self._access, self._expires = None, 0.0
        self._lock = threading.Lock()

    @property
    def renewable(self):
        """Whether a 401 may be cured by fetching a new access token (a personal access token)."""
        return self.kind == "refresh"

    def header(self, renew=False):
        """``"Token <key>"``, ``"Bearer <key>"`` (an access token given as the key) or ``"Bearer <access>"``
        (a personal access token; ``renew``: a new access token even if the one kept has not expired).

        Raises:
            ServeError: 400 when Label Studio does not exchange the personal access token.
        """
        if self.kind == "legacy":
            return f"Token {self.key}"
        if self.kind != "refresh":
            return f"Bearer {self.key}"
        with self._lock:
            if renew or self._access is None or time.time() > self._expires - _MARGIN_S:
                self._access = self._refresh()
                exp = (jwt_claims(self._access) or {}).get("exp")
                self._expires = float(exp) if isinstance(exp, (int, float)) else time.time() + 2 * _MARGIN_S
            return f"Bearer {self._access}"

    def _refresh(self):
        where = f"{self.url}{REFRESH_PATH}"
        request = urllib.request.Request(where, data=json.dumps({"refresh": self.key}).encode(), method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "User-Agent": "keras-segmentation"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                access = json.loads(answer.read(_MAX_ANSWER)).get("access")
        except urllib.error.HTTPError as err:
            err.close()
            raise ServeError(f"Label Studio refused $LABEL_STUDIO_API_KEY (a personal access token) at {where}: HTTP "
                             f"{err.code} {err.reason}; give a token that is not revoked or expired", 400) from None
        except (urllib.error.URLError, OSError, ValueError, AttributeError) as err:
            reason = getattr(err, "reason", None) or err
            raise ServeError(f"cannot exchange $LABEL_STUDIO_API_KEY (a personal access token) at {where} "
                             f"({reason}); check that this server can reach Label Studio", 400) from None
        if not isinstance(access, str) or not access:
            raise ServeError(f"{where} answered without an access token; is {self.url} Label Studio 1.18 or later?",
                             400)
        return access
