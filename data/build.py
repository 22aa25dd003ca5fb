"""Build the labelled Lego-face + emoji dataset: `python -m data.build --help`."""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from common.cli import run_cli
from common.errors import UserError
from common.files import atomic_path
from data.dataset import FaceDataset, contact_sheet, stratified_split
from data.emoji_font import find_emoji_fonts, load_font_emoji
from data.emoji_pack import load_emoji_pack_and_metadata
from data.emoji_svg import load_fluent, load_openmoji
from data.fetch import default_sources_folder, find_sources
from data.framing import frame_face, random_jitter
from data.labels import EXPRESSIONS, expression_tags, ldraw_side_texts
from data.ldraw import LDrawLibrary, RenderStats, render_minifig_head, render_plain_head
from data.printed import choose_bases, preview_cells, printed_heads
from data.record import EMOJI, LEGO, SourceFace

DEFAULT_OUTPUT = Path("build") / "dataset-{size}.npz"


def load_ldraw_heads(path, size: int, stats: RenderStats, progress: bool = True) -> list[SourceFace]:
    """Every printed head from the front, plus the back of each two-sided head, at `size` px."""
    with LDrawLibrary(path) as library:
        heads = library.printed_heads()
        if not heads:
            raise UserError(f"{path} has no printed minifig heads (parts/3626*p*.dat): pass a full LDraw library.")
        faces = []
        for head in tqdm(heads, desc="LDraw heads", unit="head", disable=not progress, leave=False):
            for side, text in ldraw_side_texts(head.description, head.two_sided).items():
                image = render_minifig_head(library, head, size, stats, side=side)
                name = f"{head.description} ({side})" if head.two_sided else head.description
                faces.append(SourceFace(image, LEGO, "ldraw", name, expression_tags(text), part=head.filename))
        return faces


def collect_faces(args: argparse.Namespace, problems: Counter) -> list[SourceFace]:
    """Every face from every source the user named, in a deterministic order."""
    master_size = max(256, 4 * args.size)  # render large, frame and augment, then shrink
    faces: list[SourceFace] = []
    if args.ldraw:
        stats = RenderStats()
        faces += load_ldraw_heads(args.ldraw, master_size, stats, progress=not args.quiet)
        problems.update({f"LDraw {k}": v for k, v in stats.counts.items()})
    pack_entries = []
    for pack in args.emoji_pack:
        pack_faces, entries = load_emoji_pack_and_metadata(pack, problems, include_animals=args.include_animals)
        faces += pack_faces
        pack_entries = pack_entries or entries
    fonts = args.emoji_font if args.emoji_font is not None else list(find_emoji_fonts().items())
    for font in fonts:
        source, path = font if isinstance(font, tuple) else (f"{Path(font).stem.lower()}-font", font)
        if not pack_entries:
            raise UserError("--emoji-font needs an --emoji-pack too: the pack's emoji.json says which emoji "
                              "are faces.")
        faces += load_font_emoji(path, pack_entries, problems, source=source.replace("notocoloremoji", "noto"),
                                 include_animals=args.include_animals)
    if args.openmoji:
        faces += load_openmoji(args.openmoji, problems)
    if args.fluent:
        faces += load_fluent(args.fluent, problems, pack_entries)
    return faces


def frame_all(faces: list[SourceFace], size: int, problems: Counter,
              quiet: bool) -> tuple[list[SourceFace], np.ndarray]:
    """Frame every face; faces that cannot be framed (blank images) are counted and dropped."""
    kept, images = [], []
    for face in tqdm(faces, desc="framing", unit="img", disable=quiet, leave=False):
        try:
            images.append(frame_face(face.rgba, size))
        except ValueError:
            problems[f"blank {face.source} images"] += 1
            continue
        kept.append(face)
    return kept, np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8)


def augment(faces: list[SourceFace], split: np.ndarray, target_per_domain: int, size: int, seed: int,
            quiet: bool) -> tuple[np.ndarray, np.ndarray]:
    """Jittered copies of training originals, filling each domain up to `target_per_domain` images.

    Returns the images and, for each, the index of the original it was made from.
    """
    rng = np.random.default_rng(seed + 1)
    domains = np.array([f.domain for f in faces])
    plan = []
    for domain in (LEGO, EMOJI):
        pool = np.flatnonzero((domains == domain) & (split == "train"))
        missing = target_per_domain - int((domains == domain).sum())
        if len(pool) and missing > 0:
            plan.extend(rng.choice(pool, size=missing, replace=True) if missing > len(pool)
                        else rng.permutation(pool)[:missing])
    images = [frame_face(faces[i].rgba, size, random_jitter(rng))
              for i in tqdm(plan, desc="augmenting", unit="img", disable=quiet, leave=False)]
    stacked = np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8)
    return stacked, np.asarray(plan, dtype=np.int64)


def print_emoji_on_heads(args: argparse.Namespace, faces: list[SourceFace], split: np.ndarray,
                         quiet: bool) -> tuple[list[SourceFace], np.ndarray, np.ndarray, np.ndarray]:
    """Training emoji printed on training Lego heads (see data/printed.py): the faces, their
    framed images, and for each the index of its emoji and of its base (-1: the plain head)."""
    stats = RenderStats()
    plain = None
    if args.ldraw:
        with LDrawLibrary(args.ldraw) as library:
            plain = render_plain_head(library, max(256, 4 * args.size), stats)
    lego = [(i, f) for i, f in enumerate(faces) if f.source == "ldraw" and split[i] == "train"]
    emoji = [(i, f) for i, f in enumerate(faces) if f.domain == EMOJI and split[i] == "train"]
    bases = choose_bases(lego, plain, args.print_bases)
    if args.printed_preview and bases:
        cells = preview_cells(emoji, bases, lambda rgba: frame_face(rgba, args.size))
        with atomic_path(args.printed_preview) as temporary:
            contact_sheet(np.stack(cells), columns=5).save(temporary, format="PNG")
    if not bases or not emoji:
        return [], np.zeros((0, args.size, args.size, 3), np.uint8), np.zeros(0, np.int64), np.zeros(0, np.int64)
    rng = np.random.default_rng(args.seed + 2)
    made = printed_heads(tqdm(emoji, desc="printing", unit="emoji", disable=quiet, leave=False), bases,
                         args.prints, rng)
    images = np.stack([frame_face(face.rgba, args.size, random_jitter(rng)) for face, _, _ in made]) if made else \
        np.zeros((0, args.size, args.size, 3), np.uint8)
    return ([face for face, _, _ in made], images, np.array([e for _, e, _ in made], np.int64),
            np.array([b for _, _, b in made], np.int64))


def pair_columns(faces: list[SourceFace], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Partners of real faces: an emoji shares its expression dims with the same emoji in
    another art style; each side of a two-sided head shares the other dims with the other side."""
    rng = np.random.default_rng(seed + 3)
    expression = np.full(len(faces), -1, np.int64)
    identity = np.full(len(faces), -1, np.int64)
    by_name: dict[str, list[int]] = {}
    by_part: dict[str, list[int]] = {}
    for index, face in enumerate(faces):
        if face.domain == EMOJI:
            by_name.setdefault(face.name, []).append(index)
        elif face.part:
            by_part.setdefault(face.part, []).append(index)
    for members in by_name.values():
        for index in members:
            others = [m for m in members if faces[m].source != faces[index].source]
            expression[index] = rng.choice(others) if others else -1
    for members in by_part.values():
        if len(members) == 2:
            identity[members[0]], identity[members[1]] = members[1], members[0]
    return expression, identity


def build_dataset(args: argparse.Namespace) -> tuple[FaceDataset, Counter]:
    """Everything but writing: collect, frame, split, print emoji on heads and augment."""
    problems: Counter = Counter()
    faces = collect_faces(args, problems)
    faces, images = frame_all(faces, args.size, problems, args.quiet)
    if not faces:
        raise UserError("the sources gave no images: check the paths passed to --ldraw and --emoji-pack.")
    domain = np.array([f.domain for f in faces])
    group = np.array([f"{f.domain}:{f.name}" for f in faces])
    split = stratified_split(domain, group, args.val_fraction, args.seed)
    extra, origin = augment(faces, split, args.augment // 2, args.size, args.seed, args.quiet) if args.augment else (
        np.zeros((0, args.size, args.size, 3), np.uint8), np.zeros(0, np.int64))
    pair_expression, pair_identity = pair_columns(faces, args.seed)
    printed, printed_images, printed_emoji, printed_base = print_emoji_on_heads(args, faces, split, args.quiet) \
        if args.prints else ([], np.zeros((0, args.size, args.size, 3), np.uint8), np.zeros(0, np.int64),
                             np.zeros(0, np.int64))
    real = len(faces)
    faces = faces + printed  # printed heads are originals too, always in the training split
    origin = np.concatenate([np.arange(len(faces)), origin])  # augmented copies are of real faces only

    def column(attribute, values=None):
        return np.array([getattr(f, attribute) if values is None else values(f) for f in faces])[origin]

    dataset = FaceDataset(
        images=np.concatenate([images, printed_images, extra]),
        domain=column("domain"),
        source=column("source"),
        name=column("name"),
        tags=column("tags", lambda f: "|".join(f.tags)),
        split=np.concatenate([split, np.full(len(printed), "train"), np.full(len(extra), "train")]),
        augmented=np.arange(len(origin)) >= len(faces),
        origin=origin,
        synthetic=(origin >= real),
        pair_expression=np.concatenate([pair_expression, printed_emoji])[origin],
        # a print on the plain head shares everything with its emoji; on a real head, the head's identity
        pair_identity=np.concatenate([pair_identity, np.where(printed_base >= 0, printed_base, printed_emoji)])[origin],
        meta={"size": args.size, "seed": args.seed, "val_fraction": args.val_fraction, "augment": args.augment,
              "prints": args.prints, "print_bases": args.print_bases, "skipped": dict(problems)},
    )
    return dataset, problems


def count_table(dataset: FaceDataset) -> str:
    """Per-source counts: originals, augmented copies, validation images and tagged share."""
    rows = [("domain", "source", "original", "augmented", "val", "tagged")]
    for domain, source in sorted({(d, s) for d, s in zip(dataset.domain, dataset.source)}):
        mask = (dataset.domain == domain) & (dataset.source == source)
        original = mask & ~dataset.augmented
        tagged = original & (dataset.tags != "")
        rows.append((domain, source, str(original.sum()), str((mask & dataset.augmented).sum()),
                     str((mask & (dataset.split == "val")).sum()), f"{tagged.sum() / max(1, original.sum()):.0%}"))
    for domain in (LEGO, EMOJI):
        mask = dataset.domain == domain
        rows.append((domain, "all", str((mask & ~dataset.augmented).sum()), str((mask & dataset.augmented).sum()),
                     str((mask & (dataset.split == "val")).sum()), f"{mask.mean():.0%} of all"))
    return text_table(rows)


def tag_table(dataset: FaceDataset) -> str:
    """Per expression, how many originals carry it: real Lego faces, printed heads, emoji."""
    originals = dataset.originals()
    matrix = originals.tag_matrix()
    groups = {"lego (real)": (originals.domain == LEGO) & ~originals.synthetic,
              "lego (printed)": originals.synthetic, "emoji": originals.domain == EMOJI}
    rows = [("expression", *groups)]
    rows += [(tag, *(str(int(matrix[mask, j].sum())) for mask in groups.values())) for j, tag in enumerate(EXPRESSIONS)]
    rows.append(("any tag", *(f"{matrix[mask].any(axis=1).mean():.0%} of {int(mask.sum())}" if mask.any() else "none"
                              for mask in groups.values())))  # a build without prints has no printed heads
    return text_table(rows)


def text_table(rows: list[tuple[str, ...]]) -> str:
    """Rows of cells as left-aligned columns."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows)


def preview_images(dataset: FaceDataset, columns: int = 16) -> np.ndarray:
    """Rows of Lego originals, emoji originals, then augmented images, for the contact sheet."""
    rng = np.random.default_rng(0)
    picks = []
    for mask in (
        (dataset.domain == LEGO) & ~dataset.augmented,
        (dataset.domain == EMOJI) & ~dataset.augmented,
        dataset.augmented,
    ):
        indices = np.flatnonzero(mask)
        if len(indices):
            picks.extend(np.sort(rng.choice(indices, size=min(len(indices), 3 * columns), replace=False)))
    return dataset.images[picks]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m data.build", description=__doc__)
    parser.add_argument("--sources", type=Path, default=default_sources_folder(),
                        help="folder of the sources `python -m data.fetch` downloads (or of their subset archives), "
                             "read when no source is named (default: $LEGOMOJI_SOURCES, else "
                             "~/.cache/legomoji/sources)")
    parser.add_argument("--ldraw", type=Path, help="LDraw library folder or zip (the official complete.zip works)")
    parser.add_argument("--emoji-pack", type=Path, action="append",
                        help="emoji-datasource pack, folder, zip or npm tarball; repeat for several")
    parser.add_argument("--emoji-font", type=Path, action="append",
                        help="colour emoji font file; repeat for several (default: every installed one)")
    parser.add_argument("--no-fonts", action="store_true", help="use no emoji font")
    parser.add_argument("--openmoji", type=Path,
                        help="OpenMoji pack, folder, zip or npm tarball (`npm pack openmoji`)")
    parser.add_argument("--fluent", type=Path,
                        help="Fluent Emoji pack, folder, zip or npm tarball (`npm pack fluentui-emoji`)")
    parser.add_argument("--include-animals", action="store_true", help="keep cat and monkey face emoji too")
    parser.add_argument("--size", type=int, default=64, help="square image size in pixels (default 64; 128 works)")
    parser.add_argument("--augment", type=int, default=2400,
                        help="fill each domain to half this total with jittered training copies (0: none)")
    parser.add_argument("--prints", type=int, default=3,
                        help="print each training emoji on this many Lego heads: the plain head and real heads "
                             "with their features erased (synthetic Lego faces; 0: none)")
    parser.add_argument("--print-bases", type=int, default=60,
                        help="how many real heads (their features erased) the prints may sit on")
    parser.add_argument("--printed-preview", type=Path,
                        help="also write a sheet of emoji and their prints on four heads here")
    parser.add_argument("--val-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help=f"output .npz (default {DEFAULT_OUTPUT})")
    parser.add_argument("--preview", type=Path, help="also write a contact sheet PNG here")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.size < 16:
        parser.error("--size must be at least 16 pixels")
    if not 0 <= args.val_fraction < 1:
        parser.error("--val-fraction must be in [0, 1)")
    args.out = args.out or Path(str(DEFAULT_OUTPUT).format(size=args.size))
    if args.no_fonts:
        args.emoji_font = []
    named = any([args.ldraw, args.emoji_pack, args.openmoji, args.fluent])
    if not named:
        found = find_sources(args.sources)
        if not found:
            parser.error(f"no sources in {args.sources}: run `python -m data.fetch` first, or pass --ldraw PATH "
                         "and --emoji-pack PATH.")
        args.ldraw, args.openmoji, args.fluent = found.get("ldraw"), found.get("openmoji"), found.get("fluentui-emoji")
        args.emoji_pack = [found[n] for n in ("emoji-datasource-twitter", "emoji-datasource-google") if n in found]
    args.emoji_pack = args.emoji_pack or []
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_cli(lambda: build_and_report(args), on_interrupt=f"{args.out} was left as it was")


def build_and_report(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    dataset, problems = build_dataset(args)
    dataset.meta["build_seconds"] = round(time.perf_counter() - started, 1)
    dataset.save(args.out)
    print(count_table(dataset))
    print(tag_table(dataset))
    for problem, count in sorted(problems.items()):
        print(f"skipped: {count} {problem}")
    if args.preview:
        with atomic_path(args.preview) as temporary:
            contact_sheet(preview_images(dataset)).save(temporary, format="PNG")
        print(f"preview: {args.preview}")
    print(f"wrote {len(dataset)} images of {args.size}x{args.size} to {args.out} "
          f"in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
