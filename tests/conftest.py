"""Shared fixtures: the sources (the small fixture in tests/data, and the full sources where
present) and datasets built from them."""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
SOURCES_ENV = "LEGOMOJI_SOURCES"


@dataclass(frozen=True)
class Sources:
    """One set of source files and how many faces each holds (None: not known in advance,
    as for the publishers' latest files, where any positive count will do)."""

    name: str
    ldraw: Path
    twitter: Path
    google: Path
    openmoji: Path
    fluent: Path
    printed_heads: int | None
    two_sided_heads: int | None
    pack_faces: int | None
    animal_faces: int | None  # cat and monkey faces in each emoji-datasource pack
    openmoji_faces: int | None
    fluent_faces: int | None

    @property
    def lego_images(self) -> int | None:
        """Each printed head from the front, and the back of each two-sided head."""
        return None if self.printed_heads is None else self.printed_heads + self.two_sided_heads

    def build_args(self) -> list[str]:
        return ["--ldraw", str(self.ldraw), "--emoji-pack", str(self.twitter), "--emoji-pack", str(self.google),
                "--openmoji", str(self.openmoji), "--fluent", str(self.fluent)]


def matches(count: int, expected: int | None) -> bool:
    return count == expected if expected is not None else count > 0


FIXTURE_DATA = ROOT / "tests" / "data"
FIXTURE = Sources(
    "fixture", FIXTURE_DATA / "ldraw", FIXTURE_DATA / "emoji-datasource-twitter",
    FIXTURE_DATA / "emoji-datasource-google", FIXTURE_DATA / "openmoji", FIXTURE_DATA / "fluentui-emoji",
    printed_heads=18, two_sided_heads=4, pack_faces=16, animal_faces=1, openmoji_faces=16, fluent_faces=14,
)


def full_sources() -> Sources | None:
    """The full sources: $LEGOMOJI_SOURCES, else the subset archives beside the repo where a
    workshop keeps them (`../shared/data`); None where neither exists."""
    folder = Path(os.environ.get(SOURCES_ENV) or ROOT.parent / "shared" / "data")
    subset = folder / "ldraw-minifig-heads.zip"
    if subset.is_file():  # the subset archives: what they hold is known exactly
        return Sources(
            "full", subset, folder / "emoji-datasource-twitter-faces.zip", folder / "emoji-datasource-google-faces.zip",
            folder / "openmoji-faces.zip", folder / "fluentui-emoji-faces.zip",
            printed_heads=341, two_sided_heads=57, pack_faces=118, animal_faces=12, openmoji_faces=119,
            fluent_faces=81,
        )
    if (folder / "complete.zip").is_file():  # the publishers' files, as `python -m data.fetch` leaves them
        from data.fetch import MANIFEST

        files = {entry.name: folder / entry.file_name for entry in MANIFEST}
        return Sources("full", folder / "complete.zip", files["emoji-datasource-twitter"],
                       files["emoji-datasource-google"], files["openmoji"], files["fluentui-emoji"],
                       None, None, None, None, None, None)
    return None


def zip_folder(folder: Path, zip_path: Path, prefix: str) -> Path:
    """The files under `folder` in a zip, each named `prefix` + its relative path (the layout
    of the LDraw library's complete.zip with prefix "ldraw/")."""
    import zipfile

    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, prefix + file.relative_to(folder).as_posix())
    return zip_path


FULL = full_sources()
ALL_SOURCES = [FIXTURE] + ([FULL] if FULL else [])


@pytest.fixture(scope="session", params=ALL_SOURCES, ids=[s.name for s in ALL_SOURCES])
def sources(request) -> Sources:
    """Each set of sources at hand: the fixture always, the full sources where present."""
    return request.param


_BUILDS: dict[str, tuple] = {}


def build(sources: Sources, folder: Path):
    """(dataset, preview path) of the default build (both packs, the Noto font, augmentation,
    printed heads) from `sources`, once per session."""
    if sources.name not in _BUILDS:
        from data.build import main
        from data.dataset import FaceDataset

        out = folder / f"dataset-{sources.name}.npz"
        preview = out.with_name(f"preview-{sources.name}.png")
        assert main(["--quiet", *sources.build_args(), "--out", str(out), "--preview", str(preview)]) == 0
        _BUILDS[sources.name] = FaceDataset.load(out), preview
    return _BUILDS[sources.name]


@pytest.fixture(scope="session")
def built_dataset(tmp_path_factory):
    """The default build of the fixture sources, written to a temp file."""
    return build(FIXTURE, tmp_path_factory.mktemp("dataset"))


@pytest.fixture(scope="session")
def source_build(sources, tmp_path_factory):
    """(sources, dataset, preview) of the default build of each set of sources at hand."""
    return (sources, *build(sources, tmp_path_factory.mktemp("dataset")))


@pytest.fixture(scope="session")
def small_dataset(built_dataset):
    """Real images: 256 training images of both domains and every validation image."""
    import numpy as np

    dataset = built_dataset[0]
    rng = np.random.default_rng(0)
    train_idx = rng.choice(np.flatnonzero(dataset.split == "train"), 256, replace=False)
    mask = np.zeros(len(dataset), bool)
    mask[np.concatenate([train_idx, np.flatnonzero(dataset.split == "val")])] = True
    return dataset.subset(mask)


@pytest.fixture(scope="session")
def engine():
    """The shipped model's Engine, loaded once for every test that only reads it."""
    from explorer.engine import DEFAULT_ASSETS, Engine

    return Engine(DEFAULT_ASSETS)


@pytest.fixture(scope="session")
def plain_exported(built_dataset, tmp_path_factory):
    """A tiny `plain`-family model (no domain condition, no expression dims), exported."""
    from tests.tiny import export_tiny

    return export_tiny(built_dataset[0], "tiny", 500, 5, tmp_path_factory.mktemp("plain"))[0]


@pytest.fixture(scope="session")
def plain_engine(plain_exported):
    """The tiny plain-family model's Engine, loaded once."""
    from explorer.engine import Engine

    engine = Engine(plain_exported)
    assert not engine.domain_conditioned and engine.expression_dims == 0
    return engine


@pytest.fixture
def made_on_click(monkeypatch) -> dict:
    """Every download a button leaves to be made when clicked: file id -> (the callable that
    makes it, the file name it saves as)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    made = {}
    register = MediaFileManager.add_deferred

    def kept(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        file_id = register(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)
        made[file_id] = (data_callable, file_name)
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", kept)
    return made


def downloads(app, made_on_click: dict) -> dict[str, tuple[io.BytesIO, str]]:
    """Each download button the page shows: its label -> (the file a click makes, the file name
    it saves as). Every one is made on click (the page sends no bytes) and does not rerun it."""
    files = {}
    for button in app.get("download_button"):
        assert button.proto.ignore_rerun and not button.proto.url, button.proto.label
        make, file_name = made_on_click[button.proto.deferred_file_id]
        files[button.proto.label] = (io.BytesIO(make()), file_name)
    return files


# The fixtures of the browser tests: one server and one browser per test module, a new page
# (its own context: no cache, no storage) per test.


@pytest.fixture(scope="module")
def server():
    from tests.browser import streamlit_server

    with streamlit_server() as (url, _):
        yield url


@pytest.fixture(scope="module")
def driver():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(driver):
    from tests.browser import launch_chromium

    chromium = launch_chromium(driver)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session", autouse=True)
def nothing_written_into_static():
    """No test writes into the checkout's static/ (an export or a command run without --static
    would leave the model's files there)."""
    from common.static_files import STATIC_FOLDER

    before = sorted(path.name for path in STATIC_FOLDER.iterdir())
    yield
    after = sorted(path.name for path in STATIC_FOLDER.iterdir())
    assert after == before, f"written into static/: {sorted(set(after) - set(before))}"
