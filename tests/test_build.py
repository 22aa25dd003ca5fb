import numpy as np
import pytest
from PIL import Image

from common.errors import UserError
from data.build import main, tag_table
from data.dataset import FaceDataset, stratified_split
from data.framing import BACKGROUND
from data.labels import EXPRESSIONS
from tests.conftest import FIXTURE, matches


def test_counts_balance_and_sources(source_build):
    sources, dataset, _ = source_build
    originals = dataset.real()
    assert matches((originals.domain == "lego").sum(), sources.lego_images)
    for pack in ("twitter", "google"):
        assert matches((originals.source == pack).sum(), sources.pack_faces)
    assert matches((originals.source == "openmoji").sum(), sources.openmoji_faces)
    assert matches((originals.source == "fluent").sum(), sources.fluent_faces)
    assert len(dataset) >= 2000
    real = dataset.subset(~dataset.synthetic)
    for domain in ("lego", "emoji"):
        assert (real.domain == domain).mean() <= 0.6
    assert set(dataset.source) >= {"ldraw", "twitter", "google", "noto-font", "openmoji", "fluent"}
    assert dataset.images.dtype == np.uint8 and dataset.images.shape[1:] == (64, 64, 3)


def test_at_least_ten_expressions_in_both_domains(source_build):
    originals = source_build[1].real()
    matrix = originals.tag_matrix()
    shared = [tag for j, tag in enumerate(EXPRESSIONS)
              if matrix[originals.domain == "lego", j].any() and matrix[originals.domain == "emoji", j].any()]
    assert len(shared) >= 10, shared
    for domain, share in (("lego", 0.5), ("emoji", 0.7)):
        assert (originals.tags[originals.domain == domain] != "").mean() >= share


def test_two_sided_heads_carry_each_sides_tags(built_dataset):
    originals = built_dataset[0].originals()
    names = list(originals.name)
    front = names.index("Minifig Head with Large Tongue / Scared 2-Sided Pattern (front)")
    back = names.index("Minifig Head with Large Tongue / Scared 2-Sided Pattern (back)")
    assert "tongue" in originals.tags[front] and "scared" not in originals.tags[front]
    assert "scared" in originals.tags[back] and "tongue" not in originals.tags[back]


def face_box(image: np.ndarray) -> tuple[int, int, float]:
    """Left and right edges and vertical centre of the pixels that are not background."""
    mask = np.abs(image.astype(int) - BACKGROUND).max(axis=2) > 12
    ys, xs = np.nonzero(mask)
    return xs.min(), xs.max(), (ys.min() + ys.max()) / 2


def test_both_domains_are_framed_alike(built_dataset):
    originals = built_dataset[0].originals()
    boxes = {d: np.median([face_box(im) for im in originals.images[originals.domain == d]], axis=0)
             for d in ("lego", "emoji")}
    assert np.all(np.abs(boxes["lego"] - boxes["emoji"]) <= 2.0), boxes
    corners = originals.images[:, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert np.all(corners == BACKGROUND)


def test_split_is_deterministic_stratified_and_leak_free(source_build):
    dataset = source_build[1]
    assert not np.any(dataset.augmented & (dataset.split == "val"))
    real = ~dataset.augmented & ~dataset.synthetic  # printed heads are all training images
    for domain in ("lego", "emoji"):
        split = dataset.split[real & (dataset.domain == domain)]
        assert abs((split == "val").mean() - 0.15) <= 0.03 + 1 / len(split)  # a few faces round coarsely
    train_names = set(dataset.name[dataset.split == "train"])
    assert not train_names & set(dataset.name[dataset.split == "val"])
    domain, group = dataset.domain[real], dataset.name[real]
    np.testing.assert_array_equal(stratified_split(domain, group, 0.15, 0), dataset.split[real])
    assert not np.array_equal(stratified_split(domain, group, 0.15, 1), dataset.split[real])


def test_augmented_images_are_jittered_copies(built_dataset):
    dataset = built_dataset[0]
    augmented = np.flatnonzero(dataset.augmented)[:50]
    for index in augmented:
        origin = dataset.origin[index]
        assert dataset.name[index] == dataset.name[origin] and dataset.split[origin] == "train"
        assert not np.array_equal(dataset.images[index], dataset.images[origin])


def test_preview_is_a_contact_sheet(built_dataset):
    sheet = Image.open(built_dataset[1])
    assert sheet.width > 16 * 64 and sheet.height >= 3 * 64


def test_size_128_without_augmentation_or_prints(tmp_path):
    out = tmp_path / "d.npz"
    assert main(["--quiet", *FIXTURE.build_args(), "--size", "128", "--augment", "0", "--prints", "0", "--no-fonts",
                 "--out", str(out)]) == 0
    dataset = FaceDataset.load(out)
    assert dataset.images.shape[1:] == (128, 128, 3) and not dataset.augmented.any()
    assert len(dataset) == (FIXTURE.lego_images + 2 * FIXTURE.pack_faces + FIXTURE.openmoji_faces
                            + FIXTURE.fluent_faces)
    any_tag = tag_table(dataset).splitlines()[-1]  # the coverage row says there are no printed heads
    assert "none" in any_tag and "nan" not in any_tag


def test_wrong_source_is_one_line_and_keeps_existing_output(tmp_path, capsys):
    out = tmp_path / "d.npz"
    out.write_bytes(b"precious")
    assert main(["--quiet", "--ldraw", str(tmp_path / "nope.zip"), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "does not exist" in error and "pass the" in error
    assert out.read_bytes() == b"precious"


def test_dataset_load_errors(tmp_path):
    with pytest.raises(UserError, match="python -m data.build"):
        FaceDataset.load(tmp_path / "missing.npz")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(UserError, match="python -m data.build"):
        FaceDataset.load(broken)


def test_printed_heads_are_flagged_paired_and_kept_out_of_validation(source_build):
    dataset = source_build[1]
    printed = np.flatnonzero(dataset.synthetic & ~dataset.augmented)
    training_emoji = (~dataset.augmented & (dataset.domain == "emoji") & (dataset.split == "train")).sum()
    assert len(printed) > 2 * training_emoji  # three prints of each, a few emoji too faint to print aside
    assert not (dataset.synthetic & (dataset.split == "val")).any()
    assert set(dataset.source[printed]) == {"printed"} and set(dataset.domain[printed]) == {"lego"}
    emoji = dataset.pair_expression[printed]
    assert (dataset.domain[emoji] == "emoji").all() and (dataset.split[emoji] == "train").all()
    assert (dataset.tags[emoji] == dataset.tags[printed]).all()
    assert all(dataset.name[e] in dataset.name[p] for e, p in zip(emoji, printed))
    base = dataset.pair_identity[printed]
    on_real = dataset.domain[base] == "lego"
    assert on_real.any() and (~on_real).any()  # on real heads and on the plain head (paired with its emoji)
    assert (dataset.split[base[on_real]] == "train").all() and not dataset.synthetic[base].any()
    assert (base[~on_real] == emoji[~on_real]).all()
    # every expression a training emoji shows is now on Lego faces too
    matrix = dataset.tag_matrix()
    emoji_tags = matrix[(dataset.domain == "emoji") & (dataset.split == "train")].any(axis=0)
    assert (matrix[printed].any(axis=0) >= emoji_tags).all()


def test_real_faces_are_paired_across_sides_and_art_styles(source_build):
    dataset = source_build[1].originals()
    names = list(dataset.name)
    front = names.index("Minifig Head with Large Tongue / Scared 2-Sided Pattern (front)")
    back = names.index("Minifig Head with Large Tongue / Scared 2-Sided Pattern (back)")
    assert dataset.pair_identity[front] == back and dataset.pair_identity[back] == front
    emoji = np.flatnonzero((dataset.domain == "emoji") & (dataset.pair_expression >= 0))
    partners = dataset.pair_expression[emoji]
    assert len(emoji) > 0.7 * (dataset.domain == "emoji").sum()
    assert (dataset.name[partners] == dataset.name[emoji]).all()
    assert (dataset.source[partners] != dataset.source[emoji]).all()
