"""The demo job (``make demo`` / ``keras_segmentation demo``): the whole workflow on synthetic data.

Steps: generate the demo dataset (:mod:`keras_segmentation.data.demo`), verify
it, write previews, train a small model with checkpoints, evaluate it on the test
split and write colour overlays of its predictions.

Example:
    >>> run = run_demo("demo_output", epochs=5)
    >>> round(run.scores["mean_IU"], 2)
    0.9
"""

import os
import time
from dataclasses import dataclass

from .data.demo import make_demo_dataset


@dataclass
class DemoRun:
    """What :func:`run_demo` produced, and where."""

    out_dir: str
    dataset: object
    train_report: object
    visualize_dir: str
    checkpoints_path: str
    predictions_dir: str
    scores: dict
    seconds: float


def run_demo(out_dir="demo_output", *, seed=0, n_train=200, n_test=50, height=128, width=128, epochs=5,
             model_name="unet_mini", train=True, log=None):
    """Run the demo; returns a :class:`DemoRun` (``scores`` is empty when ``train=False``).

    Args:
        model_name: a registered model name (built at the demo's image size, no pretrained weights).
        train: ``False`` stops after generating, verifying and previewing the data.
        log: optional callable receiving one progress line per step (the CLI passes ``print``).
    """
    from .data.preview import visualize_dataset
    from .data.verify import verify_dataset

    started = time.perf_counter()
    say = log or (lambda message: None)
    out_dir = os.fspath(out_dir)
    say(f"generating {n_train} training and {n_test} test images ({width}x{height}) in {out_dir}/data")
    dataset = make_demo_dataset(os.path.join(out_dir, "data"), n_train, n_test, height, width, seed)
    say("verifying the dataset")
    train_report = verify_dataset(dataset.train_images, dataset.train_annotations, dataset.n_classes)
    train_report.raise_for_problems()
    verify_dataset(dataset.test_images, dataset.test_annotations, dataset.n_classes).raise_for_problems()
    visualize_dir = os.path.join(out_dir, "visualize")
    say(f"writing previews to {visualize_dir}")
    visualize_dataset(
        dataset.train_images, dataset.train_annotations, dataset.n_classes, visualize_dir,
        class_names=dataset.class_names, max_images=8,
    )
    checkpoints_path = os.path.join(out_dir, "checkpoints", model_name)
    predictions_dir = os.path.join(out_dir, "predictions")
    scores = {}
    if train:
        scores = _train_evaluate_predict(dataset, model_name, height, width, epochs, seed, checkpoints_path, predictions_dir, say)
    return DemoRun(out_dir, dataset, train_report, visualize_dir, checkpoints_path, predictions_dir, scores,
                   time.perf_counter() - started)


def _train_evaluate_predict(dataset, model_name, height, width, epochs, seed, checkpoints_path, predictions_dir, say):
    import keras

    from .evaluation.evaluate import evaluate
    from .inference.predict import predict_multiple
    from .models import registry

    keras.utils.set_random_seed(seed)
    model = registry.model_from_name[model_name](
        dataset.n_classes, input_height=height, input_width=width, encoder_weights=None
    )
    say(f"training {model_name} for {epochs} epochs (checkpoints: {checkpoints_path}.*)")
    model.train(
        train_images=dataset.train_images,
        train_annotations=dataset.train_annotations,
        val_images=dataset.test_images,
        val_annotations=dataset.test_annotations,
        checkpoints_path=checkpoints_path,
        epochs=epochs,
        batch_size=8,
        learning_rate=1e-3,
        lr_schedule="cosine",
        loss="ce+dice",
        class_names=dataset.class_names,
        seed=seed,
        verify_dataset=False,  # verified above
        verbose=2,
    )
    say("evaluating on the test split")
    scores = evaluate(
        model, inp_images_dir=dataset.test_images, annotations_dir=dataset.test_annotations, progress=False
    )
    say(f"writing colour overlays to {predictions_dir}")
    predict_multiple(model, inp_dir=dataset.test_images, out_dir=predictions_dir, overlay_img=True,
                     show_legends=True, batch_size=8, progress=False)
    return scores
