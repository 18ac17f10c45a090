"""Video: segment a video file or a camera, frame by frame.

Example:
    >>> predict_video(checkpoints_path="ckpt/vgg_unet_1", inp="drive.mp4", output="drive_seg.avi")
"""

import os

import cv2

from ..data.visualize import visualize_segmentation
from ..errors import SegmentationError
from .predictor import Predictor, model_or_checkpoint, painting_colors


def predict_video(
    model=None,
    inp=None,
    output=None,
    checkpoints_path=None,
    display=False,
    overlay_img=True,
    class_names=None,
    show_legends=False,
    colors=None,
    prediction_width=None,
    prediction_height=None,
    *,
    preprocessing=None,
):
    """Segment a video file or camera (``inp`` an int or a digit string like ``"0"``); returns the frame count.

    ``output`` (optional) is the path of the video written (XVID for ``.avi``,
    mp4v otherwise), at the prediction size when given, else the source size. ``colors``: as :func:`predict`'s.
    """
    model = model_or_checkpoint(model, checkpoints_path)
    colors = painting_colors(model, colors)
    source = 0 if inp is None else int(inp) if isinstance(inp, str) and inp.isdigit() else inp
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise SegmentationError(f"{source}: cannot open the video (file missing or camera unavailable)")
    writer, frames = None, 0
    predictor = Predictor(model, preprocessing=preprocessing, batch_size=1, workers=1)
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            result = next(predictor.run([frame]))
            shown = visualize_segmentation(
                result.labels, frame, n_classes=model.n_classes, colors=colors, class_names=class_names,
                overlay_img=overlay_img, show_legends=show_legends,
                prediction_width=prediction_width, prediction_height=prediction_height,
            )
            if output and writer is None:
                fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
                codec = "XVID" if str(output).lower().endswith(".avi") else "mp4v"
                writer = cv2.VideoWriter(os.fspath(output), cv2.VideoWriter_fourcc(*codec), fps, shown.shape[1::-1])
            if writer is not None:
                writer.write(shown)
            if display:
                cv2.imshow("keras_segmentation", shown)
                if cv2.waitKey(1) & 0xFF == ord("q"):
                    break
            frames += 1
    finally:
        capture.release()
        if writer is not None:
            writer.release()
        if display:
            cv2.destroyAllWindows()
    return frames

