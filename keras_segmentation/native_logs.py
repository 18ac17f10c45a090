"""Keep native libraries' log lines (TensorFlow's start-up, OpenCV's) off the command line's output.

TensorFlow's (and XLA's) C++ code writes lines like these straight to file descriptor 2::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1796098418.037605    3708 port.cc:153] oneDNN custom operations are on. ...
    I0000 00:00:1796098418.037861    3708 cudart_stub.cc:31] Could not find cuda drivers on your machine, ...
    E0000 00:00:1796098424.738984    3748 cuda_platform.cc:52] failed call to cuInit: ...

``TF_CPP_MIN_LOG_LEVEL=3`` silences only the lines logged after absl's logging is
initialised: the ones ``import tensorflow`` writes while its shared libraries load
(before ``absl::InitializeLog()``) come out at any level (TensorFlow 2.21), and no
environment variable reaches them. So while a command runs, :func:`filtered_stderr`
points descriptor 2 at a small filter process that drops absl/glog-format lines below
the log level and copies everything else to the real
stderr. Python's ``sys.stderr`` (the CLI's ``warning:``/``error:`` lines, progress)
keeps writing to the real stderr directly. A separate process rather than a thread,
so that a fatal message written just before the process aborts still gets through.
OpenCV obeys ``OPENCV_LOG_LEVEL``, so :func:`quiet_native_logs` only sets that.

Only the CLI filters a whole command, and not with ``--debug``: a library must not silence its host
program; the package filters only ``import tensorflow`` (:mod:`keras_segmentation.startup_logs`).

Example:
    >>> with quiet_native_logs():  # doctest: +SKIP
    ...     import tensorflow
"""

import contextlib
import io
import os
import re
import subprocess
import sys

#: An absl/glog line (TensorFlow >= 2.16): severity, MMDD, time, thread id, file:line].
_ABSL_LINE = re.compile(rb"([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] ")
#: TensorFlow's older default log line: "2024-01-31 12:00:00.123456: I tensorflow/...cc:113] ".
_TSL_LINE = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: ([IWEF]) [^ \]]+:\d+\] ")
#: The second lines of TensorFlow's two-line messages (only these: another line after a log line may be anyone's).
_CONTINUATION = re.compile(rb"To enable the following instructions: |Skipping registering GPU devices")
#: absl's notice before its logging is initialised (shown once per shared library).
_PRE_INIT = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}

#: The level used when TF_CPP_MIN_LOG_LEVEL is not set: hide INFO, WARNING and ERROR lines (FATAL shows).
DEFAULT_LEVEL = 3


def log_level(environ=None):
    """The native log level to filter at: the user's ``TF_CPP_MIN_LOG_LEVEL``, else :data:`DEFAULT_LEVEL`.

    Example:
        >>> log_level({}), log_level({"TF_CPP_MIN_LOG_LEVEL": "1"}), log_level({"TF_CPP_MIN_LOG_LEVEL": "x"})
        (3, 1, 0)
    """
    environ = os.environ if environ is None else environ
    value = environ.get("TF_CPP_MIN_LOG_LEVEL")
    if value is None:
        return DEFAULT_LEVEL
    try:
        return int(value)
    except ValueError:
        return 0  # TensorFlow shows everything for a value it cannot read; so do we


class LogLineFilter:
    """Drops native log lines below ``level`` from a byte stream fed in chunks.

    The second line of TensorFlow's known two-line messages goes with its first. An
    unfinished line is held back until its end comes when it could be the start of a
    log line.

    Example:
        >>> f = LogLineFilter(3)
        >>> f.feed(b"I0000 00:00:1796098418.037605    42 cpu_feature_guard.cc:227] This binary is optimized\\n"
        ...        b"To enable the following instructions: AVX2 FMA, rebuild TensorFlow\\n")
        b''
        >>> f.feed(b"E0000 00:00:1796098419.000001    42 cuda_platform.cc:52] failed call to cuInit\\nwarning: ours\\n")
        b'warning: ours\\n'
    """

    def __init__(self, level=DEFAULT_LEVEL):
        self.level = level
        self._pending = b""
        self._dropping = False

    def feed(self, chunk):
        """Return the part of ``chunk`` to show."""
        lines = (self._pending + chunk).split(b"\n")
        self._pending = lines.pop()
        shown = []
        for line in lines:
            if not self._drop(line):
                shown.append(line + b"\n")
        if self._pending and not self._may_be_log_line(self._pending):
            shown.append(self._pending)
            self._pending = b""
        return b"".join(shown)

    def _drop(self, line):
        severity = self._severity(line)
        if severity is not None:
            self._dropping = severity < self.level
            return self._dropping
        if self._dropping and _CONTINUATION.match(line):
            return True
        self._dropping = False
        return self.level >= 1 and line.rstrip(b"\r") == _PRE_INIT

    def close(self):
        """Return what is left at the end of the stream."""
        rest, self._pending = self._pending, b""
        return b"" if rest and self._drop(rest) else rest

    @staticmethod
    def _severity(line):
        """0 (INFO) to 3 (FATAL) for a native log line, None for any other line."""
        match = _ABSL_LINE.match(line) or _TSL_LINE.match(line)
        return _SEVERITY[match.group(1)] if match else None

    @staticmethod
    def _may_be_log_line(partial):
        return partial[:1] in b"IWEF0123456789" or _PRE_INIT.startswith(partial)


def pump(read_fd, write_fd, level):
    """Copy ``read_fd`` to ``write_fd`` through a :class:`LogLineFilter` until end of file."""
    line_filter = LogLineFilter(level)
    while True:
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            break
        _write_all(write_fd, line_filter.feed(chunk))
    _write_all(write_fd, line_filter.close())


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


@contextlib.contextmanager
def quiet_native_logs(tensorflow=True):
    """Hide native libraries' log lines while the block runs; variables the user set are left alone.

    OpenCV: ``OPENCV_LOG_LEVEL=FATAL`` (it otherwise prints ``[ WARN:0@0.03] global
    grfmt_png.cpp:834 ...`` lines for each corrupt image, which the library reports
    itself in one line naming the file). With ``tensorflow``: ``TF_CPP_MIN_LOG_LEVEL=3``,
    so that TensorFlow drops what it can itself, and :func:`filtered_stderr` at the
    user's ``TF_CPP_MIN_LOG_LEVEL`` (else 3) for the rest. Both variables are restored
    when the block ends.
    """
    defaults = {"OPENCV_LOG_LEVEL": "FATAL"}
    if tensorflow:
        defaults["TF_CPP_MIN_LOG_LEVEL"] = str(DEFAULT_LEVEL)
    level = log_level()
    added = [name for name in defaults if name not in os.environ]
    os.environ.update({name: defaults[name] for name in added})
    try:
        with filtered_stderr(level) if tensorflow else contextlib.nullcontext():
            yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@contextlib.contextmanager
def filtered_stderr(level):
    """Within the block, native log lines below ``level`` written to descriptor 2 are dropped.

    Does nothing for ``level < 1``, or where no filter process can be started (the
    lines then show, as without the filter).
    """
    if level < 1 or not sys.executable:
        yield
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    real_stderr = None
    try:
        real_stderr = os.dup(2)
        process = subprocess.Popen(
            [sys.executable, "-I", "-S", os.path.abspath(__file__), str(level)],
            stdin=subprocess.PIPE,
            stdout=real_stderr,
            stderr=real_stderr,
            start_new_session=os.name == "posix",  # Ctrl-C stops the command, not the filter
        )
    except OSError:  # no descriptor 2, or no Python to run the filter: show everything
        if real_stderr is not None:
            os.close(real_stderr)
        yield
        return
    os.dup2(process.stdin.fileno(), 2)
    python_stderr = sys.stderr
    if _writes_to_fd(python_stderr, 2):  # Python's own writes skip the filter
        # Its own descriptor: a logging handler made meanwhile keeps this stream after the block ends.
        sys.stderr = io.TextIOWrapper(
            io.FileIO(os.dup(real_stderr), "w", closefd=True),
            encoding=python_stderr.encoding,
            errors=python_stderr.errors,
            line_buffering=True,
            write_through=True,
        )
    try:
        yield
    finally:
        if sys.stderr is not python_stderr:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            sys.stderr = python_stderr
        os.dup2(real_stderr, 2)
        process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)  # the filter has written all it got (a child process may hold the pipe)
        os.close(real_stderr)


def _writes_to_fd(stream, fd):
    try:
        return stream.fileno() == fd
    except (AttributeError, OSError, ValueError):
        return False


if __name__ == "__main__":  # the filter process started by filtered_stderr
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the filter ends when the command closes its stderr
    pump(0, 1, int(sys.argv[1]))
