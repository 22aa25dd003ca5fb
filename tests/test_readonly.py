"""The dashboard as a deployment runs it: from a read-only copy of the checkout, writing nothing
into its checkout, every page and every download."""
from __future__ import annotations

import io
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from data.ldraw import read_document
from explorer.ui import LDRAW_LABEL, LDRAW_ZIP_LABEL
from tests.browser import CHROMIUM, ROOT, launch_chromium, open_page, streamlit_server, wait_idle
from tests.conftest import downloads
from tests.test_app import page

PAGES = {  # url path -> (page module, title)
    "": ("studio", "Expression studio"),
    "mirror": ("mirror", "Mirror"),
    "morph": ("morph", "Morph"),
    "analogy": ("analogy", "Analogies"),
    "map": ("latent_map", "Latent map"),
    "directions": ("directions", "Your own directions"),
    "distributions": ("distributions", "Latent distributions"),
    "generate": ("generate", "Generate and inspect"),
    "upload": ("your_image", "Your own image"),
}
DOWNLOADS = {"": ["Download the card (PNG)", LDRAW_ZIP_LABEL, LDRAW_LABEL],
             "morph": ["Download PNG", "Download GIF", LDRAW_ZIP_LABEL, LDRAW_LABEL],
             "mirror": [LDRAW_ZIP_LABEL, LDRAW_LABEL], "analogy": ["Download PNG"]}
SKIPPED = {"__pycache__", ".pytest_cache", ".git", ".ruff_cache"}


def assert_download(data: bytes, file_name: str, label: str) -> None:
    """A download is a picture (PNG or GIF) or an LDraw part whose texture is the PNG it embeds
    (.mpd) or holds beside it (.zip)."""
    assert file_name.startswith("legomoji-"), label
    if file_name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            data = archive.read(f"parts/textures/{file_name.removesuffix('.zip')}.png")
    if file_name.endswith(".mpd"):
        document = read_document(data.decode("utf-8"))
        assert "0 !TEXMAP START CYLINDRICAL" in data.decode() and len(document.data) == 1, label
        data = next(iter(document.data.values()))
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.format in {"PNG", "GIF"}, label


def checkout_tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file of the checkout (Python's byte-code caches aside): path -> (size, mtime)."""
    tree = {}
    for folder, folders, files in os.walk(root):
        folders[:] = [name for name in folders if name not in SKIPPED]
        for name in files:
            stat = (Path(folder) / name).stat()
            tree[str(Path(folder, name).relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return tree


def test_every_page_and_download_writes_nothing_into_the_checkout(engine, made_on_click):
    before = checkout_tree(ROOT)
    for module, title in PAGES.values():
        app = page(module)
        app.run()
        assert not app.exception, (module, app.exception[0].message if app.exception else "")
        assert app.title[0].value == title
        for label, (data, file_name) in downloads(app, made_on_click).items():
            assert_download(data.getvalue(), file_name, label)
    after = checkout_tree(ROOT)
    assert after == before, sorted(set(after.items()) ^ set(before.items()))[:5]


@pytest.fixture(scope="module")
def read_only_checkout(tmp_path_factory):
    """The checkout bind-mounted read-only (as root, file modes alone stop no write)."""
    if os.geteuid() != 0 and not os.environ.get("CI"):
        pytest.skip("a read-only bind mount needs root")
    target = tmp_path_factory.mktemp("read-only")
    subprocess.run(["mount", "--bind", str(ROOT), str(target)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(target)], check=True)
        with pytest.raises(OSError):
            (target / "static" / "written").write_bytes(b"")
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=True)


@pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed")
def test_every_page_and_download_works_from_a_read_only_copy(read_only_checkout, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    with streamlit_server(root=read_only_checkout) as (url, _), playwright.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True).new_page()
        for path, (_, title) in PAGES.items():
            open_page(page, f"{url}/{path}", title)
            assert page.locator('[data-testid="stException"]').count() == 0, path
            for label in DOWNLOADS.get(path, []):
                with page.expect_download() as download:
                    page.get_by_role("button", name=label).click()
                saved = tmp_path / download.value.suggested_filename
                download.value.save_as(saved)
                assert_download(saved.read_bytes(), saved.name, label)
                wait_idle(page)
            assert page.locator('[data-testid="stException"]').count() == 0, path
        browser.close()
