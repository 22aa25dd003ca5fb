"""Downloads as static files: a page names a file its browser fetches only when clicked.

A download sent with the page (Streamlit's download button given bytes) is fetched by the
browser whenever its button is drawn, to check the link: the studio's card, about 110 KB, on
every pick. One made on click (a callable) is lost when the click comes while the panel reruns,
since the button's callable is dropped with the run. A plain link to a file on the server has
neither cost: it fetches nothing until clicked, and the link drawn by the last run still
downloads while the next run is on its way.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from common.files import atomic_path
from explorer.cache import STATIC_FOLDER, STATIC_URL

DOWNLOAD_FOLDER = STATIC_FOLDER / "downloads"
# the newest files are kept up to this size in all; a link older than that finds nothing
KEPT_BYTES = 64 * 2**20


def download_url(data: bytes, suffix: str, folder: Path = DOWNLOAD_FOLDER, kept_bytes: int = KEPT_BYTES) -> str:
    """The URL of a static file holding `data`, named after its content (128 bits of its
    SHA-256, so no one finds a file they were not shown: a card may hold an uploaded face).
    A file written before is only marked as just used; a new one is written atomically, and the
    least recently used files beyond `kept_bytes` are removed."""
    name = hashlib.sha256(data).hexdigest()[:32] + suffix
    path = folder / name
    try:
        os.utime(path)
    except FileNotFoundError:
        with atomic_path(path) as temporary:
            temporary.write_bytes(data)
        remove_oldest(folder, kept_bytes)
    return f"{STATIC_URL}/{folder.relative_to(STATIC_FOLDER).as_posix()}/{name}"


def remove_oldest(folder: Path, kept_bytes: int) -> None:
    """Remove the least recently used files of `folder` beyond `kept_bytes` in all; files
    being written (dot names) are left alone, and a file another server removed first is
    skipped."""
    files = []
    for path in folder.iterdir():
        try:
            if not path.name.startswith("."):
                files.append((path.stat().st_mtime, path.stat().st_size, path))
        except FileNotFoundError:
            continue
    total = 0
    for _, size, path in sorted(files, reverse=True):
        total += size
        if total > kept_bytes:
            path.unlink(missing_ok=True)
