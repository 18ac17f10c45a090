"""``create_app``: a model as an ASGI web app (FastAPI): ``POST /predict``, ``/metadata``, ``/health``, a page at ``/``.

Endpoints:

* ``POST /predict[?format=png|json|probabilities|overlay]``: the image as the raw request body or as the multipart
  field ``file`` (:mod:`.uploads`), answered as :mod:`.answers` says;
* ``GET /metadata``: the model (name, input size, channels, classes with names and colours, engine) and the limits;
* ``GET /health``: ``{"status": "ok"}``;
* ``POST /setup``, ``/webhook``, and ``POST /predict`` with a JSON body: Label Studio's ML backend protocol
  (:mod:`.label_studio`: pre-labels for a labelling project);
* ``GET /``: the page (:mod:`keras_segmentation.serve.static`), ``/docs``: the OpenAPI docs.

Requests within ``batch_wait_ms`` of each other share one model call (:mod:`.batcher`). Refused requests get a
JSON ``{"error": "<one line>"}`` with a 4xx status; the server goes on.

Example:
    >>> app = create_app("presets/roads", max_pixels=20_000_000)
    >>> from fastapi.testclient import TestClient
    >>> with TestClient(app) as client:
    ...     client.post("/predict?format=json", content=open("a.png", "rb").read()).json()["classes"][0]["share"]
    0.42
"""

import contextlib
import os
from typing import Literal

from ..errors import SegmentationError, ServeError
from .answers import FORMATS, answer
from .batcher import MicroBatcher
from .label_studio import LabelStudioBackend, is_label_studio_request
from .served_model import ServedModel
from .uploads import FILE_FIELD, read_request, read_upload

#: Default limits: 20 MB uploads, 40 megapixel images.
MAX_BYTES = 20_000_000
MAX_PIXELS = 40_000_000
STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")

#: The request body of ``POST /predict`` in the OpenAPI description: the multipart field, or the image as the body.
_PREDICT_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": [FILE_FIELD],
                                       "properties": {FILE_FIELD: {"type": "string", "format": "binary"}}}},
    **{kind: {"schema": {"type": "string", "format": "binary"}}
       for kind in ("application/octet-stream", "image/png", "image/jpeg", "image/tiff")},
    "application/json": {"schema": {"type": "object", "description": "Label Studio's ML backend request "
                                    "({\"tasks\": [...], \"label_config\": ...}; docs/serve.md)"}},
}}}


def create_app(model, *, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, max_batch=8, batch_wait_ms=5.0,
               label_studio_url=None, label_studio_api_key=None, label_studio_root=None, engine="keras"):
    """The ASGI app serving ``model`` (a loaded model, or anything :func:`~keras_segmentation.from_preset` takes).

    Args:
        max_bytes: the largest upload (bytes); more is answered 413.
        max_pixels: the largest image (height x width, read from its header); more is answered 413.
        max_batch: the most images in one model call.
        batch_wait_ms: how long a request waits for others to share its model call.
        label_studio_url: Label Studio's URL, to fetch the images it serves (``/data/upload/...``) for its
            ``POST /predict`` (default: ``$LABEL_STUDIO_URL``); ``label_studio_api_key``: its API key, a legacy
            token or a personal access token (default: ``$LABEL_STUDIO_API_KEY``); ``label_studio_root``: the
            folder local image paths may be read from (default: none are).
        engine: ``"keras"``, or ``"auto"`` (what ``serve`` starts with): a Keras model runs on ONNX Runtime when
            that is faster with the same labels (:class:`ServedModel`).

    Returns:
        A FastAPI app; ``app.state.served`` is the :class:`ServedModel`, ``app.state.batcher`` the
        :class:`MicroBatcher` (its ``batches`` counts model calls), ``app.state.label_studio`` the
        :class:`~.label_studio.LabelStudioBackend`.

    Raises:
        ServeError: FastAPI is not installed (the ``[serve]`` extra).
        SegmentationError: ``from_preset``'s errors for a model that does not load.
    """
    fastapi = _fastapi()
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse, Response
    from fastapi.staticfiles import StaticFiles
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException

    served = ServedModel(model, max_batch, engine)
    batcher = MicroBatcher(lambda items: served.predict([prepared for prepared, _ in items], any(p for _, p in items)),
                           max_batch, batch_wait_ms)
    limits = {"max_bytes": int(max_bytes), "max_pixels": int(max_pixels), "max_batch": batcher.max_batch,
              "batch_wait_ms": batcher.wait_ms}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        batcher.close()

    app = fastapi.FastAPI(title=f"keras-segmentation: {served.name}", lifespan=lifespan,
                          description="Semantic segmentation of uploaded images (docs/serve.md).")
    label_studio = LabelStudioBackend(served, batcher, model, max_bytes=max_bytes, max_pixels=max_pixels,
                                      url=label_studio_url, api_key=label_studio_api_key, root=label_studio_root)
    app.state.served, app.state.batcher, app.state.label_studio = served, batcher, label_studio

    def error(status, message):
        return JSONResponse({"error": " ".join(str(message).split()) or f"HTTP {status}"}, status_code=status)

    @app.exception_handler(SegmentationError)
    async def refused(request, err):
        return error(getattr(err, "status", 422), err)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, err):
        first = err.errors()[0]
        return error(422, f"{'.'.join(str(p) for p in first['loc'][1:])}: {first['msg']}")

    @app.exception_handler(HTTPException)
    async def http_error(request, err):
        return error(err.status_code, err.detail)

    @app.exception_handler(Exception)
    async def crashed(request, err):
        return error(500, f"internal error ({type(err).__name__}: {err})")

    @app.get("/health")
    async def health():
        """Whether the server is up."""
        return {"status": "ok"}

    @app.get("/metadata")
    async def metadata():
        """The model (name, input size, channels, classes with names and colours, engine) and the server's limits."""
        return dict(served.describe(), limits=limits)

    @app.post("/predict", openapi_extra=_PREDICT_BODY, responses={
        200: {"content": {"image/png": {}, "application/octet-stream": {}}, "description": "the answer in `format`"}})
    async def predict(request: fastapi.Request, format: Literal[FORMATS] = fastapi.Query(
            "png", description="png: label map (class ids); json: class shares; probabilities: float16 .npz; "
            "overlay: the image with the coloured classes")):
        """Segment one image (raw body or multipart field `file`: PNG, JPEG, TIFF), or Label Studio's tasks (JSON)."""
        if is_label_studio_request(request):
            return await label_studio.predict_request(request)
        data, name = await read_request(request, max_bytes)
        prepared = await run_in_threadpool(read_upload, data, served, max_pixels, name)
        prediction = await batcher.submit((prepared, format == "probabilities"))
        body, media_type = await run_in_threadpool(answer, prediction, format, served)
        if isinstance(body, dict):
            return body
        headers = {"Content-Disposition": 'attachment; filename="probabilities.npz"'} if format == "probabilities" else {}
        return Response(body, media_type=media_type, headers=headers)

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(os.path.join(STATIC, "index.html"))

    app.include_router(label_studio.router())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _fastapi():
    try:
        import fastapi
    except ImportError:
        raise ServeError("serving needs FastAPI, uvicorn and python-multipart: pip install 'keras-segmentation[serve]'",
                         500) from None
    return fastapi
