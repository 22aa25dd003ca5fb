"""Read a source given as a folder, a zip or a tarball (an npm package) through one interface."""
from __future__ import annotations

import gzip
import json
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path

from common.errors import UserError

TARBALL_SUFFIXES = (".tgz", ".tar.gz", ".tar")


class Archive:
    """Files of a folder, a zip or a tarball, addressed by their `/`-separated relative path; a
    context manager that closes what it opened (`with Archive(...) as archive:`)."""

    def __init__(self, path: str | Path, what: str):
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self._members: dict[str, tarfile.TarInfo] = {}
        self._spool = None  # a gzipped tarball's unpacked copy (see _open_tarball)
        self._files: dict[str, str] = {}
        if self.path.is_dir():
            for file in sorted(self.path.rglob("*")):
                if file.is_file():
                    self._files[file.relative_to(self.path).as_posix()] = str(file)
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            self._zip = zipfile.ZipFile(self.path)
            self._files = {n: n for n in self._zip.namelist() if not n.endswith("/")}
        elif self.path.is_file() and (self.path.name.lower().endswith(TARBALL_SUFFIXES)
                                      or tarfile.is_tarfile(self.path)):
            self._tar, self._members, self._spool = _open_tarball(self.path, what)
            self._files = {n: n for n in self._members}
        elif self.path.exists():
            raise UserError(f"{self.path} is neither a folder, a zip nor a tarball: pass the {what}.")
        else:
            raise UserError(f"{self.path} does not exist: pass the {what}.")

    def close(self) -> None:
        for handle in (self._zip, self._tar, self._spool):
            if handle is not None:
                handle.close()
        self._zip = self._tar = self._spool = None

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def names(self) -> list[str]:
        return list(self._files)

    def size(self, name: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(self._files[name]).file_size
        if self._tar is not None:
            return self._members[name].size
        return Path(self._files[name]).stat().st_size

    def read(self, name: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(self._files[name])
        if self._tar is not None:
            return self._tar.extractfile(self._members[name]).read()
        return Path(self._files[name]).read_bytes()

    def read_json_list(self, file_name: str, what: str) -> tuple[str, list]:
        """(path, entries) of the shallowest file called `file_name`, which must hold a JSON
        list; a UserError naming the file otherwise (`what` says what to pass instead)."""
        candidates = sorted((n for n in self.names() if n.rsplit("/", 1)[-1] == file_name), key=len)
        if not candidates:
            raise UserError(f"{self.path} has no {file_name}: pass {what}.")
        try:
            raw = json.loads(self.read(candidates[0]).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise UserError(f"{self.path}: {file_name} is not valid JSON ({error}); re-extract the pack.") from error
        if not isinstance(raw, list):
            raise UserError(f"{self.path}: {file_name} should hold a list of emoji; re-extract the pack.")
        return candidates[0], raw


def _open_tarball(path: Path, what: str) -> tuple[tarfile.TarFile, dict[str, tarfile.TarInfo], object]:
    """The tarball, its regular files by name (links, folders and devices are no files of a
    source) and the spool file to close with it. A gzipped one is unpacked once into an unnamed
    temporary file, for random access: seeking back in a gzip stream would decompress it from
    the start again."""
    spool = None
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        if gzipped:
            spool = tempfile.TemporaryFile()
            with gzip.open(path) as stream:
                shutil.copyfileobj(stream, spool, 1 << 20)
            spool.seek(0)
        tar = tarfile.open(fileobj=spool, mode="r:") if spool else tarfile.open(path, "r:")
        return tar, {m.name.removeprefix("./"): m for m in tar.getmembers() if m.isfile()}, spool
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        if spool is not None:
            spool.close()
        raise UserError(f"{path} is not a readable tarball ({error}): download it again or pass the {what}.") \
            from error
