"""Face emoji drawn as SVG: OpenMoji (flat, outlined) and Microsoft Fluent (shaded) packs.

Both packs are rasterised with `resvg-py` (a pip wheel, no system library). Each pack names
its emoji in its own metadata file; the expression tags come from the same vocabulary as the
other emoji sources.
"""
from __future__ import annotations

from collections import Counter

from common.errors import UserError
from data.archive import Archive
from data.labels import emoji_tags
from data.record import EMOJI, SourceFace, decode_image

RENDER_SIZE = 256  # SVGs are drawn at this side, then framed and shrunk like every other source
MAX_SVG_BYTES = 2_000_000


def render_svg(markup: bytes, problems: Counter, size: int = RENDER_SIZE):
    """RGBA image of an SVG drawn at `size` x `size`, or None (counted) when it cannot be drawn."""
    import resvg_py

    try:
        png = resvg_py.svg_to_bytes(svg_string=markup.decode("utf-8"), width=size, height=size,
                                    skip_system_fonts=True)
    except (UnicodeDecodeError, ValueError, RuntimeError, OSError):
        problems["unreadable emoji SVGs"] += 1
        return None
    return decode_image(bytes(png), problems, "unreadable emoji SVGs")


def _faces(archive: Archive, entries: list[tuple], source: str, problems: Counter) -> list[SourceFace]:
    """(file name in the archive, emoji name, subcategory[, keywords]) -> labelled faces."""
    available = set(archive.names())
    faces = []
    for file, name, subcategory, *keywords in entries:
        if not subcategory.startswith("face-"):
            continue
        if file not in available:
            problems[f"{source} images missing from the pack"] += 1
            continue
        if archive.size(file) > MAX_SVG_BYTES:
            problems["oversized emoji SVGs"] += 1
            continue
        image = render_svg(archive.read(file), problems)
        if image is not None:
            tags = emoji_tags(name, *keywords, subcategory=subcategory)
            faces.append(SourceFace(image, EMOJI, source, name.lower(), tags))
    return faces


def load_openmoji(path, problems: Counter) -> list[SourceFace]:
    """Colour OpenMoji faces from the npm package layout (`color/svg/<HEXCODE>.svg` and
    `data/openmoji*.json` with `hexcode`, `annotation`, `subgroups`)."""
    what = "OpenMoji pack (folder or zip with data/openmoji.json and color/svg/, e.g. from `npm pack openmoji`)"
    with Archive(path, what) as archive:
        svgs = {n.rsplit("/", 1)[-1].upper(): n for n in archive.names()
                if "/color/svg/" in f"/{n}" and n.endswith(".svg")}
        if not svgs:
            raise UserError(f"{archive.path} has no color/svg/*.svg files: pass the {what}.")
        entries = []
        metadata = "openmoji-faces.json" if any(n.endswith("openmoji-faces.json") for n in archive.names()) \
            else "openmoji.json"
        for item in archive.read_json_list(metadata, f"the {what}")[1]:
            try:
                hexcode, name, subgroup = str(item["hexcode"]), str(item["annotation"]), str(item.get("subgroups", ""))
                keywords = tuple(k.strip() for k in str(item.get("openmoji_tags") or "").split(",") if k.strip())
            except (KeyError, TypeError):
                problems["malformed OpenMoji metadata entries"] += 1
                continue
            if item.get("skintone"):
                continue  # one picture per emoji; skin-tone variants would only repeat it
            entries.append((svgs.get(f"{hexcode.upper()}.SVG", f"missing:{hexcode}"), name, subgroup, keywords))
        return _faces(archive, entries, "openmoji", problems)


def load_fluent(path, problems: Counter, emoji_entries=()) -> list[SourceFace]:
    """Fluent Emoji faces from the `fluentui-emoji` npm layout (`icons/modern/<name>.svg`).

    The npm package ships no metadata: each file is named after its emoji's Unicode name
    (`grinning-face.svg`), so `emoji_entries` (an emoji-datasource pack's EmojiEntry list) name and
    tag it. A `faces.json` of `file`, `name`, `subcategory` beside the pictures is read instead
    where present (the subset archives carry one)."""
    what = "Fluent Emoji pack (folder, zip or npm tarball with icons/modern/*.svg, e.g. from `npm pack fluentui-emoji`)"
    with Archive(path, what) as archive:
        by_file = {n.rsplit("/", 1)[-1]: n for n in archive.names() if "icons/modern/" in n and n.endswith(".svg")}
        if not by_file:
            raise UserError(f"{archive.path} has no icons/modern/*.svg files: pass the {what}.")
        if not any(n.rsplit("/", 1)[-1] == "faces.json" for n in archive.names()):
            if not emoji_entries:
                raise UserError(f"{archive.path} has no faces.json: pass an emoji-datasource pack too "
                                "(--emoji-pack), whose emoji.json names the Fluent pictures.")
            entries = [(by_file[file], entry.name, entry.subcategory)
                       for entry in emoji_entries if (file := fluent_file_name(entry.name)) in by_file]
            return _faces(archive, entries, "fluent", problems)
        entries = []
        for item in archive.read_json_list("faces.json", f"the {what}")[1]:
            try:
                file, name, subcategory = str(item["file"]), str(item["name"]), str(item.get("subcategory", ""))
            except (KeyError, TypeError):
                problems["malformed Fluent metadata entries"] += 1
                continue
            entries.append((by_file.get(file, f"missing:{file}"), name, subcategory))
        return _faces(archive, entries, "fluent", problems)


def fluent_file_name(unicode_name: str) -> str:
    """The Fluent package's file for an emoji's Unicode name: "FACE WITH TEARS OF JOY" ->
    "face-with-tears-of-joy.svg"."""
    words = "".join(c if c.isalnum() else " " for c in unicode_name.lower()).split()
    return "-".join(words) + ".svg"
