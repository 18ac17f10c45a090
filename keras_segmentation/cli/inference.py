"""``predict``, ``predict_video`` and ``evaluate_model`` subcommands."""

import json
import os

from ..options import add_options, option_values
from .arguments import RegisteredNames, bands_arg, shard_arg

#: the Predictor's sliding-window and test-time augmentation options (:mod:`keras_segmentation.options`)
TILING = ("tile", "overlap", "blend", "tta", "scales")
#: the Predictor's other options that predict and evaluate_model take
PREDICTOR = ("read_image_type", "flip_tta", "mode", *TILING, "precision")
#: the display options of predict and predict_video
DISPLAY = ("show_legends", "prediction_width", "prediction_height", "class_names")


def register(subparsers):
    predict = subparsers.add_parser(
        "predict",
        help="predict one image or every image in a folder",
        description="A folder --input_path writes <output_path>/<name>.png label maps (class ids; --colored for colour); "
        "a single image writes a colour image to --output_path. Unreadable images in a folder are skipped and "
        "listed (exit status 1). --uncertainty also writes <output_path>/uncertainty/<name>.png (a heat map), "
        "<name>.tif (float32 values) and scores.csv (most unsure first); for a single image, "
        "<output_path without extension>_uncertainty.png and .tif.",
    )
    _add_model_source(predict)
    predict.add_argument("--input_path", required=True, help="an image file or a folder of images")
    predict.add_argument("--output_path", required=True, help="output file (single image) or folder")
    _add_display_options(predict)
    predict.add_argument("--colored", action="store_true", help="folder mode: write colour images instead of label maps")
    add_options(predict, "batch_size", *PREDICTOR, "uncertainty")
    predict.add_argument(
        "--shard",
        type=shard_arg,
        default=None,
        help="K/N: folder mode, predict only the K-th of N equal shares of the images (1 <= K <= N, sorted by "
        "name), so N processes write together what one would",
    )
    predict.add_argument(
        "--skip_existing", action="store_true", help="folder mode: leave out images whose output file exists"
    )
    predict.set_defaults(run=run_predict, needs_keras=True)

    geotiff = subparsers.add_parser(
        "predict_geotiff",
        help="predict a GeoTIFF window by window into a georeferenced label map (needs the [geo] extra)",
        description="Slides tiles over the raster, reading one row of tiles at a time, and writes a tiled, compressed "
        "GeoTIFF of class ids with the input's CRS and transform; nodata pixels get --nodata_label. --uncertainty "
        "also writes <output_path without extension>_uncertainty.tif: the map as float32, same grid, NaN on nodata.",
    )
    _add_model_source(geotiff)
    geotiff.add_argument("--input_path", required=True, help="a GeoTIFF (any band count)")
    geotiff.add_argument("--output_path", required=True, help="the label GeoTIFF to write")
    geotiff.add_argument("--bands", type=bands_arg, default=None, help="1-based bands to use, e.g. 4,3,2 (default all)")
    geotiff.add_argument("--nodata_label", type=int, default=255, help="label of nodata pixels (default 255)")
    add_options(geotiff, "batch_size", *TILING, "precision", "uncertainty")
    geotiff.set_defaults(run=run_predict_geotiff, needs_keras=True)

    video = subparsers.add_parser("predict_video", help="segment a video file or a camera")
    video.add_argument("--input", default="0", help="video file, or a camera number (default 0)")
    video.add_argument("--output_file", default=None, help="video to write (optional)")
    video.add_argument("--checkpoints_path", required=True)
    video.add_argument("--display", action="store_true", help="show the frames in a window")
    _add_display_options(video, overlay_default=True)
    video.set_defaults(run=run_predict_video, needs_keras=True)

    evaluate = subparsers.add_parser(
        "evaluate_model",
        help="score a trained model on image/mask pairs",
        description="Prints per-class IoU, accuracy and Dice plus mIoU, frequency-weighted IoU and pixel accuracy. "
        "--ignore_index defaults to the one used in training.",
    )
    evaluate.add_argument("--images_path", required=True)
    evaluate.add_argument("--segs_path", required=True)
    _add_model_source(evaluate)
    add_options(evaluate, "ignore_index", "batch_size", *PREDICTOR)
    evaluate.add_argument("--json", dest="json_path", default=None, help="also write the scores to this JSON file")
    evaluate.add_argument("--report", default=None, metavar="DIR",
                          help="also write an HTML report to DIR/index.html: per-class table, confusion matrix, the "
                          "worst images, training curves, settings (one file, images inline)")
    evaluate.add_argument("--report_images", type=int, default=8, help="worst images shown in --report (default 8)")
    add_options(evaluate, "class_names", "colour_map")
    evaluate.set_defaults(run=run_evaluate, needs_keras=True)


def _add_model_source(parser):
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoints_path", help="the prefix given to train")
    source.add_argument("--model", dest="model_path", default=None, metavar="PATH",
                        help="an exported model (.onnx, .tflite, SavedModel folder, .keras) instead of checkpoints")
    add_options(parser, "engine", parse={"engine": {"choices": RegisteredNames("ENGINES"), "metavar": "ENGINE"}})


def _model(args):
    """The model of ``--checkpoints_path`` or ``--model``, run by ``--engine``."""
    from ..inference.predictor import model_or_checkpoint

    return model_or_checkpoint(args.model_path, args.checkpoints_path, args.engine)


def _add_display_options(parser, overlay_default=False):
    if overlay_default:
        parser.add_argument("--no_overlay", action="store_false", dest="overlay_img", help="colour mask only, no blend")
    else:
        parser.add_argument("--overlay_img", action="store_true", help="blend the colour mask over the image")
    add_options(parser, *DISPLAY)


def run_predict(args):
    from ..inference import predict, predict_multiple

    model = _model(args)
    display = dict(overlay_img=args.overlay_img, **option_values(args, *DISPLAY, *PREDICTOR, "uncertainty"))
    if os.path.isdir(args.input_path):
        results = predict_multiple(
            model, inp_dir=args.input_path, out_dir=args.output_path, colored=args.colored or None,
            batch_size=args.batch_size, shard=args.shard, skip_existing=args.skip_existing, keep_labels=False,
            **display,
        )
        written, kept = results.count(True), results.count(False)
        print(f"wrote {written} prediction(s) to {args.output_path}" + (f", kept {kept} existing" if kept else "")
              + (f"; uncertainty maps and scores in {os.path.join(args.output_path, 'uncertainty')}"
                 if args.uncertainty else ""))
        if None in results:
            return 1  # the unreadable files were listed in a warning
    else:
        predict(model, inp=args.input_path, out_fname=args.output_path, **display)
        stem = os.path.splitext(args.output_path)[0]
        print(f"wrote {args.output_path}" + (f", {stem}_uncertainty.png and .tif" if args.uncertainty else ""))
    return 0


def run_predict_geotiff(args):
    from ..inference.geo import predict_geotiff, uncertainty_path

    written = predict_geotiff(  # loads the model itself, after checking the options
        args.model_path, inp=args.input_path, out_fname=args.output_path, checkpoints_path=args.checkpoints_path,
        bands=args.bands, nodata_label=args.nodata_label,
        **option_values(args, "engine", "batch_size", *TILING, "precision", "uncertainty"),
    )
    print(f"wrote {written}" + (f" and {uncertainty_path(written)}" if args.uncertainty else ""))
    return 0


def run_predict_video(args):
    from ..inference import predict_video

    frames = predict_video(
        inp=args.input,
        output=args.output_file,
        checkpoints_path=args.checkpoints_path,
        display=args.display,
        overlay_img=args.overlay_img,
        **option_values(args, *DISPLAY),
    )
    print(f"processed {frames} frame(s)" + (f", wrote {args.output_file}" if args.output_file else ""))
    return 0


def run_evaluate(args):
    from ..evaluation import evaluate, format_scores, scores_to_json

    scores = evaluate(
        args.model_path,
        inp_images_dir=args.images_path,
        annotations_dir=args.segs_path,
        checkpoints_path=args.checkpoints_path,
        report_dir=args.report,
        report_images=args.report_images,
        **option_values(args, "engine", "ignore_index", "class_names", "colour_map", "batch_size", *PREDICTOR),
    )
    print(format_scores(scores, class_names=args.class_names))
    if args.report:
        print(f"wrote {os.path.join(args.report, 'index.html')}")
    if args.json_path:
        from ..atomic import atomic_write_text

        atomic_write_text(args.json_path, json.dumps(scores_to_json(scores), indent=2))
        print(f"wrote {args.json_path}")
    return 0

