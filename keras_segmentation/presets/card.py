"""The model card: a preset's ``README.md`` (what the model is, its classes, data, scores, how to use it, limits).

It is written from the preset's own files, so it says nothing they do not hold; the
front matter lets the Hugging Face Hub list the model under image segmentation.

Example:
    >>> text = model_card("roads", config, preprocessor, metadata, plan, fingerprint, scores)   # doctest: +SKIP
    >>> text.splitlines()[7]                                                                    # doctest: +SKIP
    '# roads'
"""

FRONT_MATTER = """---
library_name: keras-segmentation
pipeline_tag: image-segmentation
tags:
- keras
- image-segmentation
---
"""


def model_card(name, config, preprocessor, metadata, plan=None, fingerprint=None, scores=None):
    """The Markdown model card of the preset ``name`` from the contents of its files (dicts; ``None`` where absent)."""
    classes = metadata["classes"]
    sections = [
        FRONT_MATTER,
        f"# {name}\n",
        _summary(config, preprocessor, metadata),
        "## Classes\n\n" + _class_table(classes, scores),
        "## Training data\n\n" + _data(fingerprint, classes, plan),
        "## Scores\n\n" + _scores(scores),
    ]
    if plan:
        from ..autofit.plan import plan_table

        sections.append("## Training plan\n\nThe decisions `fit` made, and why:\n\n```text\n" + plan_table(plan) + "\n```\n")
    sections += ["## How to use\n\n" + _usage(name),
                 "## Limitations\n\n" + _limitations(config, preprocessor, fingerprint, scores)]
    return "\n".join(sections)


def _summary(config, preprocessor, metadata):
    size = f"{config['input_height']}x{config['input_width']}" if config["input_height"] else "any size"
    normalization = preprocessor["normalization"]
    return (f"A semantic segmentation model for [keras-segmentation](https://github.com/keras-segmentation/"
            f"keras-segmentation): `{config['model_class'] or 'custom'}`, {metadata['parameter_count']:,} parameters, "
            f"{size} input with {config['channels']} channel(s) ({preprocessor['channel_order']}), "
            f"{config['n_classes']} classes. Images are normalised with `{normalization['name']}` (network input = "
            f"pixels x scale + offset, in {normalization['network_channel_order']} order; see `preprocessor.json`). "
            f"Saved with keras-segmentation {metadata['keras_segmentation_version']} and Keras "
            f"{metadata['keras_version']}.\n")


def _class_table(classes, scores):
    iou = ((scores or {}).get("evaluation") or {}).get("class_wise_IU") or []
    rows = ["| id | name | colour |" + (" IoU |" if iou else ""), "|---:|---|---|" + ("---:|" if iou else "")]
    for entry in classes:
        colour = "#{:02x}{:02x}{:02x}".format(*entry["color"])
        row = f"| {entry['id']} | {entry['name'] if entry['name'] is not None else '(no name)'} | `{colour}` |"
        if iou:
            value = iou[entry["id"]] if entry["id"] < len(iou) else None
            row += f" {_percent(value)} |"
        rows.append(row)
    return "\n".join(rows) + "\n"


def _data(fingerprint, classes, plan):
    if not fingerprint:
        return "Not recorded: the preset was saved from a model, not from a `fit` run folder.\n"
    from ..autofit.fingerprint import data_report

    names = [entry["name"] if entry["name"] is not None else str(entry["id"]) for entry in classes]
    names += [str(c) for c in range(len(names), len(fingerprint.get("class_pixel_share", [])))]
    void = (plan or {}).get("void", {}).get("value", fingerprint.get("void"))
    return "```text\n" + data_report(fingerprint, names, "the training folder", void) + "\n```\n"


def _scores(scores):
    if not scores:
        return "Not recorded: give `scores=` (for example `evaluate(...)`'s result) or save from a `fit` run folder.\n"
    lines = []
    fit = scores.get("fit") or {}
    if fit.get("val_mIoU") is not None:
        tta = " with flip test-time augmentation" if (fit.get("flip_tta") or {}).get("kept") else ""
        every = (f"; the model then trained {fit['epochs_on_every_image']} more epochs on every image, validation "
                 "ones included") if fit.get("epochs_on_every_image") else ""
        lines.append(f"- validation mIoU: {_percent(fit['val_mIoU'])}{tta} (`fit`, best epoch {fit.get('best_epoch')} "
                     f"of {fit.get('epochs')}{every})")
        if fit.get("val_pixel_accuracy") is not None:
            lines.append(f"- validation pixel accuracy: {_percent(fit['val_pixel_accuracy'])}")
    for key, value in (scores.get("evaluation") or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            lines.append(f"- {key}: {_percent(value) if _is_share(key) else value}")
    return ("\n".join(lines) if lines else "See `scores.json`.") + "\n"


def _usage(name):
    return f"""```python
from keras_segmentation import from_preset
model = from_preset("{name}")  # this folder; "hf://<org>/{name}" once pushed to the Hugging Face Hub
labels = model.predict_segmentation(inp="image.png", out_fname="labels.png")
```

From the command line:

```bash
keras_segmentation predict --model {name} --input_path image.png --output_path labels.png
```
"""


def _limitations(config, preprocessor, fingerprint, scores):
    lines = []
    if fingerprint:
        size = fingerprint["image_size"]["median"]
        lines.append(f"- Trained on {fingerprint['n_images']} images (median {size[0]}x{size[1]}, "
                     f"{fingerprint['channels']} channel(s) {fingerprint['dtype']}): expect lower scores on images "
                     "unlike them (other cameras, scales, scenes).")
    else:
        lines.append("- The training data is not recorded here: check the model on your own images first.")
    if config["input_height"]:
        mode = (preprocessor.get("prediction") or {}).get("mode") or "resize"
        how = "resized to" if mode == "resize" else "predicted in tiles of"
        lines.append(f"- Images are {how} {config['input_height']}x{config['input_width']}: objects much smaller than "
                     "in the training images may be missed.")
    lines.append(f"- Images must have {config['channels']} channel(s); every pixel gets one of the "
                 f"{config['n_classes']} classes, even where none fits.")
    if (scores or {}).get("fit"):
        lines.append("- The scores are measured on a validation split of the training data, not on an independent "
                     "test set.")
    return "\n".join(lines) + "\n"


def _percent(value):
    return "-" if value is None else f"{100 * value:.1f} %"


def _is_share(key):
    return any(word in key for word in ("IU", "accuracy", "dice", "frequency"))
