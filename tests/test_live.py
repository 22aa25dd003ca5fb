"""Faces drawn in the browser (explorer/live.py): the vendored runtime and how it is vendored, and
the files the app hands the browser. The browser itself is tried in tests/test_live_browser.py."""
from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import tarfile
import threading

import numpy as np
import pytest

from common import static_files
from common.errors import UserError
from explorer import vendor_litert
from explorer.engine import DEFAULT_ASSETS


def test_the_vendored_runtime_matches_its_hashes():
    folder = vendor_litert.FOLDER
    listed = dict(reversed(line.split("  ", 1)) for line in (folder / vendor_litert.SUMS).read_text().splitlines())
    present = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
    assert set(listed) == present - {vendor_litert.SUMS}  # every file listed, nothing unlisted
    for name, digest in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    assert set(vendor_litert.FILES.values()) | set(vendor_litert.KEPT) == set(listed)
    assert "Apache License" in (folder / "LICENSE").read_text()


def npm_tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def registry(monkeypatch):
    """(tarballs by URL path, base URL) of an npm registry on 127.0.0.1 serving small packages
    laid out as LiteRT.js's."""
    for variable in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    members = {package: {} for package in vendor_litert.PACKAGES}
    for package, member in vendor_litert.FILES:
        members[package][member] = f"// {package} {member}\n".encode()
    members["@litertjs/core"]["package/dist/index.js"] = b'import { createWasmLib } from "@litertjs/wasm-utils";\n'
    served = {vendor_litert.tarball_url("", package).lstrip("/"): npm_tarball(files)
              for package, files in members.items()}

    class Registry(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = served.get(self.path.lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_vendoring_checks_each_tarball_and_writes_what_the_page_loads(registry, tmp_path):
    served, url = registry
    pins = {package: vendor_litert.integrity(served[vendor_litert.tarball_url("", package).lstrip("/")])
            for package in vendor_litert.PACKAGES}
    folder = tmp_path / "static" / "vendor" / "litertjs"
    folder.mkdir(parents=True)
    (folder / "LICENSE").write_text("Apache License 2.0")
    (folder / "stale.js").write_text("from an older version")
    written = vendor_litert.vendor(url, folder, pins)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == \
        sorted(written + ["LICENSE"])  # the stale file is gone, the licence kept
    core = (folder / "core" / "index.js").read_text()
    assert core == 'import { createWasmLib } from "../wasm-utils/index.js";\n'  # a path a page can import
    binary = folder / "wasm" / "litert_wasm_internal.wasm.gz"
    assert gzip.decompress(binary.read_bytes()) == b"// @litertjs/core package/wasm/litert_wasm_internal.wasm\n"
    assert (folder / "SHA256SUMS").read_text() == vendor_litert.sha256_sums(folder)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    wrong = dict(pins, **{"@litertjs/wasm-utils": vendor_litert.integrity(b"other bytes")})
    with pytest.raises(UserError, match="does not match its pinned integrity"):
        vendor_litert.vendor(url, folder, wrong)
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before  # nothing written
    with pytest.raises(UserError, match="could not download"):
        vendor_litert.vendor(url + "/nowhere", folder, pins)


def test_the_shipped_model_hands_the_browser_its_networks(engine, monkeypatch, tmp_path):
    from explorer.cache import LIVE_ENV, live_files, map_inverse, map_to_latent

    monkeypatch.delenv(LIVE_ENV, raising=False)
    names = static_files.live_names(DEFAULT_ASSETS)
    assert set(names) == {"decoder", "refiner", static_files.UMAP_GRID}
    for role, name in names.items():  # committed beside the model, as the export writes them
        stored = (static_files.STATIC_FOLDER / name).read_bytes()
        if role == static_files.UMAP_GRID:
            grid = np.frombuffer(stored, "<f2").reshape(engine.maps.umap_grid.shape)
            np.testing.assert_array_equal(grid.astype(np.float32), engine.maps.umap_grid)
        else:
            assert gzip.decompress(stored) == (DEFAULT_ASSETS / static_files.LIVE_NETWORKS[role]).read_bytes()
    files = live_files(str(DEFAULT_ASSETS))
    assert files["decoder"] == f"app/static/{names['decoder']}" and files["runtime"].startswith("app/static/vendor/")
    assert (files["size"], files["latent"]) == (engine.dataset.size, engine.maps.means.shape[1])
    for projection in ("PCA", "Directions"):  # an affine plane: its inverse is the server's at every point
        axes = ("sad", "smile", "Lego faces", "emoji faces") if projection == "Directions" else None
        inverse = map_inverse(str(DEFAULT_ASSETS), projection, axes)
        points = np.random.default_rng(0).normal(size=(5, 2))
        codes = np.asarray(inverse["offset"]) + points @ np.asarray(inverse["matrix"])
        np.testing.assert_allclose(codes, map_to_latent(str(DEFAULT_ASSETS), projection, points, axes), atol=1e-4)
    monkeypatch.setenv(LIVE_ENV, "0")
    live_files.clear()
    assert live_files(str(DEFAULT_ASSETS)) is None  # every face drawn by the server
    monkeypatch.delenv(LIVE_ENV)
    elsewhere = tmp_path / "static"
    elsewhere.mkdir()
    monkeypatch.setattr(static_files, "STATIC_FOLDER", elsewhere)
    live_files.clear()
    assert live_files(str(DEFAULT_ASSETS)) is None  # a model exported without its live files
    live_files.clear()
