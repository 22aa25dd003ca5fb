"""Vendor the browser's LiteRT runtime (LiteRT.js, npm `@litertjs/core` and `@litertjs/wasm-utils`,
Apache-2.0) under static/vendor/, from the npm registry's tarballs, checked by their integrity.

The dashboard decodes codes in the browser with it (explorer/live.py) and loads nothing from a
CDN: the app's own server serves these files at app/static/vendor/. Only what the loader can
pick without cross-origin isolation is kept (Streamlit sends no such headers, so the threaded
build never loads): the plain build (Wasm SIMD with relaxed SIMD) and the compat build, each a
loader script and its WebAssembly binary. Streamlit does not compress static files, so each
binary is stored gzipped (the page unpacks it with DecompressionStream), and the package's one
bare import (`@litertjs/wasm-utils`) is rewritten to the vendored file's relative path, since a
page cannot map bare names without an import map. SHA256SUMS lists every file written; the
licence (LICENSE) is kept in the folder, not fetched.

    python -m explorer.vendor_litert [--registry URL]
"""
from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from common.cli import run_cli
from common.errors import UserError
from common.static_files import STATIC_FOLDER

VERSION = "2.5.3"
FOLDER = STATIC_FOLDER / "vendor" / f"litertjs-{VERSION}"
REGISTRY = "https://registry.npmjs.org"
# name -> the registry's integrity (SHA-512) of its tarball at VERSION
PACKAGES = {
    "@litertjs/core": "sha512-PlGmbMOq9WitX7FO0jhbdJw9GthatsyuCQXjTt/wJZo0FLaw48q4tz8IwqgqCIkviYGr9OFDL1kCnN4nzWoyJQ==",
    "@litertjs/wasm-utils":
        "sha512-4fJiw6tBQnIs+0jH/OQ16nYOiSl8/+zZnn5h2ul8aTKHi05sVqZW580Tmk78pC2kT39A9OYBVdFawteZ/sI1kQ==",
}
# (package, path in its tarball) -> path in the vendored folder; ".gz" names are stored gzipped
FILES = {
    ("@litertjs/core", "package/dist/index.js"): "core/index.js",
    ("@litertjs/wasm-utils", "package/dist/index.js"): "wasm-utils/index.js",
    ("@litertjs/core", "package/wasm/litert_wasm_internal.js"): "wasm/litert_wasm_internal.js",
    ("@litertjs/core", "package/wasm/litert_wasm_internal.wasm"): "wasm/litert_wasm_internal.wasm.gz",
    ("@litertjs/core", "package/wasm/litert_wasm_compat_internal.js"): "wasm/litert_wasm_compat_internal.js",
    ("@litertjs/core", "package/wasm/litert_wasm_compat_internal.wasm"): "wasm/litert_wasm_compat_internal.wasm.gz",
}
BARE_IMPORT = ('from "@litertjs/wasm-utils";', 'from "../wasm-utils/index.js";')
SUMS = "SHA256SUMS"
KEPT = ("LICENSE",)  # files of the folder that are not fetched


def tarball_url(registry: str, package: str, version: str = VERSION) -> str:
    """The registry's address of a package's tarball (`npm view <package> dist.tarball`)."""
    return f"{registry.rstrip('/')}/{package}/-/{package.rsplit('/', 1)[-1]}-{version}.tgz"


def integrity(data: bytes) -> str:
    """npm's integrity string (Subresource Integrity, SHA-512) of a tarball's bytes."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def fetch_tarball(url: str, expected: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            data = response.read()
    except OSError as error:
        raise UserError(f"could not download {url} ({error}): check the connection or pass --registry.") from error
    if integrity(data) != expected:
        raise UserError(f"{url} does not match its pinned integrity: the registry served other bytes than "
                        f"LiteRT.js {VERSION}; nothing was written.")
    return data


def vendored_bytes(package: str, member: str, data: bytes, target: str) -> bytes:
    """A tarball member as it is stored (see the module): gzipped, or with the bare import rewritten."""
    if target.endswith(".gz"):
        return gzip.compress(data, compresslevel=9, mtime=0)
    if target == "core/index.js":
        text = data.decode("utf-8")
        if BARE_IMPORT[0] not in text:
            raise UserError(f"{package}'s {member} no longer imports {BARE_IMPORT[0]!r}: vendor this version by hand.")
        return text.replace(BARE_IMPORT[0], BARE_IMPORT[1]).encode("utf-8")
    return data


def sha256_sums(folder: Path) -> str:
    """SHA256SUMS's text for every file under `folder` but itself (`sha256sum -c` reads it)."""
    lines = [f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(folder).as_posix()}"
             for path in sorted(folder.rglob("*")) if path.is_file() and path.name != SUMS]
    return "\n".join(lines) + "\n"


def vendor(registry: str = REGISTRY, folder: Path = FOLDER, packages: dict[str, str] = PACKAGES) -> list[str]:
    """Fetch the packages' tarballs, check them, and write the vendored files and SHA256SUMS into
    `folder` (staged beside it and moved in whole; its KEPT files carried over). Returns the
    paths written, relative to `folder`."""
    tarballs = {package: fetch_tarball(tarball_url(registry, package), expected)
                for package, expected in packages.items()}
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".vendoring-"))
    try:
        for (package, member), target in FILES.items():
            with tarfile.open(fileobj=io.BytesIO(tarballs[package]), mode="r:gz") as tar:
                try:
                    data = tar.extractfile(member).read()
                except (KeyError, AttributeError) as error:
                    raise UserError(f"{package} {VERSION} has no {member}: vendor this version by hand.") from error
            path = staging / target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(vendored_bytes(package, member, data, target))
        for name in KEPT:
            if (folder / name).is_file():
                shutil.copy2(folder / name, staging / name)
        (staging / SUMS).write_text(sha256_sums(staging))
        for path in staging.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        staging.chmod(0o755)
        if folder.exists():
            retired = folder.with_name(f".retired-{folder.name}")
            shutil.rmtree(retired, ignore_errors=True)
            folder.rename(retired)
            shutil.rmtree(retired)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(FILES.values()) + [SUMS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registry", default=REGISTRY, help=f"npm registry to fetch from (default {REGISTRY})")
    parser.add_argument("--out", type=Path, default=FOLDER, help="folder to write (default: the app's)")
    args = parser.parse_args(argv)

    def run() -> None:
        for name in vendor(args.registry, args.out):
            print(args.out / name)

    return run_cli(run, on_interrupt=f"{args.out} is as it was")


if __name__ == "__main__":
    sys.exit(main())
