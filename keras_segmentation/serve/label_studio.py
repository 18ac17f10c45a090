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
  ``brushlabels`` region per class present (its mask as Label Studio's brush RLE, :mod:`.regions`), or the
  class's outlines as ``polygonlabels`` regions; ``score`` is the mean over the pixels of the top class probability;
* ``POST /webhook``: Label Studio's events (annotations saved, "start training"), answered 200 and ignored: the
  server does not train.

A task's image (:mod:`.task_images`) is a ``data:`` URI, an ``http(s)://`` URL (fetched with a timeout, within
the upload byte limit), a path on Label Studio (``/data/upload/...``: fetched from ``label_studio_url`` with
the API key, :mod:`.label_studio_token`), or a local file (``/data/local-files/?d=...`` or a path) under
``label_studio_root``; any other local path is refused. It is then read, batched and predicted exactly as
``POST /predict`` reads an upload.

Example:
    >>> app = create_app("presets/roads", label_studio_url="http://localhost:8080")   # LABEL_STUDIO_API_KEY set
    >>> client.post("/setup", json={"project": "1.0", "schema": config}).json()["model_version"]
    'roads-3f2a9c1b7e'
"""

import asyncio
import collections
import hashlib
import json
import os
import xml.etree.ElementTree as ElementTree

from ..errors import ServeError
from .regions import mask_to_rle, outlines
from .task_images import FETCH_TIMEOUT_S, TaskImages
from .uploads import read_request, read_upload

#: The control tags whose regions the server answers, in the order it looks for them.
CONTROLS = ("BrushLabels", "PolygonLabels")
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
        api_key: its API key, a legacy token or a personal access token (default: ``$LABEL_STUDIO_API_KEY``).
        root: the folder local image paths may be read from (none: local paths are refused).
        timeout_s: how long an image URL may take to answer.

    Attributes:
        model_version: the version Label Studio files the predictions under.
    """

    def __init__(self, served, batcher, source=None, *, max_bytes, max_pixels, url=None, api_key=None, root=None,
                 timeout_s=FETCH_TIMEOUT_S):
        self.served, self.batcher = served, batcher
        self.max_bytes, self.max_pixels = int(max_bytes), int(max_pixels)
        self.images = TaskImages(url, api_key, root, max_bytes=self.max_bytes, timeout_s=timeout_s)
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
        data, name = self.images.read(task_id, value)
        return read_upload(data, self.served, self.max_pixels, name)

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
                for i, points in enumerate(outlines(mask)):
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


# -------------------------------------------------------------------- requests
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
