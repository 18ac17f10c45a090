"""Atomic file writes: a file appears complete under its real name, or not at all.

Every file is written to a temporary name in the same folder and renamed into
place, so a crash or a full disk never leaves a half-written file under the real
name: the previous one stays intact. Checkpoints, configs and predictions are
written this way; folders (a SavedModel, a preset) with :func:`atomic_write_folder`.

Example:
    >>> def write(temp):
    ...     with open(temp, "w") as handle:
    ...         handle.write("done")
    >>> atomic_write("/tmp/result.txt", write)
    >>> atomic_write_text("/tmp/result.txt", "done")  # the same, for text
"""

import errno
import os
import re
import shutil

from .errors import OutputWriteError, SegmentationError


def atomic_write(path, write, *, durable=True, advice="{fix}", error_class=OutputWriteError):
    """Call ``write(temp_path)`` then rename the temp file to ``path``.

    The temporary file is in the same folder (so the rename is atomic) and keeps
    ``path``'s suffix (Keras checks it). On any error it is removed and the
    error re-raised; an existing ``path`` is untouched. ``durable`` also flushes
    the file and the folder to disk (checkpoints: survives a power cut).

    Raises:
        OutputWriteError: (an ``OSError``; ``error_class``) the file could not be
            written (a directory in its place, no permission, full disk), naming ``path`` and
            ending with ``advice``, whose ``{fix}`` becomes the fix for the cause (:func:`write_fix`).
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    temp = os.path.join(folder, f".tmp-{os.getpid()}-{name}")
    try:
        write(temp)
        if durable:
            with open(temp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as err:
        if os.path.exists(temp):
            os.remove(temp)
        if isinstance(err, OSError) and not isinstance(err, SegmentationError):
            to_do = advice.replace("{fix}", write_fix(err, path))
            error = error_class(f"{path}: cannot write ({err.strerror or err}); nothing was replaced, {to_do}")
            error.errno = err.errno
            raise error from err
        raise
    if durable:
        _fsync_folder(folder or ".")


def atomic_write_folder(path, write):
    """Call ``write(temp_folder)`` on a sibling folder, then swap it in for ``path``.

    A reader sees the previous folder or the complete new one, never a half-written
    one; the previous folder is removed only after the swap. Whether ``path`` may be
    replaced is the caller's decision.

    Raises:
        OutputWriteError: (an ``OSError``) the folder could not be written, naming ``path``; nothing was replaced.

    Example:
        >>> atomic_write_folder("out/preset", lambda temp: os.makedirs(temp))  # doctest: +SKIP
    """
    path = os.fspath(path).rstrip(os.sep)
    parent, name = os.path.split(path)
    temp = os.path.join(parent, f".tmp-{os.getpid()}-{name}")
    old = os.path.join(parent, f".old-{os.getpid()}-{name}")
    shutil.rmtree(temp, ignore_errors=True)
    try:
        write(temp)
        if os.path.exists(path):
            os.replace(path, old)
        os.replace(temp, path)
    except OSError as err:
        if isinstance(err, SegmentationError):
            raise
        error = OutputWriteError(f"{path}: cannot write ({err.strerror or err}); nothing was replaced, "
                                 f"{write_fix(err, path, folder=True)}")
        error.errno = err.errno
        raise error from err
    finally:
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def file_in_the_way(folder):
    """The file standing where ``folder``, or a folder above it, should be (so it cannot be made), else ``None``.

    Example:
        >>> file_in_the_way("notes.txt/run")  # doctest: +SKIP
        '/home/me/notes.txt'
    """
    path = os.path.abspath(os.fspath(folder))
    while not os.path.lexists(path):
        path = os.path.dirname(path)
    return None if os.path.isdir(path) else path


def write_fix(err, path, *, folder=False):
    """What to do when writing ``path`` (a file, or a ``folder``) failed with the ``OSError`` ``err``.

    Example:
        >>> write_fix(OSError(errno.ENOSPC, "No space left on device"), "out/a.png")
        'free disk space'
    """
    if not folder and (isinstance(err, IsADirectoryError) or os.path.isdir(path)):
        return "move away the directory in its place"
    if isinstance(err, PermissionError):
        return f"fix the permissions of {os.path.dirname(path) or '.'}"
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free disk space"
    return "check the path and the disk"


def atomic_write_text(path, text, **options):
    """:func:`atomic_write` of a text file (UTF-8); ``options`` as for :func:`atomic_write`.

    Example:
        >>> atomic_write_text("/tmp/config.json", json.dumps({"epochs": 5}))
    """
    def write(temp):
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)

    atomic_write(path, write, **options)


def remove_stale_temp_files(prefix):
    """Delete temporary files that a killed process left for names starting with ``prefix``; returns them.

    A file counts as stale when the process id in its name (``.tmp-<pid>-...``) no longer runs.
    """
    folder, stem = os.path.split(os.fspath(prefix))
    pattern = re.compile(r"\.tmp-(\d+)-" + re.escape(stem) + r"[._]")
    removed = []
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return removed
    for name in names:
        match = pattern.match(name)
        if match and not _process_alive(int(match.group(1))):
            path = os.path.join(folder, name)
            os.remove(path)
            removed.append(path)
    return removed


def _process_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _fsync_folder(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not supported on this platform/filesystem; the rename is still atomic
    finally:
        os.close(fd)
