"""Read a source given as a folder or a zip through one interface."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

from common.errors import UserError


class Archive:
    """Files of a folder or a zip, addressed by their `/`-separated relative path."""

    def __init__(self, path: str | Path, what: str):
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._files: dict[str, str] = {}
        if self.path.is_dir():
            for file in sorted(self.path.rglob("*")):
                if file.is_file():
                    self._files[file.relative_to(self.path).as_posix()] = str(file)
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            self._zip = zipfile.ZipFile(self.path)
            self._files = {n: n for n in self._zip.namelist() if not n.endswith("/")}
        elif self.path.exists():
            raise UserError(f"{self.path} is neither a folder nor a zip file: pass the {what}.")
        else:
            raise UserError(f"{self.path} does not exist: pass the {what}.")

    def names(self) -> list[str]:
        return list(self._files)

    def size(self, name: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(self._files[name]).file_size
        return Path(self._files[name]).stat().st_size

    def read(self, name: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(self._files[name])
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
