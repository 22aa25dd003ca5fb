"""Read an LDraw parts library and render printed minifig heads without a 3-D engine.

The renderer flattens a part into coloured triangles, projects them orthographically
and paints them far-to-near (painter's algorithm) with Pillow at 4x supersampling.
LDraw coordinates: -Y is up and the minifig face looks towards -Z.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from common.errors import UserError
from data.archive import Archive

HEAD_COLOUR = 14  # Yellow, the classic minifig skin
MAX_FILE_BYTES = 4 * 1024 * 1024  # no part file in the official library comes close
SEARCH_FOLDERS = ("parts/", "parts/s/", "p/", "p/48/", "models/", "")
PRINTED_HEAD = re.compile(r"^3626[a-z]*p[a-z0-9]*\.dat$")
LIGHT_DIRECTION = np.array([-0.35, -0.45, -0.82])  # from upper left, in front of the face
LIGHT_DIRECTION /= np.linalg.norm(LIGHT_DIRECTION)
SUPERSAMPLE = 4
FACE_Y_RANGE = (0.0, 20.5)  # the printed cylinder of a 3626 head, without stud (y < 0) or neck


@dataclass
class Mesh:
    """Triangles of one part in its own coordinates; colour 16 means "inherit"."""

    triangles: np.ndarray  # (T, 3, 3) float32 vertex positions
    colours: np.ndarray  # (T,) int64 LDraw colour codes


EMPTY_MESH = Mesh(np.zeros((0, 3, 3), np.float32), np.zeros((0,), np.int64))


@dataclass
class RenderStats:
    """Problems met while reading geometry; each one is skipped, never fatal."""

    counts: Counter = field(default_factory=Counter)

    def add(self, problem: str) -> None:
        self.counts[problem] += 1


@dataclass
class HeadPart:
    """One printed head file: its name and description (first line)."""

    filename: str
    description: str

    @property
    def two_sided(self) -> bool:
        """True when the head carries a second expression on its back ("front / back")."""
        return "2-sided" in self.description.lower() and " / " in self.description


class LDrawLibrary:
    """An LDraw library from a folder or a zip in the official layout (top folder `ldraw/`)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._archive = Archive(path, "folder or zip of an LDraw library (the official complete.zip works)")
        self._index: dict[str, str] = {}
        for name in self._archive.names():
            relative = name.split("/", 1)[1] if name.lower().startswith("ldraw/") else name
            self._index[relative.lower()] = name
        if "ldconfig.ldr" not in self._index or not any(k.startswith("parts/") for k in self._index):
            raise UserError(
                f"{self.path} is not an LDraw library (no LDConfig.ldr or parts/ folder): pass the "
                "folder or zip whose top folder is ldraw/."
            )
        self.colours = parse_ldconfig(self.read_text("LDConfig.ldr"))
        self._meshes: dict[str, Mesh] = {}

    def read_bytes(self, key: str) -> bytes:
        """Bytes of a file given its lower-case library-relative key."""
        return self._archive.read(self._index[key.lower()])

    def read_text(self, key: str) -> str:
        return self.read_bytes(key).decode("utf-8", errors="replace")

    def resolve(self, reference: str) -> str | None:
        """Library key of a sub-file reference such as `s\\3626bs01.dat`, or None."""
        name = reference.strip().replace("\\", "/").lower()
        for folder in SEARCH_FOLDERS:
            if folder + name in self._index:
                return folder + name
        return None

    def printed_heads(self) -> list[HeadPart]:
        """Every printed minifig head (`parts/3626*p*.dat`), skipping "~Moved to" stubs."""
        heads = []
        for key in sorted(self._index):
            folder, _, name = key.rpartition("/")
            if folder != "parts" or not PRINTED_HEAD.match(name):
                continue
            description = _description(self.read_text(key))
            if description.lower().startswith("~moved to"):
                continue
            heads.append(HeadPart(name, description.lstrip("~")))
        return heads

    def mesh(self, key: str, stats: RenderStats, _stack: tuple[str, ...] = ()) -> Mesh:
        """Flattened triangles of a library file, memoised; problems are counted in stats."""
        if key in self._meshes:
            return self._meshes[key]
        if key in _stack:
            stats.add("cyclic references")
            return EMPTY_MESH
        if self._archive.size(self._index[key]) > MAX_FILE_BYTES:
            stats.add("oversized files")
            mesh = EMPTY_MESH
        else:
            mesh = self._parse(self.read_text(key), stats, _stack + (key,))
        self._meshes[key] = mesh
        return mesh

    def _parse(self, text: str, stats: RenderStats, stack: tuple[str, ...]) -> Mesh:
        triangles: list[np.ndarray] = []
        colours: list[np.ndarray] = []
        for line in text.splitlines():
            fields = line.split()
            if not fields or fields[0] not in {"1", "3", "4"}:
                continue  # comments, meta commands, edge and conditional lines
            try:
                if fields[0] == "1":
                    if len(fields) < 15:
                        raise ValueError
                    colour = int(fields[1], 0)
                    values = np.array([float(v) for v in fields[2:14]], np.float32)
                    reference = " ".join(fields[14:])
                else:
                    count = int(fields[0])
                    if len(fields) != 2 + 3 * count:
                        raise ValueError
                    colour = int(fields[1], 0)
                    vertices = np.array([float(v) for v in fields[2:]], np.float32).reshape(count, 3)
            except ValueError:
                stats.add("malformed lines")
                continue
            if not np.all(np.isfinite(values if fields[0] == "1" else vertices)):
                stats.add("malformed lines")
                continue
            if fields[0] == "1":
                key = self.resolve(reference)
                if key is None:
                    stats.add("missing sub-files")
                    continue
                child = self.mesh(key, stats, stack)
                if len(child.triangles) == 0:
                    continue
                offset, matrix = values[:3], values[3:].reshape(3, 3)
                triangles.append(child.triangles @ matrix.T + offset)
                colours.append(np.where(child.colours == 16, colour, child.colours))
            elif fields[0] == "3":
                triangles.append(vertices[None])
                colours.append(np.array([colour]))
            else:  # quad -> two triangles
                triangles.append(vertices[[[0, 1, 2], [0, 2, 3]]])
                colours.append(np.array([colour, colour]))
        if not triangles:
            return EMPTY_MESH
        return Mesh(np.concatenate(triangles).astype(np.float32), np.concatenate(colours))

    def head_mesh(self, head: HeadPart, stats: RenderStats) -> Mesh:
        """The head's triangles with colour 16 resolved to minifig yellow."""
        mesh = self.mesh(self.resolve(head.filename), stats)
        return Mesh(mesh.triangles, np.where(mesh.colours == 16, HEAD_COLOUR, mesh.colours))


def _description(text: str) -> str:
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else "0"
    return first[1:].strip() if first.startswith("0") else first.strip()


def parse_ldconfig(text: str) -> dict[int, tuple[int, int, int, int]]:
    """Colour code -> RGBA from the `0 !COLOUR` lines of LDConfig.ldr."""
    colours = {}
    for line in text.splitlines():
        match = re.search(r"!COLOUR\s+\S+\s+CODE\s+(\d+)\s+VALUE\s+#([0-9A-Fa-f]{6})", line)
        if not match:
            continue
        alpha = re.search(r"ALPHA\s+(\d+)", line)
        rgb = bytes.fromhex(match.group(2))
        colours[int(match.group(1))] = (*rgb, int(alpha.group(1)) if alpha else 255)
    return colours


def colour_rgba(code: int, table: dict[int, tuple[int, int, int, int]]) -> tuple[int, int, int, int] | None:
    """RGBA of a colour code, including direct colours 0x2RRGGBB; None when unknown."""
    if code in table:
        return table[code]
    if 0x2000000 <= code <= 0x2FFFFFF:
        return ((code >> 16) & 0xFF, (code >> 8) & 0xFF, code & 0xFF, 255)
    return None


def render_mesh(
    mesh: Mesh,
    colours: dict[int, tuple[int, int, int, int]],
    size: int,
    stats: RenderStats,
    side: str = "front",
    y_range: tuple[float, float] | None = None,
) -> Image.Image:
    """Orthographic RGBA render of a mesh, seen from the front (-Z) or back (+Z).

    The projection is fitted to the mesh's bounding box (restricted to `y_range` when
    given, so the stud and neck can be cut away) with a small margin.
    """
    triangles = mesh.triangles.astype(np.float64)
    codes = mesh.colours
    if y_range is not None:
        keep = np.all((triangles[:, :, 1] >= y_range[0]) & (triangles[:, :, 1] <= y_range[1]), axis=1)
        triangles, codes = triangles[keep], codes[keep]
    angle = np.radians(180.0 if side == "back" else 0.0)
    rotation = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    points = triangles @ rotation.T  # (T, 3, 3): camera on -Z, x right, y down
    canvas = size * SUPERSAMPLE
    image = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    if len(points) == 0:
        return image.resize((size, size), Image.LANCZOS)
    low, high = points.reshape(-1, 3).min(0), points.reshape(-1, 3).max(0)
    scale = 0.96 * canvas / max(high[0] - low[0], high[1] - low[1])
    centre = (low + high) / 2
    screen = (points[:, :, :2] - centre[:2]) * scale + canvas / 2  # (T, 3, 2)

    normals = np.cross(points[:, 1] - points[:, 0], points[:, 2] - points[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    valid = lengths > 1e-9
    normals[valid] /= lengths[valid, None]
    # LDraw winding is not reliable without full BFC bookkeeping: light both faces.
    lambert = np.abs(normals @ LIGHT_DIRECTION)
    shade = 0.55 + 0.45 * lambert

    order = np.argsort(-points[:, :, 2].mean(axis=1), kind="stable")  # far to near
    draw = ImageDraw.Draw(image)
    for index in order:
        if not valid[index]:
            continue
        rgba = colour_rgba(int(codes[index]), colours)
        if rgba is None:
            stats.add("unknown colours")
            continue
        lit = tuple(int(min(255, c * shade[index])) for c in rgba[:3]) + (255,)
        draw.polygon([tuple(p) for p in screen[index]], fill=lit)
    return image.resize((size, size), Image.LANCZOS)


def render_minifig_head(
    library: LDrawLibrary,
    head: HeadPart,
    size: int,
    stats: RenderStats,
    side: str = "front",
) -> Image.Image:
    """RGBA render of the face part of a printed head: the cylinder, without stud or neck."""
    mesh = library.head_mesh(head, stats)
    return render_mesh(mesh, library.colours, size, stats, side, y_range=FACE_Y_RANGE)


PLAIN_HEADS = ("3626c.dat", "3626b.dat", "3626a.dat", "3626.dat")  # newest mould first


def render_plain_head(library: LDrawLibrary, size: int, stats: RenderStats) -> Image.Image | None:
    """RGBA render of an unprinted minifig head (the base of a printed head), or None when the
    library has none."""
    for filename in PLAIN_HEADS:
        if library.resolve(filename):
            return render_minifig_head(library, HeadPart(filename, "plain head"), size, stats)
    return None
