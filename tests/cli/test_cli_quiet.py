"""The command line hides TensorFlow's native start-up log lines (I0000 ..., cuInit, oneDNN) and OpenCV's
unless --debug.

The real-process tests run ``python -m keras_segmentation`` without ``TF_CPP_MIN_LOG_LEVEL`` (as a user
would), on a tiny dataset; the rest check the line filter itself on lines TensorFlow 2.21 printed here.
"""

import os
import re
import subprocess
import sys

import pytest

from keras_segmentation import native_logs
from keras_segmentation.native_logs import LogLineFilter, log_level

#: What TensorFlow's C++ code writes: absl/glog lines, absl's pre-init notice, the oneDNN and CPU notices.
NOISE = re.compile(
    r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+|absl::InitializeLog|oneDNN custom operations|cuInit|"
    r"cpu_feature_guard|^To enable the following instructions",
    re.MULTILINE,
)

#: stderr of `import tensorflow` and one training step with TensorFlow 2.21 on a CPU machine.
TF_STDERR = b"""\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796098418.037605    3708 port.cc:153] oneDNN custom operations are on. You may see slightly different \
numerical results due to floating-point round-off errors from different computation orders. To turn them off, set the \
environment variable `TF_ENABLE_ONEDNN_OPTS=0`.
I0000 00:00:1796098418.037861    3708 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
I0000 00:00:1796098418.071877    3708 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available \
CPU instructions in performance-critical operations.
To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the appropriate \
compiler flags.
E0000 00:00:1796098424.738984    3748 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed call \
to cuInit: UNKNOWN ERROR (303)
I0000 00:00:1796098426.303068    3812 service.cc:153] XLA service 0x7f1b4803d6b0 initialized for platform Host
I0000 00:00:1796098426.303101    3812 service.cc:161]   StreamExecutor [0]: Host, Default Version
2024-01-31 12:00:00.123456: I tensorflow/core/util/port.cc:113] oneDNN custom operations are on.
"""


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_SEGMENTATION_DEBUG")}
    env.update(PYTHONIOENCODING="utf-8", **extra)
    return env


def _cli(*args, env=None):
    command = [sys.executable, "-m", "keras_segmentation", *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, env=env or _env(), timeout=600, check=False)
    return done.returncode, done.stdout, done.stderr


# ------------------------------------------------------------ real processes
def test_train_and_predict_print_no_tensorflow_start_up_lines_but_keep_ours(tmp_path, tiny_dataset):
    images, masks = tiny_dataset
    ckpt = tmp_path / "ck" / "mini"
    code, out, err = _cli("train", "--model_name", "unet_mini", "--n_classes", 3, "--input_height", 32,
                          "--input_width", 48, "--train_images", images, "--train_annotations", masks,
                          "--checkpoints_path", ckpt, "--epochs", 1, "--batch_size", 3, "--workers", 1)
    assert code == 0, err
    assert NOISE.findall(out + err) == []
    assert "2/2" in out and "loss:" in out, "Keras' progress still shows"
    assert os.path.isfile(f"{ckpt}.00001.weights.h5")

    # A folder with one unreadable image: the CLI's warning line still reaches stderr, alone.
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    code, out, err = _cli("predict", "--checkpoints_path", ckpt, "--input_path", images,
                          "--output_path", tmp_path / "out")
    assert code == 1 and "wrote 6 prediction(s)" in out
    assert NOISE.findall(out + err) == []
    (line,) = err.strip().splitlines()
    assert line.startswith("warning: skipped 1 unreadable input(s)") and "broken.png" in line


@pytest.mark.slow  # > 20 s: in CI's slow stage, keeping make test under 12 minutes
def test_debug_and_a_user_log_level_leave_tensorflow_lines_alone():
    # Whatever `import tensorflow` prints on this machine without any filter.
    plain = subprocess.run([sys.executable, "-c", "import tensorflow as tf; tf.zeros(1) + 1"],
                           capture_output=True, text=True, env=_env(), timeout=600, check=False)
    expected = NOISE.findall(plain.stderr)
    args = ["models", "--names", "unet_mini", "--n_classes", 3]  # imports TensorFlow and builds a model
    code, out, err = _cli(*args, "--debug")
    assert code == 0, err
    assert "unet_mini" in out
    if expected:
        assert NOISE.findall(err), "--debug shows TensorFlow's lines"
        code, _, err = _cli(*args, env=_env(TF_CPP_MIN_LOG_LEVEL="0"))
        assert code == 0 and NOISE.findall(err), "TF_CPP_MIN_LOG_LEVEL=0 is honoured"
    code, _, err = _cli(*args)
    assert code == 0 and NOISE.findall(err) == []


def test_the_python_api_hides_tensorflow_start_up_lines_unless_debug():
    code = (
        "import os, numpy as np\n"
        "import keras_segmentation\n"
        "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))\n"
        "from keras_segmentation.models.unet import unet_mini\n"
        "model = unet_mini(n_classes=3, input_height=32, input_width=48)\n"
        "print(model.predict_segmentation(inp=np.zeros((32, 48, 3), np.uint8)).shape)\n"
    )

    def python(**env):
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(**env),
                              timeout=600, check=False)

    quiet, shown = python(), python(KERAS_SEGMENTATION_DEBUG="1")
    assert quiet.returncode == 0 and shown.returncode == 0, quiet.stderr + shown.stderr
    assert NOISE.findall(quiet.stderr) == [], quiet.stderr
    assert quiet.stdout.splitlines() == ["3", "(32, 48)"] and shown.stdout.splitlines() == ["None", "(32, 48)"]
    mine = subprocess.run([sys.executable, "-c", "import os, keras_segmentation; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"],
                          capture_output=True, text=True, env=_env(TF_CPP_MIN_LOG_LEVEL="1"), timeout=60, check=True)
    assert mine.stdout.strip() == "1", "a level the user set is left alone"


def test_a_corrupt_image_is_one_error_line_without_opencvs_own_lines(tmp_path, tiny_dataset):
    images, masks = tiny_dataset
    (images / "img_000.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    args = ["visualize_dataset", "--images_path", images, "--segs_path", masks, "--n_classes", 3,
            "--out_dir", tmp_path / "previews"]
    code, _, err = _cli(*args)
    assert code == 2 and err.splitlines() == [
        f"error: {images / 'img_000.png'}: not a readable image (corrupt, truncated or not an image file)"
    ]
    code, _, err = _cli(*args, "--debug")
    assert code != 0 and "Traceback" in err
    if "grfmt_png" in err:  # what OpenCV prints by itself (4.x)
        code, _, err = _cli(*args, env=_env(OPENCV_LOG_LEVEL="WARNING"))
        assert "grfmt_png" in err, "a user's OPENCV_LOG_LEVEL is honoured"


def test_the_filter_works_on_the_file_descriptor_and_python_output_bypasses_it():
    code = (
        "import os, sys\n"
        "from keras_segmentation.native_logs import filtered_stderr\n"
        "with filtered_stderr(3):\n"
        f"    os.write(2, {TF_STDERR!r})\n"
        "    os.write(2, b'a native line of another library\\n')\n"
        "    print('warning: from python', file=sys.stderr)\n"
        "    os.write(2, b'F0000 00:00:1.5    7 check.cc:1] Check failed: fatal shows\\ncontinued\\n')\n"
        "print('error: after the block', file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=_env(), timeout=120, check=False)
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert NOISE.findall(err.replace("F0000 00:00:1.5", "")) == [], err
    assert sorted(err.splitlines()) == sorted([
        "a native line of another library",
        "warning: from python",
        "F0000 00:00:1.5    7 check.cc:1] Check failed: fatal shows",
        "continued",
        "error: after the block",
    ])
    assert err.endswith("error: after the block\n"), "everything is flushed when the block ends"


# ------------------------------------------------------------ the line filter
def test_filter_drops_every_line_of_tensorflow_start_up_at_the_default_level():
    line_filter = LogLineFilter(native_logs.DEFAULT_LEVEL)
    assert line_filter.feed(TF_STDERR) + line_filter.close() == b""


def test_filter_keeps_lines_at_or_above_the_level():
    line_filter = LogLineFilter(2)
    kept = (line_filter.feed(TF_STDERR) + line_filter.close()).decode().splitlines()
    assert len(kept) == 1 and kept[0].startswith("E0000") and "cuInit" in kept[0]


def test_filter_keeps_other_lines_and_holds_only_what_may_be_a_log_line():
    line_filter = LogLineFilter(3)
    assert line_filter.feed(b"warning: ours\nprogress 10%") == b"warning: ours\nprogress 10%"
    assert line_filter.feed(b"I0000 00:00:17") == b"", "could be a log line: wait for its end"
    assert line_filter.feed(b"96098418.037605 3708 port.cc:153] oneDNN\n") == b""
    assert line_filter.feed(b"W0000 00:00:1.1 9 x.cc:1] unfinished") == b""
    assert line_filter.close() == b""
    assert line_filter.feed(b"Input 3\n") == b"Input 3\n"


def test_only_known_continuation_lines_go_with_a_dropped_line():
    line_filter = LogLineFilter(3)
    assert line_filter.feed(b"I0000 00:00:1.5 1 a.cc:2] first\nanother library's line\n") == b"another library's line\n"
    assert line_filter.feed(b"W0000 00:00:1.5 1 gpu_device.cc:2] Cannot dlopen some GPU libraries.\n") == b""
    assert line_filter.feed(b"Skipping registering GPU devices...\n") == b""
    text = b"ours\nTo enable the following instructions: not after a log line\n"
    assert line_filter.feed(text) == text


@pytest.mark.parametrize("value, level", [(None, 3), ("0", 0), ("1", 1), ("3", 3), ("verbose", 0)])
def test_log_level_honours_the_users_tf_cpp_min_log_level(value, level):
    environ = {} if value is None else {"TF_CPP_MIN_LOG_LEVEL": value}
    assert log_level(environ) == level


def test_quiet_native_logs_sets_the_level_only_when_the_user_did_not(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    with native_logs.quiet_native_logs():
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ, "restored for a caller in the same process"
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    with native_logs.quiet_native_logs():
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"
