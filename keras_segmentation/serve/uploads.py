"""An uploaded image: the request's bytes within the limits, its format from its first bytes, read as predict reads.

The image comes as the raw request body or as the multipart field ``file``. Its bytes go to a temporary file
that the library's own readers read (:mod:`keras_segmentation.data.images` and
:mod:`keras_segmentation.data.normalization`: the same decoder, channel rule, resize and normalisation as
``predict``), after its header says it is within the pixel limit. Every refusal
is a one-line :class:`~keras_segmentation.errors.ServeError` carrying its HTTP status.

Example:
    >>> data, name = await read_request(request, max_bytes=20_000_000)     # doctest: +SKIP
    >>> image, model_input = read_upload(data, served, max_pixels=40_000_000, name=name)
"""

import os
import tempfile

from ..data.rasters import read_image_size
from ..errors import ChannelMismatchError, ImageReadError, SegmentationError, ServeError

#: First bytes -> the file suffix the library's readers know that format by.
SIGNATURES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg", b"II*\x00": ".tif", b"MM\x00*": ".tif",
              b"II+\x00": ".tif", b"MM\x00+": ".tif", b"BM": ".bmp", b"\x93NUMPY": ".npy"}
#: The multipart field that holds the image.
FILE_FIELD = "file"


async def read_request(request, max_bytes):
    """``(bytes, name)`` of the image a Starlette ``request`` carries (raw body, or multipart field ``file``).

    Raises:
        ServeError: 413 for more than ``max_bytes``, 400 for a multipart upload without ``file``.
    """
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise too_large(int(length), max_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large(size, max_bytes)
        chunks.append(chunk)
    body = b"".join(chunks)
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return body, "the request body"
    return await _multipart_file(request, body)


def read_upload(data, served, max_pixels, name="the upload"):
    """``(image, model input)`` of the image file ``data`` (bytes) for the :class:`ServedModel` ``served``.

    Raises:
        ServeError: 400 for an empty or unreadable upload, 415 for a format the readers do not know,
            413 for more than ``max_pixels`` pixels, 422 for a channel count the model does not take.
    """
    if not data:
        raise ServeError(f"{name}: empty; send a PNG, JPEG or TIFF image as the request body or as the multipart "
                         f"field '{FILE_FIELD}'", 400)
    suffix = next((suffix for magic, suffix in SIGNATURES.items() if data.startswith(magic)), None)
    if suffix is None:
        raise ServeError(f"{name}: not an image the server reads (PNG, JPEG, TIFF, BMP or .npy, by its first bytes)", 415)
    with tempfile.TemporaryDirectory(prefix="keras_segmentation_upload_") as folder:
        path = os.path.join(folder, "upload" + suffix)
        with open(path, "wb") as handle:
            handle.write(data)
        try:
            height, width = read_image_size(path)  # from the header: a huge image is refused before it is decoded
        except ImageReadError:
            raise ServeError(f"{name}: starts as a {suffix[1:].upper()} file but its header is unreadable (truncated or "
                             "damaged); send the whole file", 400) from None
        if height * width > max_pixels:
            raise ServeError(f"{name}: {width}x{height} is {height * width:,} pixels, more than this server's limit of "
                             f"{max_pixels:,}; send a smaller image", 413)
        try:
            return served.prepare(path)
        except (SegmentationError, OSError) as err:
            status = 422 if isinstance(err, ChannelMismatchError) else 400
            raise ServeError(" ".join(str(err).replace(path, name).split()), status) from None


async def _multipart_file(request, body):
    from starlette.datastructures import UploadFile
    from starlette.requests import Request

    async def replay():
        return {"type": "http.request", "body": body, "more_body": False}

    async with Request(request.scope, replay).form(max_files=1, max_fields=16) as form:
        upload = form.get(FILE_FIELD)
        if not isinstance(upload, UploadFile):
            raise ServeError(f"multipart upload without a file field '{FILE_FIELD}'; send the image as "
                             f"-F {FILE_FIELD}=@image.png", 400)
        return await upload.read(), repr(upload.filename or FILE_FIELD)


def too_large(size, max_bytes, name="the upload", advice="send a smaller image"):
    """The 413 :class:`ServeError` for ``name`` of ``size`` bytes or more, above ``max_bytes``."""
    return ServeError(f"{name} is {size:,} bytes or more, more than this server's limit of {max_bytes:,}"
                      + (f"; {advice}" if advice else ""), 413)
