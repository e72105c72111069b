"""Attachments on disk by content hash, under names that cannot escape a folder or hide control bytes."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

MAX_NAME_LENGTH = 150
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_DEFAULT_NAME = "attachment"


def sanitize_filename(name: str | None, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """A display name safe to show and to use as a file name: no folders, no control bytes, bounded length."""
    text = unicodedata.normalize("NFC", name or "")
    # Bidi overrides and zero-width characters hide an ".exe" behind a harmless-looking name.
    text = "".join(c for c in text if unicodedata.category(c) not in {"Cc", "Cf", "Cs", "Co"})
    # Both separators: a Windows-made "..\\..\\x" is as dangerous as a POSIX one once copied elsewhere.
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text).strip().strip(".").strip()
    if not text:
        return _DEFAULT_NAME
    if len(text) > max_length:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 16 and stem:
            text = stem[: max_length - len(ext) - 1].rstrip() + "." + ext
        else:
            text = text[:max_length]
    return text


class AttachmentStore:
    """Files named by their sha256, so the same letter attached to ten replies is stored once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, payload: bytes) -> tuple[str, Path]:
        """Store payload (idempotent) and return (sha256, path); written to a temp name then renamed."""
        digest = hashlib.sha256(payload).hexdigest()
        path = self.path_for(digest)
        if path.exists() and path.stat().st_size == len(payload):
            return digest, path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{digest}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return digest, path
