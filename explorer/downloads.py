"""Downloads as static files: a page names a file its browser fetches only when clicked.

A download sent with the page (Streamlit's download button given bytes) is fetched by the
browser whenever its button is drawn, to check the link: the studio's card, about 110 KB, on
every pick. One made on click (a callable) is lost when the click comes while the panel reruns,
since the button's callable is dropped with the run. A plain link to a file on the server has
neither cost: it fetches nothing until clicked, and the link drawn by the last run still
downloads while the next run is on its way.

The link is drawn by a small component (`st.components.v2`, like the face picker, whose code a
page loads anyway): drawn as HTML in Markdown it made a cold page load Streamlit's HTML parser
for Markdown (rehype-raw, about 200 KB of JavaScript) before its first pictures, and `st.html`
its sanitiser.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import streamlit as st

from common.files import atomic_path
from explorer.cache import STATIC_FOLDER, STATIC_URL
from explorer.picker import button_css

DOWNLOAD_FOLDER = STATIC_FOLDER / "downloads"
# the newest files are kept up to this size in all; a link older than that finds nothing
KEPT_BYTES = 64 * 2**20


def download_url(data: bytes, suffix: str) -> str:
    """The URL of a static file holding `data`, named after its content (128 bits of its
    SHA-256, so no one finds a file they were not shown: a card may hold an uploaded face).
    A file written before is only marked as just used; a new one is written atomically, and the
    least recently used files beyond KEPT_BYTES are removed."""
    name = hashlib.sha256(data).hexdigest()[:32] + suffix
    path = DOWNLOAD_FOLDER / name
    try:
        os.utime(path)
    except FileNotFoundError:
        with atomic_path(path) as temporary:
            temporary.write_bytes(data)
        remove_oldest(DOWNLOAD_FOLDER, KEPT_BYTES)
    return f"{STATIC_URL}/{DOWNLOAD_FOLDER.relative_to(STATIC_FOLDER).as_posix()}/{name}"


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


LINK_JS = """
export default function ({ data, parentElement }) {
    let link = parentElement.querySelector("a");
    if (!link) {
        link = document.createElement("a");
        parentElement.appendChild(link);
    }
    link.href = new URL(data.url, document.baseURI).href;
    link.download = data.file_name;
    link.textContent = data.label;
}
"""

DOWNLOAD_LINK = st.components.v2.component("legomoji.download_link", css=button_css("a"), js=LINK_JS)


def download_link(label: str, data: bytes, file_name: str, key: str) -> None:
    """A download drawn as a button that is a link to a static file holding `data`: the
    browser fetches nothing until it is clicked, and a click while the page reruns still
    downloads the file the page shows."""
    url = download_url(data, Path(file_name).suffix)
    DOWNLOAD_LINK(data={"url": url, "file_name": file_name, "label": label}, key=key, width="content")
