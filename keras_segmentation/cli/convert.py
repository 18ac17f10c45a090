"""``convert`` subcommand: a labelling tool's export -> ``images/``, ``annotations/``, ``classes.txt``, then their check.

The rules of each format are in ``docs/convert.md`` and in :mod:`keras_segmentation.data.convert`.

Example:
    $ keras_segmentation convert --from labelme labelme_jsons/ --out_dir dataset/ --labels labels.txt
    $ keras_segmentation convert --from coco instances_val2017.json --images val2017/ --out_dir coco_val/
"""

#: ``--from`` choices: the keys of ``keras_segmentation.data.convert.CONVERTERS`` (not imported to build the parser).
FORMATS = ("labelme", "coco", "cvat", "voc", "cityscapes")
#: Options passed on to the importer when given (each format takes some: ``data.convert.options_of``).
_OPTIONS = ("labels", "images", "labelmap", "split", "crowd")
#: ``--crowd`` choices: ``keras_segmentation.data.convert.coco.CROWD_RULES``.
CROWD_CHOICES = ("class", "ignore", "skip")


def register(subparsers):
    """Add the ``convert`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "convert",
        help="import labelme, COCO, CVAT, Pascal VOC or Cityscapes annotations as images/ + annotations/ + classes.txt",
        description="Write the export's images, single-channel class-id masks and classes.txt into --out_dir, then "
        "verify them and print the report (void pixels are 255: train with --ignore_index 255). "
        "Exit status: 0 converted and clean, 1 converted with problems in the report, 2 bad input.",
    )
    parser.add_argument(
        "source",
        help="labelme: folder of .json files (or one file); coco: the JSON file; cvat, voc, cityscapes: the export's folder",
    )
    parser.add_argument("--from", dest="source_format", required=True, choices=FORMATS, help="the source format")
    parser.add_argument("--out_dir", required=True, help="folder that gets images/, annotations/ and classes.txt")
    parser.add_argument(
        "--labels",
        help="labelme: the label list, one name per line (class 0 = the first line, the background), or a comma list; "
        "default: the labels in the files, sorted, after 'background'",
    )
    parser.add_argument(
        "--images", help="coco: folder that file_name is relative to (default: the JSON's folder); cvat, voc: "
        "the images folder (default: SOURCE/JPEGImages)",
    )
    parser.add_argument(
        "--labelmap", help="cvat, voc: labelmap.txt (default: SOURCE/labelmap.txt; voc without one: the VOC palette)"
    )
    parser.add_argument(
        "--split", help="cityscapes: gtFine/leftImg8bit split (default train); cvat, voc: only the names in "
        "ImageSets/Segmentation/SPLIT.txt",
    )
    parser.add_argument(
        "--crowd", choices=CROWD_CHOICES,
        help="coco: iscrowd regions get their category (class, the default), 255 (ignore) or nothing (skip)",
    )
    parser.add_argument(
        "--overwrite", action="store_true",
        help="write into an --out_dir that already holds a dataset (files of the same name are replaced)",
    )
    parser.set_defaults(run=run_convert)


def run_convert(args):
    """Convert, print what was written and the verification report; 0 when clean, 1 when it lists problems."""
    from ..data.convert import convert

    options = {name: getattr(args, name) for name in _OPTIONS if getattr(args, name) is not None}
    result = convert(args.source_format, args.source, args.out_dir, overwrite=args.overwrite, **options)
    print(result.format())
    return 0 if result else 1
