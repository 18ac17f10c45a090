"""Why a served label map can differ from ``predict_multiple``'s: the same image in batches of other shapes.

    python bench/serve_parity.py [--model M [--image FILE] | --input 384x480] [--batches 1,2,3,4,8] [--precisions auto,float32]
                                 [--out bench/results/serve_parity.json]

The server (:mod:`keras_segmentation.serve.batcher`) runs whatever requests arrive together in one model call:
a batch of 1 with one client, up to ``max_batch`` under load; ``predict_multiple`` runs two images at a time.
This script takes :mod:`serve_load`'s model (FPN on MobileNetV2, random weights, seed 0; or ``--model``, a
Keras model ``from_preset`` loads) and test image and, for each precision, predicts that image

* as the server reads an upload (:func:`keras_segmentation.serve.uploads.read_upload`, the PNG bytes through a
  temporary file) and as ``predict_multiple`` reads the file: the model inputs must be equal;
* alone, and in batches of N copies of itself, and beside other images (``serve_load.scene_image`` of other
  seeds): the labels and probabilities of the image's slot in each batch, against the batch of 1 and against
  ``predict_multiple``'s file (batch 2 of the same image, its label PNG read back);

and prints the fraction of pixels whose label differs and the largest probability difference. Writes the JSON.
About a minute on 2 cores at the default input.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)

import serve_load  # noqa: E402


def compositions(batches, others):
    """``(name, [0 = the test image, k = other image k])`` per batch composition."""
    rows = [(f"{n} x the image", [0] * n) for n in batches]
    rows += [(f"the image + {k} other{'s' if k > 1 else ''}", [0] + list(range(1, k + 1))) for k in others]
    return rows


def measure(args, work):
    import cv2
    import numpy as np

    import keras_segmentation  # noqa: F401 - before TensorFlow
    from keras_segmentation import from_preset
    from keras_segmentation.inference import predict_multiple
    from keras_segmentation.inference.predictor import Predictor
    from keras_segmentation.models.registry import build_model
    from keras_segmentation.precision import target_precision
    from keras_segmentation.serve.served_model import ServedModel
    from keras_segmentation.serve.uploads import read_upload

    if args.model is None:
        import keras

        keras.utils.set_random_seed(serve_load.SEED)
        decoder, encoder = serve_load.DEFAULT_ARCHITECTURE
        model = build_model(decoder, encoder, serve_load.N_CLASSES, *args.input, encoder_weights=None)
    else:
        model = from_preset(args.model)
    others = max(args.others, default=0)
    if args.image is None:
        serve_load.write_images(os.path.join(work, "images"), *args.image_size, 1)
        image_file = os.path.join(work, "images", sorted(os.listdir(os.path.join(work, "images")))[0])
    else:
        image_file = args.image
        args.image_size = cv2.imread(image_file).shape[:2]
    with open(image_file, "rb") as handle:
        data = handle.read()
    other_files = []
    for k in range(1, others + 1):
        path = os.path.join(work, f"other_{k}.png")
        cv2.imwrite(path, serve_load.scene_image(*args.image_size, seed=serve_load.SEED + k))
        other_files.append(path)
    result = {"image": args.image or "serve_load's scene image",
              "model": args.model or "fpn on mobilenetv2, random weights (seed 0)",
              "input": [model.input_height, model.input_width], "image_size": list(args.image_size),
              "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"), "precisions": []}
    for precision in args.precisions:
        predictor = Predictor(model, batch_size=max(args.batches), precision=precision)
        served = ServedModel(model, max_batch=max(args.batches))
        served.predictor = predictor  # the server's reading path, this precision
        uploaded = read_upload(data, served, max_pixels=10**9)
        image, from_file, error = predictor.prepare(image_file)
        if error is not None:
            raise error
        items = [(image, from_file, None)] + [predictor.prepare(path) for path in other_files]
        out = os.path.join(work, f"predict_multiple_{precision}")
        predict_multiple(model, inps=[image_file] * 2, out_dir=out, precision=precision, progress=False)
        written = cv2.imread(os.path.join(out, sorted(os.listdir(out))[0]), cv2.IMREAD_UNCHANGED)
        rows, single = [], None
        for name, members in compositions(args.batches, args.others):
            start = time.perf_counter()
            first = predictor.predict_prepared([items[m] for m in members], with_probabilities=True)[0]
            seconds = time.perf_counter() - start
            if single is None:
                single = first
            rows.append({
                "batch": name, "size": len(members), "seconds": round(seconds, 3),
                "labels_differ_from_batch_of_1": float((first.labels != single.labels).mean()),
                "labels_differ_from_predict_multiple": float((first.labels != written).mean()),
                "max_prob_diff_from_batch_of_1": float(np.abs(first.probabilities - single.probabilities).max()),
            })
            print(f"{precision:>8} {name:<22} differ from batch 1: {rows[-1]['labels_differ_from_batch_of_1']:.4%}"
                  f"  from predict_multiple: {rows[-1]['labels_differ_from_predict_multiple']:.4%}"
                  f"  max |dprob| {rows[-1]['max_prob_diff_from_batch_of_1']:.2e}", flush=True)
        top2 = np.sort(single.probabilities, -1)[..., -2:]
        result["precisions"].append({
            "precision": precision, "runs_in": target_precision(model, precision),
            "upload_input_equals_file_input": bool(np.array_equal(uploaded[1], from_file)),
            "upload_image_equals_file_image": bool(np.array_equal(uploaded[0], image)),
            "median_top2_margin": float(np.median(top2[..., 1] - top2[..., 0])),
            "rows": rows,
        })
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="a trained model (anything from_preset takes; default: "
                        "serve_load's random FPN-MobileNetV2)")
    parser.add_argument("--input", type=serve_load.size_arg, default=serve_load.size_arg(serve_load.DEFAULT_INPUT))
    parser.add_argument("--image", default=None, help="the test image (a PNG or JPEG file; default: serve_load's "
                        "synthetic street scene at --image-size)")
    parser.add_argument("--image-size", type=serve_load.size_arg, default=(360, 480))
    parser.add_argument("--batches", type=serve_load.counts_arg, default=[1, 2, 3, 4, 8])
    parser.add_argument("--others", type=serve_load.counts_arg, default=[1, 3])
    parser.add_argument("--precisions", default="auto,float32")
    parser.add_argument("--out", default=os.path.join(BENCH, "results", "serve_parity.json"))
    args = parser.parse_args(argv)
    args.precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    if args.batches[0] != 1:
        parser.error("--batches must start with 1 (the reference)")
    work = tempfile.mkdtemp(prefix="serve_parity_")
    try:
        result = measure(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=1)
        handle.write("\n")
    print(json.dumps({p["precision"]: {k: v for k, v in p.items() if k != "rows"} for p in result["precisions"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
