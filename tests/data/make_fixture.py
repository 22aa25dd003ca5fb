"""Cut the tests' small source fixture out of the full sources: `python -m tests.data.make_fixture SOURCES`.

SOURCES is a folder holding the subset archives (`ldraw-minifig-heads.zip`,
`emoji-datasource-{twitter,google}-faces.zip`, `openmoji-faces.zip`, `fluentui-emoji-faces.zip`).
Each source is written as a folder in its publisher's layout: the LDraw library's `ldraw/`
(the chosen heads, the plain head, every subfile and primitive they reference, `LDConfig.ldr`
and the licence), and the npm packages' `package/` (their metadata cut down to the chosen
emoji, their pictures and licences). Fluent's package ships no metadata: its emoji are named
after the emoji-datasource names, so only the pictures and the licence are kept.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from data.archive import Archive
from data.ldraw import LDrawLibrary

HERE = Path(__file__).resolve().parent
HEADS = (  # grins, glasses, a scowl, sunglasses, a smirk, a frown, a skull, four two-sided heads, ...
    "3626ap01.dat", "3626bp01.dat", "3626bp39.dat", "3626bp80.dat", "3626bp0i.dat", "3626bp4b.dat",
    "3626bp7c.dat", "3626bpa3.dat", "3626bpac.dat", "3626bp8g.dat", "3626cp75.dat", "3626cp8c.dat",
    "3626cpnd.dat", "3626cp0b.dat", "3626cpd68.dat", "3626cp03.dat", "3626cp81.dat", "3626bp42.dat",
)
PLAIN_HEADS = ("3626c.dat", "3626b.dat")  # 3626c's files are also what data/ldraw_part.py's export refers to
LDRAW_EXTRAS = ("LDConfig.ldr", "CAreadme.txt", "CAlicense4.txt")
EMOJI = (  # code points: smiling, sad, angry, surprised, winking, kissing, crying, sleepy, cool, neutral...
    "1F600", "1F642", "1F641", "1F620", "1F62E", "1F609", "1F618", "1F622", "1F634", "1F60E", "1F610", "1F923",
    "1F62D", "1F637", "1F61B", "1F628",
)
NON_FACE = ("1F44D", "1F63A")  # thumbs up and a grinning cat: the loaders skip them (the cat on request)


def main(argv: list[str]) -> int:
    sources = Path(argv[0]) if argv else HERE.parents[2] / "shared" / "data"
    write_ldraw(sources / "ldraw-minifig-heads.zip", HERE / "ldraw")
    for pack in ("twitter", "google"):
        write_emoji_datasource(sources / f"emoji-datasource-{pack}-faces.zip", pack,
                               HERE / f"emoji-datasource-{pack}" / "package")
    write_openmoji(sources / "openmoji-faces.zip", HERE / "openmoji" / "package")
    write_fluent(sources / "fluentui-emoji-faces.zip", HERE / "fluentui-emoji" / "package")
    return 0


def _fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _copy(archive: Archive, name: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(archive.read(name))


def write_ldraw(zip_path: Path, target: Path) -> None:
    """The chosen heads with every file they reference, in the library's own layout."""
    library = LDrawLibrary(zip_path)
    archive = Archive(zip_path, "LDraw library")
    index = {n.split("/", 1)[1].lower(): n for n in archive.names() if n.lower().startswith("ldraw/")}
    wanted, queue = set(), [f"parts/{name}" for name in (*HEADS, *PLAIN_HEADS)]
    while queue:
        key = queue.pop()
        if key in wanted:
            continue
        wanted.add(key)
        for line in library.read_text(key).splitlines():
            fields = line.split()
            if len(fields) >= 15 and fields[0] == "1":
                reference = library.resolve(" ".join(fields[14:]))
                if reference:
                    queue.append(reference)
    _fresh(target)
    for key in sorted(wanted) + [e.lower() for e in LDRAW_EXTRAS]:
        name = index[key]
        _copy(archive, name, target.parent / name)


def write_emoji_datasource(zip_path: Path, pack: str, target: Path) -> None:
    archive = Archive(zip_path, "emoji-datasource pack")
    path, entries = archive.read_json_list("emoji.json", "pack")
    kept = [e for e in entries if e["unified"] in EMOJI + NON_FACE]
    root = path.rsplit("/", 1)[0]
    _fresh(target)
    (target / "emoji.json").write_text(json.dumps(kept, indent=1), encoding="utf-8")
    _copy(archive, f"{root}/LICENSE", target / "LICENSE")
    for entry in kept:
        name = f"{root}/img/{pack}/64/{entry['image']}"
        if name in archive.names():
            _copy(archive, name, target / "img" / pack / "64" / entry["image"])


def write_openmoji(zip_path: Path, target: Path) -> None:
    archive = Archive(zip_path, "OpenMoji pack")
    _, entries = archive.read_json_list("openmoji-faces.json", "pack")
    kept = [e for e in entries if e["hexcode"] in EMOJI and not e.get("skintone")]
    _fresh(target)
    (target / "data").mkdir()
    (target / "data" / "openmoji.json").write_text(json.dumps(kept, indent=1), encoding="utf-8")
    for name in archive.names():
        file = name.rsplit("/", 1)[-1]
        if file in ("LICENSE.txt", "README.md"):
            _copy(archive, name, target / file)
        elif file.removesuffix(".svg") in {e["hexcode"] for e in kept} and "/color/svg/" in name:
            _copy(archive, name, target / "color" / "svg" / file)


def write_fluent(zip_path: Path, target: Path) -> None:
    archive = Archive(zip_path, "Fluent pack")
    _, entries = archive.read_json_list("faces.json", "pack")
    files = {e["file"] for e in entries if e["unified"] in EMOJI}
    _fresh(target)
    for name in archive.names():
        file = name.rsplit("/", 1)[-1]
        if file in ("LICENSE", "README.md", "package.json") and name.count("/") == 1:
            _copy(archive, name, target / file)
        elif file in files and "/icons/modern/" in name:
            _copy(archive, name, target / "icons" / "modern" / file)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
