"""Download the dataset's sources from their publishers: `python -m data.fetch --help`.

Each file lands in a cache folder under the name its publisher gives it, only once whole and
checked: it is downloaded to `<file>.part` (which a later run resumes with an HTTP Range
request), its SHA-256 compared with the pinned one, then renamed into place.
`python -m data.build` then reads that folder.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from common.cli import run_cli
from common.errors import UserError
from common.files import atomic_write_text

SOURCES_ENV = "LEGOMOJI_SOURCES"
CHUNK_BYTES = 1 << 16
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class SourceFile:
    """One publisher's file."""

    name: str  # what `--only` takes
    url: str
    file_name: str
    sha256: str | None  # None: the publisher replaces the file in place, so no checksum can be pinned
    licence: str
    subset: str  # a smaller archive of the same source, as a workshop may keep it, read when the file is absent


NPM = "https://registry.npmjs.org"
MANIFEST = (
    SourceFile("ldraw", "https://library.ldraw.org/library/updates/complete.zip", "complete.zip", None,
               "CC BY 4.0", "ldraw-minifig-heads.zip"),
    SourceFile("emoji-datasource-twitter",
               f"{NPM}/emoji-datasource-twitter/-/emoji-datasource-twitter-16.0.0.tgz",
               "emoji-datasource-twitter-16.0.0.tgz",
               "f64a530c63bca463bd8317fdc4615ce63a53a0c65018e4ce2d848aaba7a28877",
               "CC BY 4.0 (Twemoji graphics), MIT (package)", "emoji-datasource-twitter-faces.zip"),
    SourceFile("emoji-datasource-google",
               f"{NPM}/emoji-datasource-google/-/emoji-datasource-google-16.0.0.tgz",
               "emoji-datasource-google-16.0.0.tgz",
               "fb5fd131b362aab7a55542d2a147a79708cce0a8b1c1bbacd470172708b5c438",
               "Apache 2.0 (Noto Emoji graphics), MIT (package)", "emoji-datasource-google-faces.zip"),
    SourceFile("openmoji", f"{NPM}/openmoji/-/openmoji-17.0.0.tgz", "openmoji-17.0.0.tgz",
               "55ee7d13485dec86e9f38c1f3a645a13382d33ff97c0cd845ee824b0aef45e68",
               "CC BY-SA 4.0", "openmoji-faces.zip"),
    SourceFile("fluentui-emoji", f"{NPM}/fluentui-emoji/-/fluentui-emoji-1.3.0.tgz", "fluentui-emoji-1.3.0.tgz",
               "ec892e607e854859b812c7d827801756adc19955b0ef56d4ae8afcddd19492c5",
               "MIT", "fluentui-emoji-faces.zip"),
)


def default_sources_folder() -> Path:
    """$LEGOMOJI_SOURCES, else the user's cache folder ($XDG_CACHE_HOME or ~/.cache)/legomoji/sources."""
    if os.environ.get(SOURCES_ENV):
        return Path(os.environ[SOURCES_ENV]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "legomoji" / "sources"


def find_sources(folder: Path) -> dict[str, Path]:
    """Each source's file in `folder` by source name: the publisher's file, else its subset archive."""
    found = {}
    for source in MANIFEST:
        path = next((folder / n for n in (source.file_name, source.subset) if (folder / n).is_file()), None)
        if path is not None:
            found[source.name] = path
    return found


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(manifest, dest: Path, quiet: bool = False) -> list[Path]:
    """Download every file of `manifest` that `dest` lacks; the paths of all of them. A
    UserError on the first one that cannot be had, the files already fetched being kept."""
    dest.mkdir(parents=True, exist_ok=True)
    return [fetch_one(source, dest, quiet) for source in manifest]


def fetch_one(source: SourceFile, dest: Path, quiet: bool = False) -> Path:
    """The source's file in `dest`, downloaded (or its download resumed) and checked if needed."""
    path = dest / source.file_name
    record = path.with_name(f"{path.name}.sha256")  # what an unpinned file was when it came
    if path.is_file():
        if source.sha256 is None:
            print(f"{path.name}: already here, sha256 {file_sha256(path)} (delete it to fetch the latest)")
            return path
        if file_sha256(path) == source.sha256:
            print(f"{path.name}: already here, sha256 checked")
            return path
        print(f"{path.name}: does not match its pinned sha256, fetching it again")
    part = path.with_name(f"{path.name}.part")
    _download(source.url, part, quiet)
    digest = file_sha256(part)
    if source.sha256 is not None and digest != source.sha256:
        part.unlink()
        raise UserError(f"{source.url} gave a file whose sha256 {digest} is not the pinned {source.sha256}, "
                        "so it was deleted: run again later, or report it if it happens again.")
    if source.sha256 is None and path.suffix == ".zip" and _bad_zip(part):
        part.unlink()
        raise UserError(f"{source.url} gave a damaged zip (the library may have been updated during the "
                        "download), so it was deleted: run again.")
    os.replace(part, path)
    if source.sha256 is None:
        atomic_write_text(record, f"{digest}  {path.name}\n")
        print(f"{path.name}: fetched, sha256 {digest} ({source.licence}; not pinned, the publisher replaces it "
              f"at each update; recorded in {record.name})")
    else:
        print(f"{path.name}: fetched, sha256 checked ({source.licence})")
    return path


def _bad_zip(path: Path) -> bool:
    """Whether a member fails its CRC: the check an unpinned zip gets instead of a checksum."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is not None
    except (zipfile.BadZipFile, OSError, EOFError):
        return True


def _download(url: str, part: Path, quiet: bool) -> None:
    """Fill `part` with the body at `url`, resuming what it holds. A cut connection keeps
    `part` for the next run and ends in a UserError."""
    have = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": "legomoji-fetch", **({"Range": f"bytes={have}-"} if have else {})}
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # the part is as long as the file, or longer: start over
            part.unlink()
            return _download(url, part, quiet)
        raise UserError(f"{url} answered HTTP {error.code} {error.reason}: check the address or run again "
                        "later.") from error
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        raise UserError(f"could not reach {url} ({reason}): check the connection and run again.") from error
    with response:
        resumed = response.status == 206 and _range_start(response) == have
        if have and response.status == 206 and not resumed:  # not the range asked for: start over
            response.close()
            part.unlink(missing_ok=True)
            return _download(url, part, quiet)
        if have and not resumed:  # the server ignored the Range request: start over
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else None
        received = have
        try:
            with open(part, "ab" if resumed else "wb") as handle, \
                    tqdm(total=total, initial=have, unit="B", unit_scale=True, unit_divisor=1024,
                         desc=part.name.removesuffix(".part"), disable=quiet, leave=False) as bar:
                while chunk := _read_chunk(response, url, part, received, total):
                    handle.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise UserError(f"could not write {part} ({error.strerror}): free some space or pass another "
                            "--dest.") from error
    if total is not None and received < total:  # http.client reports a short body as its end
        raise _cut(url, part, received, total)


def _read_chunk(response, url: str, part: Path, received: int, total: int | None) -> bytes:
    try:
        return response.read(CHUNK_BYTES)
    except (http.client.HTTPException, OSError) as error:
        raise _cut(url, part, received, total) from error


def _range_start(response) -> int | None:
    """The first byte a 206 answer holds, from its `Content-Range: bytes START-END/SIZE`."""
    unit, _, span = (response.headers.get("Content-Range") or "").partition(" ")
    start = span.split("-", 1)[0]
    return int(start) if unit == "bytes" and start.isdigit() else None


def _cut(url: str, part: Path, received: int, total: int | None) -> UserError:
    of = f" of {total:,}" if total is not None else ""
    return UserError(f"the download of {url} was cut after {received:,}{of} bytes: run again to resume it from "
                     f"{part}.")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m data.fetch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dest", type=Path, default=default_sources_folder(),
                        help=f"folder to download into (default: ${SOURCES_ENV}, else ~/.cache/legomoji/sources)")
    parser.add_argument("--only", nargs="+", choices=[s.name for s in MANIFEST], metavar="NAME",
                        help=f"fetch only these sources ({', '.join(s.name for s in MANIFEST)})")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    manifest = [s for s in MANIFEST if not args.only or s.name in args.only]
    return run_cli(lambda: _fetch_and_report(manifest, args.dest, args.quiet),
                   on_interrupt="what was downloaded is kept as a .part file, which the next run resumes")


def _fetch_and_report(manifest, dest: Path, quiet: bool) -> int:
    fetch(manifest, dest, quiet)
    print(f"sources in {dest}: build the dataset with `python -m data.build --sources {dest}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
