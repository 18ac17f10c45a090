"""Presets on the Hugging Face Hub: ``hf://org/name`` downloads, :func:`push_to_hub` uploads (the ``[hub]`` extra).

``huggingface_hub`` is imported only here, when a download or an upload is asked for; without it, or when
the Hub cannot be reached, the error is one line naming the repository.

Example:
    >>> push_to_hub("presets/roads", "my-org/roads")         # doctest: +SKIP
    'https://huggingface.co/my-org/roads'
    >>> download_preset("hf://my-org/roads")                 # doctest: +SKIP
    '/home/me/.cache/huggingface/hub/models--my-org--roads/snapshots/1a2b...'
"""

import os
import re

from ..checkpoints.preset_folder import check_preset
from ..errors import PresetError

HF_PREFIX = "hf://"
INSTALL = "pip install 'keras-segmentation[hub]'"
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


def is_hub_source(source):
    """True for an ``hf://org/name`` source."""
    return isinstance(source, str) and source.startswith(HF_PREFIX)


def download_preset(source):
    """The local folder (the Hub's cache) of the preset ``hf://org/name``.

    Raises:
        PresetError: a malformed source, no huggingface_hub, or a failed download (no network, no such repository).
    """
    repo_id = _repo_id(source[len(HF_PREFIX):], source)
    hub = _hub(f"{source}: downloading a preset")
    try:
        return hub.snapshot_download(repo_id=repo_id)
    except Exception as err:  # noqa: BLE001 - whatever the Hub client raises, the user gets one line
        raise PresetError(f"{source}: download failed ({_why(err)}); check the name and the network, or give the "
                          "path of a downloaded preset folder") from None


def push_to_hub(preset_dir, repo_id, *, private=False, token=None, commit_message="Upload keras-segmentation preset"):
    """Upload the preset folder ``preset_dir`` to the Hub model repository ``repo_id`` (made if missing); returns its URL.

    ``token`` defaults to huggingface_hub's own (``HF_TOKEN``, ``huggingface-cli login``).

    Raises:
        PresetError: ``preset_dir`` is not a preset, a malformed ``repo_id``, no huggingface_hub, or a failed upload.
    """
    check_preset(preset_dir)
    repo_id = _repo_id(repo_id, f"push_to_hub {repo_id}")
    hub = _hub(f"push_to_hub {repo_id}")
    try:
        api = hub.HfApi(token=token)
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(repo_id=repo_id, folder_path=os.fspath(preset_dir), commit_message=commit_message)
    except Exception as err:  # noqa: BLE001 - whatever the Hub client raises, the user gets one line
        raise PresetError(f"push_to_hub {repo_id}: upload failed ({_why(err)}); check the repository id, your token "
                          "(huggingface-cli login) and the network") from None
    return str(url)


def _repo_id(repo_id, what):
    if not isinstance(repo_id, str) or not _REPO_ID.fullmatch(repo_id):
        raise PresetError(f"{what}: a Hub repository is named org/name (hf://org/name)")
    return repo_id


def _hub(what):
    try:
        import huggingface_hub
    except ImportError:
        raise PresetError(f"{what} needs huggingface_hub: {INSTALL}") from None
    return huggingface_hub


def _why(err):
    from ..checkpoints.load import load_error_message  # the one-line summary of a library's exception

    return load_error_message(err)
