"""``serve``: run the app of :func:`~keras_segmentation.serve.create_app` with uvicorn until Ctrl-C.

It listens on 127.0.0.1 unless told otherwise (``host="0.0.0.0"`` opens it to the network) and prints the
URL once the socket is bound (``port=0`` takes a free port).

Example:
    >>> serve("presets/roads", port=8000)          # doctest: +SKIP
    serving roads (keras (tensorflow)) at http://127.0.0.1:8000/ (Ctrl-C to stop)
"""

import socket

from ..errors import ServeError
from .app import create_app


def serve(model, host="127.0.0.1", port=8000, *, log_level="warning", **options):
    """Serve ``model`` (anything :func:`~keras_segmentation.from_preset` takes) at ``http://host:port/``.

    ``options`` go to :func:`~keras_segmentation.serve.create_app` (``max_bytes``, ``max_pixels``, ``max_batch``,
    ``batch_wait_ms``, ``label_studio_url``, ``label_studio_api_key``, ``label_studio_root``, ``engine``: ``"auto"`` here).

    Raises:
        ServeError: the ``[serve]`` extra is missing, or ``host:port`` cannot be listened on (in use, no such address).
    """
    try:
        import uvicorn
    except ImportError:
        raise ServeError("serving needs uvicorn: pip install 'keras-segmentation[serve]'", 500) from None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, int(port)), family=family)  # before the model loads: a busy port fails fast
    except OSError as err:
        raise ServeError(f"{host}:{port}: cannot listen there ({err.strerror or err}); choose another --port or --host",
                         500) from None
    # asyncio sets TCP_NODELAY only on sockets it creates itself: without it, each answer's body on a kept-alive
    # connection waits ~40 ms for the client's delayed ACK (Linux passes the option on to accepted connections)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with sock:
        app = create_app(model, **{"engine": "auto", **options})
        served, shown = app.state.served, f"[{host}]" if family == socket.AF_INET6 else host
        print(f"serving {served.name} ({served.engine}) at http://{shown}:{sock.getsockname()[1]}/ (Ctrl-C to stop)",
              flush=True)
        if served.engine_choice:
            print(served.engine_choice, flush=True)
        uvicorn.Server(uvicorn.Config(app, log_level=log_level)).run(sockets=[sock])
