"""``models`` subcommand: print the model zoo (or the encoders) as a table.

Parameter counts and GFLOPs need each model to be built (without downloading
weights), which takes a minute for all the original names on a CPU; pass
``--no-params`` for the instant table, or ``--names`` to measure a few.

Example:
    $ keras_segmentation models --no-params
    $ keras_segmentation models --names vgg_unet pspnet_50 --n_classes 12
    $ keras_segmentation models --encoder efficientnetb0      # every decoder on one encoder
    $ keras_segmentation models --encoders                    # the encoder registry
"""

import sys


def register(subparsers):
    """Add the ``models`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "models",
        help="list the models (name, encoder, decoder, input, output, parameters) or the encoders",
        description="Print the model zoo: the original model names and the build_model decoders, with "
        "default input size, output size, parameters and forward GFLOPs (models are built without "
        "pretrained weights to count them; use --no-params to skip that).",
    )
    parser.add_argument("--encoders", action="store_true", help="list the encoders instead of the models")
    parser.add_argument("--no-params", dest="params", action="store_false", help="do not build models to count parameters")
    parser.add_argument("--n_classes", type=int, default=12, help="classes used for parameter counts (default 12)")
    parser.add_argument("--names", nargs="+", metavar="NAME", help="only these model names")
    parser.add_argument(
        "--encoder", help="also measure every build_model decoder on this encoder (at --input_height x --input_width)"
    )
    parser.add_argument("--input_height", type=int, default=416, help="input height for build_model rows (416)")
    parser.add_argument("--input_width", type=int, default=608, help="input width for build_model rows (608)")
    parser.set_defaults(run=run, needs_keras=True)


def _size(value):
    if value is None:
        return "any"
    if isinstance(value, tuple):
        return f"{value[0]}x{value[1]}"
    return str(value)


def _table(header, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _print_encoders():
    from ..models import list_encoders

    rows = []
    for row in list_encoders():
        levels = " ".join(f"{lvl}:{row['channels'][lvl]}/{row['strides'][lvl]}" for lvl in row["channels"])
        rows.append((row["name"], row["family"], row["normalization"], row["pretrained"] or "-", levels))
    print(_table(("encoder", "family", "normalization", "pretrained", "pyramid (channels/stride)"), rows))
    return 0


def run(args):
    """Print the table; returns the exit status."""
    if args.encoders:
        return _print_encoders()
    from ..errors import ModelConfigError
    from ..models import count_model, list_models

    all_rows = list_models()
    rows = [row for row in all_rows if not args.names or row["name"] in args.names]
    if args.names:
        unknown = sorted(set(args.names) - {row["name"] for row in rows})
        if unknown:
            raise ModelConfigError(f"unknown model name(s): {', '.join(unknown)}")
    table = []
    for row in rows:
        params = gflops = "-"
        output = row["output"]
        if args.params and row["builder"] == "legacy":
            print(f"counting {row['name']} ...", file=sys.stderr, flush=True)
            measured = count_model(row["name"], n_classes=args.n_classes)
            params, gflops, output = f"{measured['params']:,}", f"{measured['gflops']:.1f}", measured["output"]
        table.append((row["name"], row["encoder"], row["decoder"], _size(row["default_input"]), _size(output), params, gflops))
    if args.encoder:
        for decoder in [row["decoder"] for row in all_rows if row["builder"] == "build_model"]:
            print(f"counting {args.encoder}_{decoder} ...", file=sys.stderr, flush=True)
            measured = count_model(
                decoder, args.n_classes, args.input_height, args.input_width, encoder=args.encoder
            )
            size = (args.input_height, args.input_width)
            table.append(
                (
                    f"{args.encoder}_{decoder}",
                    args.encoder,
                    decoder,
                    _size(size),
                    _size(measured["output"]),
                    f"{measured['params']:,}",
                    f"{measured['gflops']:.1f}",
                )
            )
    header = ("name", "encoder", "decoder", "default input", "output", f"params (n_classes={args.n_classes})", "GFLOPs")
    print(_table(header, table))
    return 0
