"""`python -m data.fetch` against a local HTTP server that serves the fixture as its publishers
ship it (npm tarballs, the LDraw complete.zip); then `python -m data.build` on what it fetched."""
from __future__ import annotations

import hashlib
import http.server
import io
import re
import tarfile
import threading
import zipfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

import data.fetch
from common.errors import UserError
from data.archive import Archive
from data.build import main as build_main
from data.build import parse_args as build_args
from data.dataset import FaceDataset
from data.fetch import MANIFEST, fetch
from tests.conftest import FIXTURE, FIXTURE_DATA


def npm_tarball(package: Path) -> bytes:
    """An npm tarball: the package folder's files under `package/`, gzipped."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(package, arcname="package")
    return buffer.getvalue()


def ldraw_zip(library: Path) -> bytes:
    """The LDraw complete.zip layout: every file under the top folder `ldraw/`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(library.rglob("*")):
            if file.is_file():
                archive.write(file, f"ldraw/{file.relative_to(library).as_posix()}")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def published() -> dict[str, bytes]:
    """Each manifest file name -> the bytes its publisher would serve, made from the fixture."""
    files = {"complete.zip": ldraw_zip(FIXTURE_DATA / "ldraw")}
    for source in MANIFEST[1:]:
        files[source.file_name] = npm_tarball(FIXTURE_DATA / source.name / "package")
    assert set(files) == {s.file_name for s in MANIFEST}
    return files


class Publisher(http.server.BaseHTTPRequestHandler):
    """Serves `files`, honouring `Range: bytes=N-` unless `ignore_range`; a file named in `cut`
    is sent only half-way before the connection closes, once."""

    files: dict[str, bytes] = {}
    cut: set[str] = set()
    ignore_range = False
    requests: list[tuple[str, str | None]] = []

    def do_GET(self):
        name = self.path.lstrip("/")
        self.requests.append((name, self.headers.get("Range")))
        if name not in self.files:
            self.send_error(404)
            return
        body, start = self.files[name], 0
        asked = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if asked and not self.ignore_range:
            start = int(asked.group(1))
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if name in self.cut:
            self.cut.discard(name)
            self.wfile.write(body[start:start + (len(body) - start) // 2])
            self.close_connection = True
            return
        self.wfile.write(body[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server(published, monkeypatch):
    """(handler class, base URL) of a publisher on 127.0.0.1 serving the fixture's files."""
    for variable in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    handler = type("TestPublisher", (Publisher,), {"files": published, "cut": set(), "requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def local_manifest(base: str, published: dict[str, bytes]):
    """The manifest pointed at the local publisher, pinned to the fixture files' checksums (the
    LDraw zip stays unpinned, as the real one is)."""
    return [replace(s, url=f"{base}/{s.file_name}",
                    sha256=s.sha256 and hashlib.sha256(published[s.file_name]).hexdigest()) for s in MANIFEST]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fetch_downloads_every_file_with_its_checksum(server, published, tmp_path, capsys):
    handler, base = server
    manifest = local_manifest(base, published)
    paths = fetch(manifest, tmp_path, quiet=True)
    assert [p.name for p in paths] == [s.file_name for s in MANIFEST]
    for source, path in zip(manifest, paths):
        assert sha256(path) == hashlib.sha256(published[source.file_name]).hexdigest()
    recorded = hashlib.sha256(published["complete.zip"]).hexdigest()
    assert (tmp_path / "complete.zip.sha256").read_text().split() == [recorded, "complete.zip"]
    assert recorded in capsys.readouterr().out  # the unpinned file's checksum is shown
    assert not list(tmp_path.glob("*.part"))
    requests = len(handler.requests)
    fetch(manifest, tmp_path, quiet=True)  # everything is here and whole: nothing is downloaded again
    assert len(handler.requests) == requests


@pytest.mark.parametrize("ignore_range", [False, True], ids=["resumed", "range-ignored"])
def test_a_cut_download_leaves_a_part_that_the_next_run_completes(server, published, tmp_path, ignore_range):
    handler, base = server
    source = local_manifest(base, published)[1]
    handler.cut, handler.ignore_range = {source.file_name}, ignore_range
    with pytest.raises(UserError, match="was cut after .* run again to resume") as error:
        fetch([source], tmp_path, quiet=True)
    assert str(error.value).count(". ") == 0  # one sentence
    part = tmp_path / f"{source.file_name}.part"
    assert [p.name for p in tmp_path.iterdir()] == [part.name]
    half = part.stat().st_size
    assert 0 < half < len(published[source.file_name])
    fetch([source], tmp_path, quiet=True)
    assert handler.requests[-1] == (source.file_name, f"bytes={half}-")
    assert [p.name for p in tmp_path.iterdir()] == [source.file_name]
    assert sha256(tmp_path / source.file_name) == source.sha256


def test_a_wrong_checksum_keeps_nothing_of_that_source(server, published, tmp_path, monkeypatch, capsys):
    _, base = server
    manifest = local_manifest(base, published)
    wrong = "0" * 64
    manifest[2] = replace(manifest[2], sha256=wrong)
    monkeypatch.setattr(data.fetch, "MANIFEST", tuple(manifest))
    assert data.fetch.main(["--dest", str(tmp_path), "--quiet"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and f"is not the pinned {wrong}" in error[0]
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == sorted(["complete.zip", "complete.zip.sha256", manifest[1].file_name])  # those before it stay


def test_build_reads_the_fetched_publishers_files(server, published, tmp_path):
    _, base = server
    sources = tmp_path / "sources"
    fetch(local_manifest(base, published), sources, quiet=True)
    out = tmp_path / "dataset.npz"
    assert build_main(["--sources", str(sources), "--out", str(out), "--no-fonts", "--quiet", "--augment", "0",
                       "--prints", "0", "--size", "32"]) == 0
    originals = Counter(FaceDataset.load(out).source)
    assert originals == {"ldraw": FIXTURE.lego_images, "twitter": FIXTURE.pack_faces, "google": FIXTURE.pack_faces,
                         "openmoji": FIXTURE.openmoji_faces, "fluent": FIXTURE.fluent_faces}


def test_build_takes_the_publishers_files_before_subset_archives(tmp_path, capsys):
    for source in MANIFEST[1:]:
        (tmp_path / source.subset).touch()
    (tmp_path / MANIFEST[0].subset).touch()
    (tmp_path / "openmoji-17.0.0.tgz").touch()
    args = build_args(["--sources", str(tmp_path)])
    assert args.ldraw == tmp_path / "ldraw-minifig-heads.zip" and args.openmoji == tmp_path / "openmoji-17.0.0.tgz"
    assert args.emoji_pack == [tmp_path / "emoji-datasource-twitter-faces.zip",
                               tmp_path / "emoji-datasource-google-faces.zip"]
    assert args.fluent == tmp_path / "fluentui-emoji-faces.zip"
    assert build_args(["--sources", str(tmp_path), "--ldraw", "x.zip"]).emoji_pack == []  # a named source wins
    with pytest.raises(SystemExit) as exit:
        build_args(["--sources", str(tmp_path / "empty")])
    assert exit.value.code == 2 and "run `python -m data.fetch`" in capsys.readouterr().err


def test_archive_reads_an_npm_tarball(tmp_path):
    package = FIXTURE_DATA / "openmoji" / "package"
    path = tmp_path / "openmoji.tgz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(package, arcname="package")
        link = tarfile.TarInfo("package/link.json")
        link.type, link.linkname = tarfile.SYMTYPE, "data/openmoji.json"
        tar.addfile(link)
    files = sorted(f.relative_to(package).as_posix() for f in package.rglob("*") if f.is_file())
    with Archive(path, "pack") as archive:
        opened = archive._tar, archive._spool
        assert sorted(archive.names()) == [f"package/{f}" for f in files]  # no folders, no link
        for name in files:
            assert archive.read(f"package/{name}") == (package / name).read_bytes()
            assert archive.size(f"package/{name}") == (package / name).stat().st_size
    assert opened[0].closed and opened[1].closed  # the tarball and its unpacked copy
    zipped = tmp_path / "openmoji.zip"
    with zipfile.ZipFile(zipped, "w") as target:
        target.write(package / "LICENSE.txt", "package/LICENSE.txt")
    with Archive(zipped, "pack") as archive:
        handle = archive._zip
        assert archive.names() == ["package/LICENSE.txt"]
    assert handle.fp is None  # a closed ZipFile lets go of its file
    broken = tmp_path / "broken.tgz"
    broken.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UserError, match=r"broken.tgz is not a readable tarball .*: download it again"):
        Archive(broken, "pack")
