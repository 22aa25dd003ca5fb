"""The dataset file: uint8 images (raw, or each as lossless WebP in a compact file) plus labels and
metadata in one compressed .npz."""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from common.errors import UserError
from common.files import atomic_path
from data.labels import EXPRESSIONS, tags_from_string
from data.record import EMOJI, LEGO

FORMAT_VERSION = 2
LABEL_FIELDS = ("domain", "source", "name", "tags", "split")
INDEX_FIELDS = ("origin", "pair_expression", "pair_identity")  # indices into the dataset, -1 for none
REBUILD_HINT = "rebuild it with `python -m data.build`"


@dataclass
class FaceDataset:
    """Images (N, S, S, 3) uint8 and one label per image in parallel arrays."""

    images: np.ndarray
    domain: np.ndarray  # (N,) "lego" | "emoji"
    source: np.ndarray  # (N,) ldraw, twitter, google, noto-font, ...
    name: np.ndarray  # (N,) human name
    tags: np.ndarray  # (N,) "smile|grin"
    split: np.ndarray  # (N,) "train" | "val"
    augmented: np.ndarray  # (N,) bool
    origin: np.ndarray  # (N,) int: index of the original an augmented image was made from
    meta: dict = field(default_factory=dict)
    # (N,) bool: made by the builder (an emoji printed on a Lego head), never used for validation
    synthetic: np.ndarray | None = None
    # (N,) int: an original that must share this image's expression dims (the emoji a printed
    # head was printed from; the same emoji in another art style), or -1
    pair_expression: np.ndarray | None = None
    # (N,) int: an original that must share this image's other dims (a printed head's base; the
    # other side of a two-sided head), or -1
    pair_identity: np.ndarray | None = None

    def __post_init__(self):
        count = len(self.images)
        if self.synthetic is None:
            self.synthetic = np.zeros(count, bool)
        for key in ("pair_expression", "pair_identity"):
            if getattr(self, key) is None:
                setattr(self, key, np.full(count, -1, np.int64))

    def __len__(self) -> int:
        return len(self.images)

    @property
    def size(self) -> int:
        return int(self.images.shape[1])

    def tag_lists(self) -> list[tuple[str, ...]]:
        return [tags_from_string(t) for t in self.tags]

    def tag_matrix(self, vocabulary: tuple[str, ...] = EXPRESSIONS) -> np.ndarray:
        """(N, len(vocabulary)) bool: image i carries expression j of the vocabulary."""
        lists = self.tag_lists()
        return np.array([[tag in tags for tag in vocabulary] for tags in lists], dtype=bool).reshape(len(self), -1)

    def subset(self, mask: np.ndarray) -> "FaceDataset":
        """The images where `mask` holds, with `origin` re-indexed where possible."""
        indices = np.flatnonzero(mask)
        remap = np.full(len(self), -1)
        remap[indices] = np.arange(len(indices))


        def reindex(values: np.ndarray) -> np.ndarray:
            return np.where(values[indices] >= 0, remap[np.maximum(values[indices], 0)], -1)

        return FaceDataset(
            self.images[indices], self.domain[indices], self.source[indices], self.name[indices],
            self.tags[indices], self.split[indices], self.augmented[indices], reindex(self.origin),
            dict(self.meta), self.synthetic[indices], reindex(self.pair_expression), reindex(self.pair_identity),
        )

    def originals(self) -> "FaceDataset":
        """Only the un-augmented images (printed heads included)."""
        return self.subset(~self.augmented)

    def real(self) -> "FaceDataset":
        """Only the un-augmented images of real faces: what every figure is measured on."""
        return self.subset(~self.augmented & ~self.synthetic)

    def save(self, path: str | Path, compact: bool = False) -> None:
        """Write the dataset atomically as a compressed .npz; `compact` stores each image as
        lossless WebP (the same pixels in about 60 % of the bytes, a little slower to write and
        read: what the shipped assets use)."""
        arrays = {key: np.asarray(getattr(self, key)).astype(str) for key in LABEL_FIELDS}
        meta = dict(self.meta, format_version=FORMAT_VERSION, expressions=list(EXPRESSIONS))
        images = {"images": self.images}
        if compact:
            encoded = [_webp(image) for image in self.images]
            images = {"image_shape": np.array(self.images.shape),
                      "image_offsets": np.cumsum([0, *map(len, encoded)]),
                      "image_bytes": np.frombuffer(b"".join(encoded), np.uint8)}
        with atomic_path(path) as temporary:
            with open(temporary, "wb") as handle:
                np.savez_compressed(
                    handle, **images, augmented=self.augmented, synthetic=self.synthetic,
                    meta=np.array(json.dumps(meta)), **{key: getattr(self, key) for key in INDEX_FIELDS}, **arrays,
                )

    @classmethod
    def load(cls, path: str | Path) -> "FaceDataset":
        """Read a dataset file, or raise UserError saying what is wrong and how to rebuild it."""
        path = Path(path)
        if not path.is_file():
            raise UserError(f"dataset file {path} does not exist: {REBUILD_HINT}.")
        try:
            with np.load(path, allow_pickle=False) as archive:
                fields = {key: archive[key] for key in archive.files}
            if "image_bytes" in fields:
                fields["images"] = _from_webp(fields.pop("image_bytes"), fields.pop("image_offsets"),
                                              fields.pop("image_shape"))
            missing = {"images", "augmented", "origin", "meta", *LABEL_FIELDS} - set(fields)
            if missing:
                raise UserError(f"{path} lacks {', '.join(sorted(missing))}: {REBUILD_HINT}.")
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
            raise UserError(f"{path} is not a readable dataset file ({error}): {REBUILD_HINT}.") from error
        meta = json.loads(str(fields.pop("meta")))
        if meta.get("format_version") not in (1, FORMAT_VERSION):  # 1: before printed heads and pairs
            raise UserError(f"{path} has format {meta.get('format_version')}, not {FORMAT_VERSION}: {REBUILD_HINT}.")
        images = fields.pop("images")
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] != 3 or images.shape[1] != images.shape[2]:
            raise UserError(f"{path} holds images of shape {images.shape}, not (N, S, S, 3) uint8: {REBUILD_HINT}.")
        if any(len(fields[key]) != len(images) for key in fields):
            raise UserError(f"{path} has labels that do not match its images: {REBUILD_HINT}.")
        return cls(images=images, meta=meta, **fields)


def _webp(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    # method 4 at effort 50: as small as the slowest setting (method 6, effort 100) within 1 %, 27x faster
    Image.fromarray(image).save(buffer, "WEBP", lossless=True, quality=50, method=4)
    return buffer.getvalue()


def _from_webp(data: np.ndarray, offsets: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """The (N, S, S, 3) uint8 images of a compact file, each decoded from its byte range."""
    images = np.empty(tuple(int(n) for n in shape), np.uint8)
    if len(offsets) != len(images) + 1:
        raise ValueError(f"{len(offsets) - 1} encoded images for {len(images)} rows")
    for index in range(len(images)):
        with Image.open(io.BytesIO(data[offsets[index]:offsets[index + 1]].tobytes())) as picture:
            images[index] = np.asarray(picture.convert("RGB"))
    return images


def stratified_split(domain: np.ndarray, group: np.ndarray, val_fraction: float, seed: int) -> np.ndarray:
    """'train'/'val' per image: per domain, whole groups (e.g. one emoji in every vendor's art)
    go to validation until it holds `val_fraction` of that domain. Deterministic for a seed."""
    split = np.full(len(domain), "train", dtype="<U5")
    rng = np.random.default_rng(seed)
    for value in (LEGO, EMOJI):
        members = np.flatnonzero(domain == value)
        if len(members) == 0:
            continue
        groups = sorted(set(group[members]))
        order = rng.permutation(len(groups))
        target, taken = round(val_fraction * len(members)), 0
        for index in order:
            if taken >= target:
                break
            chosen = members[group[members] == groups[index]]
            split[chosen] = "val"
            taken += len(chosen)
    return split


def contact_sheet(images: np.ndarray, columns: int = 16, gap: int = 2) -> Image.Image:
    """All images in a grid on white."""
    count, size = len(images), images.shape[1]
    rows = max(1, -(-count // columns))
    sheet = Image.new("RGB", (columns * (size + gap) + gap, rows * (size + gap) + gap), (255, 255, 255))
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        sheet.paste(Image.fromarray(image), (gap + column * (size + gap), gap + row * (size + gap)))
    return sheet
