"""``serve`` subcommand: a model over HTTP (``POST /predict``, ``/metadata``, ``/health``, a page at ``/``).

Example:
    $ keras_segmentation serve presets/roads --port 8000
    serving roads (keras (tensorflow)) at http://127.0.0.1:8000/ (Ctrl-C to stop)
    $ keras_segmentation serve export/model.onnx --host 0.0.0.0 --max-pixels 20000000
"""

from ..options import positive_int
from .arguments import runs_without_keras


def register(subparsers):
    """Add the ``serve`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "serve",
        help="serve a model over HTTP, with a page to try it in a browser (needs the [serve] extra)",
        description="POST an image to /predict and get its label map (PNG), class shares (?format=json), float16 "
        "probabilities (?format=probabilities) or an overlay (?format=overlay); the page at / shows it. "
        "See docs/serve.md.",
    )
    parser.add_argument("model", metavar="MODEL", help="a preset folder, hf://org/name, a fit run folder, a checkpoint "
                        "prefix or an exported model (.onnx, .tflite, SavedModel folder, .keras)")
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1, this "
                        "machine only; 0.0.0.0 opens it to the network)")
    parser.add_argument("--port", type=int, default=8000, help="the port (default 8000; 0 takes a free one)")
    parser.add_argument("--max-bytes", "--max_bytes", dest="max_bytes", type=positive_int, default=20_000_000,
                        help="the largest upload in bytes (default 20000000); more is answered 413")
    parser.add_argument("--max-pixels", "--max_pixels", dest="max_pixels", type=positive_int, default=40_000_000,
                        help="the largest image in pixels (default 40000000); more is answered 413")
    parser.add_argument("--max-batch", "--max_batch", dest="max_batch", type=positive_int, default=8,
                        help="the most images in one model call (default 8)")
    parser.add_argument("--batch-wait-ms", "--batch_wait_ms", dest="batch_wait_ms", type=float, default=5.0,
                        help="how long a request waits for others to share its model call (default 5 ms)")
    parser.add_argument("--label-studio-url", "--label_studio_url", dest="label_studio_url", default=None,
                        help="Label Studio's URL, to fetch the images it serves for its ML backend calls (default "
                        "$LABEL_STUDIO_URL; the token comes from $LABEL_STUDIO_API_KEY)")
    parser.add_argument("--label-studio-root", "--label_studio_root", dest="label_studio_root", default=None,
                        help="the folder Label Studio's local image paths may be read from (default: none are)")
    parser.add_argument("--engine", choices=("auto", "keras"), default="auto",
                        help="auto (default): a Keras model runs on ONNX Runtime when that is faster with the same "
                        "labels, said at start; keras: always Keras. An exported model runs on its own engine")
    parser.set_defaults(run=run, needs_keras=lambda args: not runs_without_keras(args.model))


def run(args):
    from ..serve import serve

    try:
        serve(args.model, args.host, args.port, max_bytes=args.max_bytes, max_pixels=args.max_pixels,
              max_batch=args.max_batch, batch_wait_ms=args.batch_wait_ms, label_studio_url=args.label_studio_url,
              label_studio_root=args.label_studio_root, engine=args.engine)
    except KeyboardInterrupt:  # Ctrl-C: how a server is meant to stop
        pass
    print("stopped", flush=True)
    return 0
