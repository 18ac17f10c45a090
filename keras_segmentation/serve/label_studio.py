"""Label Studio's ML backend protocol: the served model pre-labels a Label Studio project's images.

Label Studio (Settings -> Model -> Connect Model, with this server's URL) calls:

* ``GET /health``: the app's own ``{"status": "ok"}`` (Label Studio only needs a 200 with a JSON body);
* ``POST /setup`` with ``{"project": "<id>.<created>", "schema": "<View>...</View>", ...}``: answered
  ``{"model_version": ...}``, plus which labels of the config's ``BrushLabels`` (or ``PolygonLabels``) are which
  of the model's classes (by name, case-insensitive) and which have none;
* ``POST /predict`` with a JSON body ``{"tasks": [{"id", "data": {"image": ...}}], "label_config", "project",
  "params"}`` (the app's ``/predict`` hands JSON bodies here; image bodies stay its own): answered
  ``{"results": [{"result": [...], "score", "model_version"}], "model_version"}``, one prediction per task, in
  order. A result holds one
  ``brushlabels`` region per class present (its mask as Label Studio's brush RLE, :mod:`.brush_rle`), or the
  class's outlines as ``polygonlabels`` regions; ``score`` is the mean over the pixels of the top class probability;
* ``POST /webhook``: Label Studio's events (annotations saved, "start training"), answered 200 and ignored: the
  server does not train.

A task's image is a ``data:`` URI, an ``http(s)://`` URL (fetched with a timeout, within the upload byte limit),
a path on Label Studio (``/data/upload/...``: fetched from ``label_studio_url`` with ``Authorization: Token
<api key>``), or a local file (``/data/local-files/?d=...`` or a path) under ``label_studio_root``; any other
local path is refused. It is then read, batched and predicted exactly as ``POST /predict`` reads an upload.

Example:
    >>> app = create_app("presets/roads", label_studio_url="http://localhost:8080")   # LABEL_STUDIO_API_KEY set
    >>> client.post("/setup", json={"project": "1.0", "schema": config}).json()["model_version"]
    'roads-3f2a9c1b7e'
"""

import asyncio
import base64
import binascii
import collections
import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree

import cv2
import numpy as np

from ..errors import ServeError
from .brush_rle import mask_to_rle
from .uploads import read_request, read_upload, too_large

#: The control tags whose regions the server answers, in the order it looks for them.
CONTROLS = ("BrushLabels", "PolygonLabels")
#: Seconds to wait for an image URL to answer.
FETCH_TIMEOUT_S = 10.0
#: Label Studio's own paths for the files it serves.
LABEL_STUDIO_PATHS = ("/data/", "/tasks/", "/storage-data/")
#: Environment variables read when no URL or key is given.
URL_VARIABLE, KEY_VARIABLE = "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"
#: The largest label config (characters).
_MAX_CONFIG = 1_000_000

#: A control tag of the labelling config: ``kind`` (``BrushLabels``, ``PolygonLabels``), its ``name``
#: (a result's ``from_name``), the image tag it labels (``to_name``), the task data key of that image
#: (``$image`` -> ``image``) and its label values.
Control = collections.namedtuple("Control", "kind from_name to_name data_key labels")


class LabelStudioBackend:
    """Label Studio's ML backend routes for a :class:`~.served_model.ServedModel` and its batcher.

    Args:
        served: the served model; ``batcher``: the app's :class:`~.batcher.MicroBatcher` (its items are
            ``(prepared image, with probabilities)``).
        source: what the model was loaded from (a path gives the model version its files' sizes and times).
        max_bytes, max_pixels: the app's limits, for every image (a request's JSON may be twice ``max_bytes``).
        url: Label Studio's URL, for the paths it serves (default: ``$LABEL_STUDIO_URL``).
        api_key: the token sent to it (default: ``$LABEL_STUDIO_API_KEY``).
        root: the folder local image paths may be read from (none: local paths are refused).
        timeout_s: how long an image URL may take to answer.

    Attributes:
        model_version: the version Label Studio files the predictions under.
    """

    def __init__(self, served, batcher, source=None, *, max_bytes, max_pixels, url=None, api_key=None, root=None,
                 timeout_s=FETCH_TIMEOUT_S):
        self.served, self.batcher = served, batcher
        self.max_bytes, self.max_pixels, self.timeout_s = int(max_bytes), int(max_pixels), float(timeout_s)
        url = os.environ.get(URL_VARIABLE) if url is None else url
        self.url = url.rstrip("/") if url else None
        self.api_key = (os.environ.get(KEY_VARIABLE) if api_key is None else api_key) or None
        self.root = os.path.realpath(os.fspath(root)) if root else None
        if self.root is not None and not os.path.isdir(self.root):
            raise ServeError(f"label_studio_root {os.fspath(root)!r}: no such folder; give the folder Label Studio's "
                             "local files are under", 500)
        self.model_version = model_version(served, source)

    # ---------------------------------------------------------------- the protocol
    def setup(self, body):
        """``POST /setup``: the model version, the control and how its labels map to the classes."""
        config = body.get("schema") or body.get("label_config")
        control = parse_label_config(config)
        mapping, unmatched = self._labels(control)
        names = {entry["id"]: entry["name"] for entry in self.served.classes}
        return {"model_version": self.model_version, "control": control.kind, "from_name": control.from_name,
                "to_name": control.to_name, "labels": {label: names[i] for i, label in mapping.items()},
                "labels_without_class": unmatched,
                "classes_without_label": [names[i] for i in names if i not in mapping]}

    async def predict(self, body):
        """``POST /predict`` (Label Studio's JSON): one prediction per task, in order."""
        from starlette.concurrency import run_in_threadpool

        control = parse_label_config(body.get("label_config"))
        mapping, _ = self._labels(control)
        tasks = body.get("tasks")
        if not isinstance(tasks, list):
            raise ServeError("the request has no 'tasks' list; send Label Studio's {\"tasks\": [...], "
                             "\"label_config\": ...}", 422)
        sources = [_task_image(task, index, control) for index, task in enumerate(tasks)]

        in_flight = asyncio.Semaphore(self.batcher.max_batch)  # a batch of images (and probabilities) at a time

        async def one(source):
            async with in_flight:
                prepared = await run_in_threadpool(self._prepare, *source)
                prediction = await self.batcher.submit((prepared, True))
                return await run_in_threadpool(self._prediction, prediction, control, mapping)

        results = await asyncio.gather(*(one(source) for source in sources))
        return {"results": list(results), "model_version": self.model_version}

    async def predict_request(self, request):
        """Answer the Starlette ``request`` of Label Studio's ``POST /predict``."""
        return await self.predict(await _json_body(request, 2 * self.max_bytes))

    def router(self):
        """The FastAPI router of ``POST /setup`` and ``POST /webhook`` (``POST /predict`` is the app's, which
        hands JSON bodies to :meth:`predict_request`)."""
        import fastapi

        router = fastapi.APIRouter(tags=["Label Studio"])

        @router.post("/setup")
        async def setup(request: fastapi.Request):
            """Label Studio's setup: the model version and the labels that are model classes (docs/serve.md)."""
            return self.setup(await _json_body(request, _MAX_CONFIG))

        @router.post("/webhook")
        async def webhook(request: fastapi.Request):
            """Label Studio's events: acknowledged, not acted on (the server does not train)."""
            try:
                action = (json.loads(await request.body() or b"{}") or {}).get("action")
            except (ValueError, AttributeError):
                action = None
            return {"status": "ignored", "action": action, "detail": "this server does not train"}

        return router

    # ---------------------------------------------------------------- steps
    def _labels(self, control):
        """``({class id: label}, [labels without a class])``; refused when no label is a class."""
        by_name = {}
        for entry in self.served.classes:
            if entry["name"] is not None:
                by_name.setdefault(entry["name"].casefold(), entry["id"])
        mapping, unmatched = {}, []
        for label in control.labels:
            class_id = by_name.get(label.casefold())
            if class_id is None or class_id in mapping:
                unmatched.append(label)
            else:
                mapping[class_id] = label
        if not mapping:
            classes = [entry["name"] for entry in self.served.classes]
            raise ServeError(f"<{control.kind} name={control.from_name!r}>: none of its labels {control.labels} is one "
                             f"of the model's classes {classes}; name the labels after the classes (any case)", 422)
        return mapping, unmatched

    def _prepare(self, task_id, value):
        data, name = self._image_bytes(task_id, value)
        return read_upload(data, self.served, self.max_pixels, name)

    def _image_bytes(self, task_id, value):
        """``(bytes, name)`` of a task's image ``value`` (data URI, URL, Label Studio path, local path)."""
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
        request = urllib.request.Request(url, headers={"User-Agent": "keras-segmentation"})
        if self.api_key and self.url and _origin(url) == _origin(self.url):
            # not sent on to where a redirect leads (cloud storage links need no token)
            request.add_unredirected_header("Authorization", f"Token {self.api_key}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                length = answer.headers.get("Content-Length", "")
                if length.isdigit() and int(length) > self.max_bytes:
                    raise too_large(int(length), self.max_bytes, name, advice=None)
                return _read_limited(answer, self.max_bytes, name)
        except urllib.error.HTTPError as err:
            err.close()
            hint = f"; give the server ${KEY_VARIABLE}" if err.code in (401, 403) else ""
            raise ServeError(f"{name}: fetching it answered HTTP {err.code} {err.reason}{hint}", 400) from None
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", None) or err
            raise ServeError(f"{name}: cannot fetch it ({reason}); check that this server can reach the URL", 400
                             ) from None

    def _prediction(self, prediction, control, mapping):
        """Label Studio's prediction of one task: its regions, score and model version."""
        labels, probabilities = prediction.labels, prediction.probabilities
        height, width = labels.shape
        common = {"from_name": control.from_name, "to_name": control.to_name, "original_width": int(width),
                  "original_height": int(height), "image_rotation": 0, "readonly": False}
        result = []
        for class_id, label in sorted(mapping.items()):
            mask = labels == class_id
            if not mask.any():
                continue
            score = float(probabilities[..., class_id][mask].mean())
            if control.kind == "BrushLabels":
                result.append(dict(common, id=f"class{class_id}", type="brushlabels", score=score,
                                   value={"format": "rle", "rle": mask_to_rle(mask), "brushlabels": [label]}))
            else:
                for i, points in enumerate(_polygons(mask)):
                    result.append(dict(common, id=f"class{class_id}-{i}", type="polygonlabels", score=score,
                                       value={"points": points, "closed": True, "polygonlabels": [label]}))
        return {"result": result, "score": float(probabilities.max(-1).mean()), "model_version": self.model_version}


# -------------------------------------------------------------------- the labelling config
def parse_label_config(config):
    """The first ``BrushLabels`` (else ``PolygonLabels``) control of a labelling config (XML) that labels an image.

    Raises:
        ServeError: 422 for a missing or unreadable config, or one without such a control.
    """
    if not isinstance(config, str) or not config.strip():
        raise ServeError("no labelling config: Label Studio sends it as 'schema' (/setup) or 'label_config' "
                         "(/predict)", 422)
    if len(config) > _MAX_CONFIG:
        raise ServeError(f"the labelling config is {len(config):,} characters, more than {_MAX_CONFIG:,}", 422)
    try:
        root = ElementTree.fromstring(config)
    except ElementTree.ParseError as err:
        raise ServeError(f"the labelling config is not XML ({err})", 422) from None
    tags = list(root.iter())
    by_name = {tag.get("name"): tag for tag in tags if tag.get("name")}
    for kind in CONTROLS:
        for tag in tags:
            if tag.tag.lower() != kind.lower():
                continue
            to_name = (tag.get("toName") or "").split(",")[0].strip()
            image = by_name.get(to_name)
            if image is None or image.tag.lower() != "image":
                continue
            key = image.get("value") or ""
            if not key.startswith("$") or len(key) < 2:
                raise ServeError(f"<Image name={to_name!r} value={key!r}>: give the task data key as value=\"$image\"",
                                 422)
            labels = [label.get("value") for label in tag if label.tag.lower() == "label" and label.get("value")]
            return Control(kind, tag.get("name"), to_name, key[1:], labels)
    raise ServeError("the labelling config has no <BrushLabels> or <PolygonLabels> with toName an <Image>; add "
                     "<BrushLabels name=\"tag\" toName=\"image\"> with a <Label value=\"...\"/> per class", 422)


def model_version(served, source=None):
    """``"<name>-<10 hex digits>"``: changes with the classes, the input size, the engine, the prediction options
    and, for a model loaded from a path, its files' sizes and modification times."""
    digest = hashlib.sha256(json.dumps(served.describe(), sort_keys=True, default=str).encode())
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        digest.update(path.encode())
        files = [path] if os.path.isfile(path) else sorted(
            os.path.join(folder, file) for folder, _, names in os.walk(path) for file in names)
        for file in files[:10_000]:
            try:
                stat = os.stat(file)
            except OSError:  # removed since the walk
                continue
            digest.update(f"{os.path.relpath(file, path)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return f"{served.name}-{digest.hexdigest()[:10]}"


# -------------------------------------------------------------------- helpers
def is_label_studio_request(request):
    """Whether a ``POST /predict`` request is Label Studio's (a JSON body) rather than an image."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


async def _json_body(request, limit):
    body, _ = await read_request(request, limit)
    try:
        data = json.loads(body or b"{}")
    except ValueError as err:
        raise ServeError(f"the request body is not JSON ({err})", 400) from None
    if not isinstance(data, dict):
        raise ServeError(f"the request body is JSON {type(data).__name__}, not an object", 400)
    return data


def _task_image(task, index, control):
    """``(task id, image value)`` of one task of the request."""
    task_id = task.get("id", f"#{index}") if isinstance(task, dict) else f"#{index}"
    data = task.get("data") if isinstance(task, dict) else None
    value = data.get(control.data_key) if isinstance(data, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise ServeError(f"task {task_id}: no image in its data['{control.data_key}'] (what <Image "
                         f"name={control.to_name!r}> shows); give each task a URL, data: URI or path there", 400)
    return task_id, value.strip()


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


def _polygons(mask):
    """The outer outlines of ``mask``'s regions as Label Studio's points, ``[[x %, y %], ...]``: through the centres
    of the boundary pixels; a region one pixel thin (a line, a lone pixel) is the one-pixel-wide band around it."""
    height, width = mask.shape
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons = []
    for contour in contours:
        points = contour[:, 0, :].astype(np.float64) + 0.5  # pixel (x, y) -> the centre of its square
        if len(points) <= 2:
            start, end = points[0], points[-1]
            along = end - start
            along = along / np.hypot(*along) / 2 if along.any() else np.array([0.5, 0.0])
            across = np.array([-along[1], along[0]])
            points = np.array([start - along - across, end + along - across, end + along + across,
                               start - along + across])
        percent = points / [width, height] * 100
        polygons.append([[round(float(x), 4), round(float(y), 4)] for x, y in percent])
    return polygons
