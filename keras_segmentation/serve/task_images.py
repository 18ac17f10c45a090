"""The image of a Label Studio task, as bytes: a ``data:`` URI, a URL, a file Label Studio serves, or a local file.

A URL is fetched with a timeout and within the byte limit; a path on Label Studio (``/data/upload/...``) is fetched
from its URL with the API key (a legacy token or a personal access token: :mod:`.label_studio_token`); a local
path (``/data/local-files/?d=...`` or a plain path) is read only under the root the server was given.

Example:
    >>> images = TaskImages("http://localhost:8080", api_key="...", max_bytes=20 << 20)
    >>> data, name = images.read(7, "/data/upload/1/road.png")   # doctest: +SKIP
"""

import base64
import binascii
import os
import urllib.error
import urllib.parse
import urllib.request

from ..errors import ServeError
from .label_studio_token import LabelStudioToken
from .uploads import too_large

#: Seconds to wait for an image URL to answer.
FETCH_TIMEOUT_S = 10.0
#: Label Studio's own paths for the files it serves.
LABEL_STUDIO_PATHS = ("/data/", "/tasks/", "/storage-data/")
#: Environment variables read when no URL or key is given.
URL_VARIABLE, KEY_VARIABLE = "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"


class TaskImages:
    """Reads tasks' images for the Label Studio backend.

    Args:
        url: Label Studio's URL, for the paths it serves (default: ``$LABEL_STUDIO_URL``).
        api_key: its API key, a legacy token or a personal access token (default: ``$LABEL_STUDIO_API_KEY``).
        root: the folder local image paths may be read from (none: local paths are refused).
        max_bytes: the largest image; timeout_s: how long an image URL may take to answer.
    """

    def __init__(self, url=None, api_key=None, root=None, *, max_bytes, timeout_s=FETCH_TIMEOUT_S):
        url = os.environ.get(URL_VARIABLE) if url is None else url
        self.url = url.rstrip("/") if url else None
        self.api_key = (os.environ.get(KEY_VARIABLE) if api_key is None else api_key) or None
        self.root = os.path.realpath(os.fspath(root)) if root else None
        if self.root is not None and not os.path.isdir(self.root):
            raise ServeError(f"label_studio_root {os.fspath(root)!r}: no such folder; give the folder Label Studio's "
                             "local files are under", 500)
        self.max_bytes, self.timeout_s = int(max_bytes), float(timeout_s)
        self.token = LabelStudioToken(self.url, self.api_key, self.timeout_s) if self.url and self.api_key else None

    def read(self, task_id, value):
        """``(bytes, name)`` of a task's image ``value`` (data URI, URL, Label Studio path, local path).

        Example:
            >>> TaskImages(max_bytes=1 << 20).read(7, "data:image/png;base64,iVBORw0...")   # doctest: +SKIP
            (b'\\x89PNG...', "task 7's image")
        """
        name = f"task {task_id}'s image"
        if value.startswith("data:"):
            return _data_uri(value, name, self.max_bytes), name
        shown = f"{name} {value if len(value) <= 120 else value[:117] + '...'!r}"  # the URL or path, cut short
        if _scheme(value) in ("http", "https"):
            return self._fetch(value, shown), name
        local = self._local_file(value, shown)
        if local is not None:
            with open(local, "rb") as handle:
                return _read_limited(handle, self.max_bytes, shown), name
        if value.startswith(LABEL_STUDIO_PATHS):
            if self.url is not None:
                return self._fetch(self.url + value, shown), name
            raise ServeError(f"{shown} is a file on Label Studio; start the server with --label-studio-url (or "
                             f"${URL_VARIABLE}) and ${KEY_VARIABLE} to fetch it", 400)
        if self.root is None:
            raise ServeError(f"{shown}: local paths are read only under --label-studio-root, which this server was "
                             "not given", 403)
        raise ServeError(f"{shown}: no such file under --label-studio-root", 400)

    def _local_file(self, value, name):
        """The real path of the local image ``value`` under the root; ``None`` when there is no such file there
        (or ``value`` is a path on Label Studio).

        Raises:
            ServeError: 403 for a local path outside the root.
        """
        if self.root is None or _scheme(value) not in ("", "file"):
            return None
        local_files = value.startswith("/data/local-files/")
        if local_files:  # Label Studio's local files storage: ?d= is relative to its document root
            relative = urllib.parse.parse_qs(urllib.parse.urlsplit(value).query).get("d", [""])[0]
            path = os.path.join(self.root, relative.lstrip("/"))
        elif value.startswith("file:"):
            path = urllib.parse.unquote(urllib.parse.urlsplit(value).path)
        else:
            path = os.path.join(self.root, value)  # a relative path is under the root; an absolute one stays
        real = os.path.realpath(path)
        if os.path.commonpath([real, self.root]) == self.root:
            return real if os.path.isfile(real) else None
        if value.startswith(LABEL_STUDIO_PATHS) and not local_files:
            return None  # /data/upload/...: Label Studio's, fetched from it
        raise ServeError(f"{name} is outside --label-studio-root; the server reads local files only there", 403)

    def _fetch(self, url, name):
        # the token goes only to Label Studio's origin, not on to where a redirect leads (cloud storage links need none)
        token = self.token if self.token is not None and _origin(url) == _origin(self.url) else None
        for attempt in (1, 2):
            request = urllib.request.Request(url, headers={"User-Agent": "keras-segmentation"})
            if token is not None:
                request.add_unredirected_header("Authorization", token.header(renew=attempt > 1))
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                    length = answer.headers.get("Content-Length", "")
                    if length.isdigit() and int(length) > self.max_bytes:
                        raise too_large(int(length), self.max_bytes, name, advice=None)
                    return _read_limited(answer, self.max_bytes, name)
            except urllib.error.HTTPError as err:
                err.close()
                if err.code == 401 and attempt == 1 and token is not None and token.renewable:
                    continue  # the access token expired before its time (clocks apart): a new one, once
                hint = f"; give the server ${KEY_VARIABLE}" if err.code in (401, 403) else ""
                raise ServeError(f"{name}: fetching it answered HTTP {err.code} {err.reason}{hint}", 400) from None
            except (urllib.error.URLError, OSError, ValueError) as err:
                reason = getattr(err, "reason", None) or err
                raise ServeError(f"{name}: cannot fetch it ({reason}); check that this server can reach the URL", 400
                                 ) from None


def _data_uri(value, name, max_bytes):
    header, comma, payload = value.partition(",")
    if not comma:
        raise ServeError(f"{name}: a data: URI without a comma", 400)
    if len(payload) * 3 // 4 > max_bytes + 2:
        raise too_large(len(payload) * 3 // 4, max_bytes, name, advice=None)
    if header.lower().endswith(";base64"):
        try:
            data = base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError):
            raise ServeError(f"{name}: a data: URI whose base64 is damaged", 400) from None
    else:
        data = urllib.parse.unquote_to_bytes(payload)
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes, name, advice=None)
    return data


def _read_limited(handle, max_bytes, name):
    data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes, name, advice=None)
    return data


def _scheme(value):
    try:
        return urllib.parse.urlsplit(value).scheme.lower()
    except ValueError:  # an unparsable URL ("http://[")
        return "?"


def _origin(url):
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()
