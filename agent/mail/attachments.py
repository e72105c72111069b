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

    def key_for(self, sha256: str) -> str:
        """What a row stores: the path under the root ("ab/ab12..."), so a moved workspace still finds the file."""
        return f"{sha256[:2]}/{sha256}"

    def locate(self, stored: str) -> Path | None:
        """The file a row's stored path names, under this root; None if it names something outside it.

        Rows written before paths were relative hold an absolute path into wherever the workspace was then:
        the file is found by its place in the store (the last two parts), under today's root."""
        path = Path(stored)
        if path.is_absolute():
            path = Path(*path.parts[-2:]) if len(path.parts) >= 2 else Path(path.name)
        if ".." in path.parts or len(path.parts) != 2 or path.parts[0] != path.parts[1][:2]:
            return None
        return self.root / path

    def read(self, stored: str) -> bytes:
        """The bytes of a stored attachment (FileNotFoundError when the store has lost it)."""
        path = self.locate(stored)
        if path is None:
            raise FileNotFoundError(f"not a path in the attachment store: {stored!r}")
        return path.read_bytes()

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
