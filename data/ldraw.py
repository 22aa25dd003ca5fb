"""Read an LDraw parts library and render printed minifig heads without a 3-D engine.

The renderer flattens a part into coloured triangles, projects them orthographically
and paints them far-to-near (painter's algorithm) with Pillow at 4x supersampling.
LDraw coordinates: -Y is up and the minifig face looks towards -Z.

It also reads LDraw documents of its own (an MPD's `0 FILE` blocks and the pictures they
embed with `0 !DATA`) and draws cylindrical `!TEXMAP`s whose picture the document embeds.
A texmap without its picture (the library's `textures/` folder is not read) or of another
method is drawn by its fallback geometry, as LDView does when a texture fails to load.
"""
from __future__ import annotations

import base64
import binascii
import io
import re
from collections import Counter
from dataclasses import dataclass, field, replace
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
MPD_KEY = "mpd:"  # marks a document's own files among the library keys of a reference stack
DATA_ROW = re.compile(r"^\s*0\s+!:(.*)$")  # a row of texmap geometry or of embedded data


@dataclass(frozen=True)
class Texmap:
    """A cylindrical texture map (`0 !TEXMAP START CYLINDRICAL`) in its file's coordinates.

    The picture is wrapped round the axis from `bottom` to `top`: v runs from 0 at the top to
    1 at the bottom, u is 0.5 where `front` is and grows by 1 over `angle` degrees turning from
    `front` as the right hand turns about the bottom-to-top axis (the convention of LDView 4.6
    and LeoCAD). Outside u, v in [0, 1] the geometry keeps its own colour.
    """

    picture: np.ndarray  # (H, W, 4) uint8 RGBA
    bottom: np.ndarray  # (3,)
    top: np.ndarray  # (3,)
    front: np.ndarray  # (3,)
    angle: float  # degrees

    def moved(self, offset: np.ndarray, matrix: np.ndarray) -> Texmap:
        """The same map in a parent file's coordinates (a type 1 line's position and matrix)."""
        return replace(self, bottom=matrix @ self.bottom + offset, top=matrix @ self.top + offset,
                       front=matrix @ self.front + offset)

    def uv(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Texture coordinates (u, v), each (N,), of points (N, 3)."""
        axis = self.top - self.bottom
        height = float(np.linalg.norm(axis))
        up = axis / height
        v = (self.top - points) @ up / height
        radial = (points - self.top) - np.outer((points - self.top) @ up, up)  # (N, 3) off the axis
        front = (self.front - self.top) - ((self.front - self.top) @ up) * up
        front = front / np.linalg.norm(front)
        turn = np.arctan2(np.cross(front, radial) @ up, radial @ front)
        return 0.5 + np.degrees(turn) / self.angle, v


@dataclass
class Mesh:
    """Triangles of one part in its own coordinates; colour 16 means "inherit"."""

    triangles: np.ndarray  # (T, 3, 3) float32 vertex positions
    colours: np.ndarray  # (T,) int64 LDraw colour codes
    texmaps: tuple[Texmap, ...] = ()
    texmap_index: np.ndarray | None = None  # (T,) int64 index into texmaps, -1: untextured

    def __post_init__(self):
        if self.texmap_index is None:
            self.texmap_index = np.full(len(self.triangles), -1, np.int64)


EMPTY_MESH = Mesh(np.zeros((0, 3, 3), np.float32), np.zeros((0,), np.int64))


@dataclass
class LDrawDocument:
    """An LDraw file as read: its files by lower-case name (an MPD's `0 FILE` blocks, or the
    one plain file) and the binary files it embeds with `0 !DATA`, decoded."""

    main: str  # the first file: the one to draw
    files: dict[str, str]
    data: dict[str, bytes]


def read_document(text: str, name: str = "main.ldr") -> LDrawDocument:
    """Split an LDraw file into its blocks, per the MPD and !DATA extension: a `0 FILE` or
    `0 !DATA` line starts a block, `0 NOFILE` ends one, lines before the first are dropped.
    A file without blocks is one plain file called `name`. Base64 that does not decode gives
    empty data (the texmap that wants it falls back)."""
    files: dict[str, list[str]] = {}
    data: dict[str, list[str]] = {}
    current: list[str] | None = None
    main = None
    for line in text.lstrip("\ufeff").splitlines():
        fields = line.split(maxsplit=2)
        if len(fields) == 3 and fields[0] == "0" and fields[1] in ("FILE", "!DATA"):
            key = fields[2].strip().replace("\\", "/").lower()
            current = (files if fields[1] == "FILE" else data).setdefault(key, [])
            main = main or (key if fields[1] == "FILE" else None)
        elif fields[:2] == ["0", "NOFILE"]:
            current = None
        elif current is not None:
            current.append(line)
    if main is None:
        return LDrawDocument(name.lower(), {name.lower(): text}, {})
    return LDrawDocument(main, {key: "\n".join(lines) for key, lines in files.items()},
                         {key: _decode_rows(lines) for key, lines in data.items()})


def _decode_rows(lines: list[str]) -> bytes:
    """The bytes of a !DATA block's `0 !: <base64>` rows (other lines are not data)."""
    rows = [match.group(1) for match in map(DATA_ROW.match, lines) if match]
    try:
        return base64.b64decode("".join(rows))  # characters outside base64 are skipped
    except binascii.Error:
        return b""


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
    """An LDraw library from a folder or a zip in the official layout (top folder `ldraw/`); a
    context manager that closes its zip."""

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

    def close(self) -> None:
        self._archive.close()

    def __enter__(self) -> "LDrawLibrary":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

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

    def document_mesh(self, document: LDrawDocument, stats: RenderStats, textures: bool = True) -> Mesh:
        """Flattened triangles of a document's main file; its references are looked up among
        the document's own files first, then in the library. With `textures=False` it is read
        as a program without !TEXMAP support reads it: the fallback geometry, no `0 !:` lines."""
        key = MPD_KEY + document.main
        return self._parse(document.files[document.main], stats, (key,), document, textures)

    def _child(self, reference: str, stats: RenderStats, stack: tuple[str, ...],
               document: LDrawDocument | None, textures: bool) -> Mesh | None:
        """The mesh a type 1 line refers to, or None when neither the document nor the library has it."""
        name = reference.strip().replace("\\", "/").lower()
        if document is not None and name in document.files:
            if MPD_KEY + name in stack:
                stats.add("cyclic references")
                return EMPTY_MESH
            return self._parse(document.files[name], stats, stack + (MPD_KEY + name,), document, textures)
        key = self.resolve(reference)
        return None if key is None else self.mesh(key, stats, stack)

    def _parse(self, text: str, stats: RenderStats, stack: tuple[str, ...],
               document: LDrawDocument | None = None, textures: bool = True) -> Mesh:
        triangles: list[np.ndarray] = []
        colours: list[np.ndarray] = []
        indices: list[np.ndarray] = []  # the texmap of each triangle, -1 for none
        texmaps: list[Texmap] = []
        blocks: list[_TexmapBlock] = []  # open !TEXMAPs, innermost last
        for line in text.splitlines():
            fields = line.split()
            if textures and fields[:2] == ["0", "!TEXMAP"]:
                self._texmap_command(fields[2:], blocks, texmaps, document, stats)
                continue
            texmap = -1
            if blocks:
                block = blocks[-1]
                row = DATA_ROW.match(line)
                if row is not None:  # `0 !: <geometry>`: drawn only with its texture
                    if block.index is None or block.fallback:
                        continue
                    fields = row.group(1).split()
                elif block.index is not None and block.fallback:
                    continue  # the fallback, for programs without textures
                if block.index is not None:
                    texmap = block.index
                if block.next_only and fields[:1] in (["1"], ["3"], ["4"]):
                    blocks.pop()
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
                child = self._child(reference, stats, stack, document, textures)
                if child is None:
                    stats.add("missing sub-files")
                    continue
                if len(child.triangles) == 0:
                    continue
                offset, matrix = values[:3], values[3:].reshape(3, 3)
                triangles.append(child.triangles @ matrix.T + offset)
                colours.append(np.where(child.colours == 16, colour, child.colours))
                # a subfile's own texmaps win; the rest of it takes the texture in effect here
                indices.append(np.where(child.texmap_index >= 0, child.texmap_index + len(texmaps), texmap))
                texmaps.extend(t.moved(offset, matrix) for t in child.texmaps)
            elif fields[0] == "3":
                triangles.append(vertices[None])
                colours.append(np.array([colour]))
                indices.append(np.array([texmap]))
            else:  # quad -> two triangles
                triangles.append(vertices[[[0, 1, 2], [0, 2, 3]]])
                colours.append(np.array([colour, colour]))
                indices.append(np.array([texmap, texmap]))
        if not triangles:
            return EMPTY_MESH
        return Mesh(np.concatenate(triangles).astype(np.float32), np.concatenate(colours), tuple(texmaps),
                    np.concatenate(indices).astype(np.int64))

    def _texmap_command(self, words: list[str], blocks: list[_TexmapBlock], texmaps: list[Texmap],
                        document: LDrawDocument | None, stats: RenderStats) -> None:
        """Follow one `0 !TEXMAP` line (its words after !TEXMAP): open, split or close a block."""
        command = words[0] if words else ""
        if command in ("START", "NEXT"):
            texmap = _read_texmap(words[1:], document, stats)
            if texmap is not None:
                texmaps.append(texmap)
            blocks.append(_TexmapBlock(len(texmaps) - 1 if texmap is not None else None, command == "NEXT"))
        elif command == "FALLBACK" and blocks:
            blocks[-1].fallback = True
        elif command == "END" and blocks:
            blocks.pop()
        else:
            stats.add("malformed lines")

    def head_mesh(self, head: HeadPart, stats: RenderStats) -> Mesh:
        """The head's triangles with colour 16 resolved to minifig yellow."""
        mesh = self.mesh(self.resolve(head.filename), stats)
        return replace(mesh, colours=np.where(mesh.colours == 16, HEAD_COLOUR, mesh.colours))


@dataclass
class _TexmapBlock:
    """An open `0 !TEXMAP START` (or NEXT) of the file being read."""

    index: int | None  # its map among the file's texmaps; None: no picture, drawn as without textures
    next_only: bool  # NEXT: it textures the next geometry line only
    fallback: bool = False  # past its `0 !TEXMAP FALLBACK` line


def _read_texmap(words: list[str], document: LDrawDocument | None, stats: RenderStats) -> Texmap | None:
    """The map a `!TEXMAP START` line names (its words after START), or None where it cannot be
    drawn: another method than CYLINDRICAL, or a picture the document does not embed."""
    if words[:1] != ["CYLINDRICAL"]:
        return None
    try:
        if len(words) < 12:
            raise ValueError
        values = np.array([float(v) for v in words[1:11]])
        if not np.all(np.isfinite(values)):
            raise ValueError
    except ValueError:
        stats.add("malformed lines")
        return None
    bottom, top, front, angle = values[0:3], values[3:6], values[6:9], float(values[9])
    axis = top - bottom
    if axis @ axis < 1e-12 or angle == 0 or np.linalg.norm(np.cross(front - top, axis)) < 1e-6:
        stats.add("malformed lines")  # no axis, no turn, or the front point on the axis
        return None
    data = document.data.get(words[11].replace("\\", "/").lower()) if document is not None else None
    if data is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as picture:
            rgba = np.asarray(picture.convert("RGBA"))
    except (OSError, ValueError, Image.DecompressionBombError):
        stats.add("unreadable textures")
        return None
    return Texmap(rgba, bottom, top, front, angle)


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


def surface_shade(normals: np.ndarray) -> np.ndarray:
    """The renderer's brightness factor (...,) of surfaces with unit normals (..., 3)."""
    # LDraw winding is not reliable without full BFC bookkeeping: light both faces.
    return 0.55 + 0.45 * np.abs(normals @ LIGHT_DIRECTION)


def render_mesh(
    mesh: Mesh,
    colours: dict[int, tuple[int, int, int, int]],
    size: int,
    stats: RenderStats,
    side: str = "front",
    y_range: tuple[float, float] | None = None,
    turn: float = 0.0,
    tilt: float = 0.0,
) -> Image.Image:
    """Orthographic RGBA render of a mesh, seen from the front (-Z) or back (+Z), the camera
    moved `turn` degrees round the vertical axis (towards +X, on the right seen from the front)
    and `tilt` degrees up to look down on it.

    The projection is fitted to the mesh's bounding box (restricted to `y_range` when
    given, so the stud and neck can be cut away) with a small margin. Textured triangles
    show their texture, over their own colour where it is transparent.
    """
    triangles = mesh.triangles.astype(np.float64)
    codes, textured = mesh.colours, mesh.texmap_index
    if y_range is not None:
        keep = np.all((triangles[:, :, 1] >= y_range[0]) & (triangles[:, :, 1] <= y_range[1]), axis=1)
        triangles, codes, textured = triangles[keep], codes[keep], textured[keep]
    angle, pitch = np.radians((180.0 if side == "back" else 0.0) + turn), np.radians(tilt)
    rotation = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]]) @ \
        np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
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
    shade = surface_shade(normals)

    order = np.argsort(-points[:, :, 2].mean(axis=1), kind="stable")  # far to near
    draw = ImageDraw.Draw(image)
    # 1 + the textured triangle that shows at each pixel (0: none), drawn when some triangle is textured
    owners = Image.new("I", (canvas, canvas), 0) if (textured >= 0).any() else None
    draw_owners = ImageDraw.Draw(owners) if owners is not None else None
    for index in order:
        if not valid[index]:
            continue
        rgba = colour_rgba(int(codes[index]), colours)
        if rgba is None:
            stats.add("unknown colours")
            continue
        lit = tuple(int(min(255, c * shade[index])) for c in rgba[:3]) + (255,)
        polygon = [tuple(p) for p in screen[index]]
        draw.polygon(polygon, fill=lit)
        if draw_owners is not None:
            draw_owners.polygon(polygon, fill=int(index) + 1 if textured[index] >= 0 else 0)
    if owners is not None:
        owner = np.asarray(owners) - 1  # (C, C) -1 where no textured triangle shows
        rows, columns = np.nonzero(owner >= 0)
        owner = owner[rows, columns]
        xy = (np.stack([columns, rows], axis=1) - canvas / 2) / scale + centre[:2]  # (N, 2) camera x, y
        camera = np.column_stack([xy, _pixel_depths(points, normals, owner, xy)])
        model = camera @ rotation  # (N, 3) the pixels' points on their triangles, in the mesh's coordinates
        drawn = np.unique(owner)
        base = np.zeros((len(codes), 3))
        base[drawn] = [colour_rgba(int(codes[index]), colours)[:3] for index in drawn]
        colour = base[owner]
        for number, texmap in enumerate(mesh.texmaps):
            chosen = textured[owner] == number
            if chosen.any():
                texture = _texture_colour(texmap, model[chosen])  # (n, 4)
                alpha = texture[:, 3:] / 255.0
                colour[chosen] = texture[:, :3] * alpha + colour[chosen] * (1 - alpha)
        pixels = np.array(image)
        pixels[rows, columns, :3] = np.minimum(255, colour * shade[owner, None]).astype(np.uint8)
        image = Image.fromarray(pixels, "RGBA")
    return image.resize((size, size), Image.LANCZOS)


def _pixel_depths(triangles: np.ndarray, normals: np.ndarray, owner: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """(N,) depths of camera points x, y (N, 2) on the planes of the triangles (T, 3, 3), with
    unit normals (T, 3), that show there (`owner`, (N,)); kept within each triangle's depths,
    as an edge-on triangle has no plane to use."""
    facing = np.where(np.abs(normals[:, 2]) > 1e-9, normals[:, 2], 1e-9)
    slopes = -normals[:, :2] / facing[:, None]  # (T, 2) dz/dx, dz/dy
    offsets = triangles[:, 0, 2] - (triangles[:, 0, :2] * slopes).sum(axis=1)  # (T,)
    depths = offsets[owner] + (xy * slopes[owner]).sum(axis=1)
    return np.clip(depths, triangles[:, :, 2].min(axis=1)[owner], triangles[:, :, 2].max(axis=1)[owner])


def _texture_colour(texmap: Texmap, points: np.ndarray) -> np.ndarray:
    """(N, 4) RGBA of a texmap's picture at points (N, 3); transparent where the points lie
    outside the picture (u or v beyond [0, 1])."""
    u, v = texmap.uv(points)
    height, width = texmap.picture.shape[:2]
    colour = sample_bilinear(texmap.picture, v * height - 0.5, u * width - 0.5)
    colour[(u < 0) | (u > 1) | (v < 0) | (v > 1), 3] = 0
    return colour


def sample_bilinear(image: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """(..., C) float32 colours of an image (H, W, C) at fractional pixel positions (pixel
    centres at whole numbers), interpolated bilinearly; positions beyond the edge take the edge."""
    height, width = image.shape[:2]
    rows, columns = np.clip(rows, 0, height - 1), np.clip(columns, 0, width - 1)
    r0, c0 = np.floor(rows).astype(int), np.floor(columns).astype(int)
    r1, c1 = np.minimum(r0 + 1, height - 1), np.minimum(c0 + 1, width - 1)
    fr, fc = (rows - r0).astype(np.float32)[..., None], (columns - c0).astype(np.float32)[..., None]
    image = image.astype(np.float32)
    return (image[r0, c0] * (1 - fr) * (1 - fc) + image[r0, c1] * (1 - fr) * fc
            + image[r1, c0] * fr * (1 - fc) + image[r1, c1] * fr * fc)


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
