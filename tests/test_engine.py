"""The engine's public calls on the shipped assets, the CLI flag that picks a model, the
downloads, and the comparison CLI on a real (tiny) budget."""
import io
import json
import sys

import numpy as np
import pytest
from PIL import Image

from common.recent import Recent
from explorer.engine import DEFAULT_ASSETS
from explorer.images import gif_bytes, png_bytes, strip_image
from vae.printing import StudioPrints


def test_transfer_needs_exactly_one_target(engine):
    z = engine.maps.means[int(engine.indices("lego")[0])]
    emoji_z = engine.maps.means[int(engine.indices("emoji")[0])]
    with pytest.raises(ValueError, match="not both or neither"):
        engine.transfer(z, 1.0, tag="smile", emoji_z=emoji_z)
    with pytest.raises(ValueError, match="not both or neither"):
        engine.transfer(z, 1.0)
    assert np.allclose(engine.transfer(z, 0.0, emoji_z=emoji_z), z)
    assert not np.allclose(engine.transfer(z, 1.0, emoji_z=emoji_z), z)


def test_public_calls_keep_their_shapes(engine):
    side, latent_dim = engine.dataset.size, engine.maps.means.shape[1]
    images = engine.dataset.images[:3]
    z = engine.encode_means(images)
    assert z.shape == (3, latent_dim)
    assert engine.decode(z, "emoji").shape == (3, side, side, 3)
    assert engine.decode(z, np.array([0.0, 0.5, 1.0])).dtype == np.uint8
    emoji = int(engine.indices("emoji")[0])
    faces = engine.dataset.images[[0, 1, emoji]]  # two Lego faces and an emoji, each drawn in its own domain
    assert engine.dataset.domain[0] == engine.dataset.domain[1] == "lego"
    assert same(engine.reconstruct(faces), engine.decode(engine.encode_means(faces), np.array([0.0, 0.0, 1.0])))
    assert engine.translate(z[0], "emoji").shape == (1, side, side, 3)
    strip = engine.morph(z[0], z[1], 5, "slerp")
    assert strip.shape == (5, side, side, 3)
    assert same(strip[0], engine.decode(z[0], "lego")[0])  # from the first face as Lego...
    assert same(strip[-1], engine.decode(z[1], "emoji")[0])  # ...to the second as an emoji
    assert engine.sample(4, 1.0, 0, "lego").shape == (4, side, side, 3)
    with pytest.raises(ValueError, match="unknown domain"):
        engine.decode(z, "duplo")


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal pictures, up to one level of rounding (a batch of one and of three may round apart)."""
    return np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_mirror_move_along_and_neighbours_give_the_values_they_promise(engine):
    lego = int(engine.indices("lego")[5])
    z = engine.maps.means[lego]
    # the mirror of a Lego face: at mix 0 the face itself, at 1 its emoji translation, between a blend
    ends = engine.mirror(z, "lego", [0.0, 1.0])
    assert same(ends[0], engine.decode(z, "lego")[0])
    assert same(ends[1], engine.translate(z, "emoji")[0])
    halfway = engine.mirror(z, "lego", 0.5)[0].astype(int)
    assert np.abs(halfway - ends[0]).mean() > 1 and np.abs(halfway - ends[1]).mean() > 1
    # moving along a direction: amount 0 is the face, amount a is z + a * direction
    direction = engine.maps.means[int(engine.indices("emoji")[3])] - z
    moved = engine.move_along(z, direction, [0.0, 1.0, -0.5])
    assert same(moved[0], engine.decode(z, "lego")[0])
    assert same(moved[1], engine.decode(z + direction, "lego")[0])
    assert same(moved[2], engine.decode(z - 0.5 * direction, "lego")[0])
    # the neighbours are the k smallest Euclidean distances, nearest first, the excluded face left out
    distances = np.linalg.norm(engine.maps.means - z, axis=1)
    assert list(engine.neighbours(z, 6)) == list(np.argsort(distances, kind="stable")[:6])
    assert engine.neighbours(z, 6)[0] == lego
    excluded = engine.neighbours(z, 6, exclude=lego)
    assert lego not in excluded and list(excluded) == list(np.argsort(distances, kind="stable")[1:7])


def test_downloads_are_real_png_and_gif_files(engine):
    frames = engine.dataset.images[[0, 100, 200, 300]]  # four different faces
    strip = Image.open(io.BytesIO(png_bytes(strip_image(frames, scale=2, gap=4))))
    side = frames.shape[1] * 2
    assert strip.format == "PNG" and strip.size == (4 * side + 3 * 4, side)
    gif = Image.open(io.BytesIO(gif_bytes(frames, scale=2)))
    assert gif.format == "GIF" and gif.n_frames == 4 + 2 and gif.size == (side, side)  # forward and back
    gif.seek(1)
    assert np.asarray(gif.convert("RGB")).std() > 0


def test_the_model_flag_and_variable_pick_the_folder(monkeypatch, tmp_path):
    from explorer.cache import MODEL_ENV, model_folder

    monkeypatch.setattr(sys, "argv", ["streamlit_app.py", "--model", str(tmp_path / "mine")])
    assert model_folder() == tmp_path / "mine"
    monkeypatch.setattr(sys, "argv", ["streamlit_app.py", "--server.port", "8600", f"--model={tmp_path / 'eq'}"])
    assert model_folder() == tmp_path / "eq"
    monkeypatch.setattr(sys, "argv", ["streamlit_app.py", "--model"])  # no folder after it: the default
    monkeypatch.delenv(MODEL_ENV, raising=False)
    assert model_folder() == DEFAULT_ASSETS
    monkeypatch.setattr(sys, "argv", ["streamlit_app.py"])
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "other"))
    assert model_folder() == tmp_path / "other"
    monkeypatch.delenv(MODEL_ENV)
    assert model_folder() == DEFAULT_ASSETS


def test_compare_trains_each_config_and_judges_its_space(built_dataset, tmp_path):
    from vae.config import preset
    from vae.eval.compare import compare

    dataset = built_dataset[0]
    keep = np.zeros(len(dataset), bool)
    keep[np.random.default_rng(3).choice(len(dataset), 400, replace=False)] = True
    configs = {"tiny": preset("tiny"), "tiny-shared": preset("tiny-shared")}
    report = compare(dataset.subset(keep), 4.0, tmp_path, configs=configs, pairs=10, fit_steps=3)
    assert set(report["presets"]) == set(configs)
    for result in report["presets"].values():
        assert result["epochs"] >= 1 and 0 <= result["validation"]["lego"]["ssim"] <= 1
        assert result["alignment"]["transfer"]["fit_steps"] == 3 and "cnn" in result["alignment"]
        assert 0.5 <= result["alignment"]["domain_accuracy"]["accuracy"] <= 1
    written = (tmp_path / "compare.md").read_text()
    assert "| tiny |" in written and "| tiny-shared |" in written
    assert json.loads((tmp_path / "compare.json").read_text())["budget_seconds"] == 4.0
    assert (tmp_path / "reconstructions.png").is_file()


def unprintable_emoji(engine) -> int:
    """The first emoji of the shipped dataset without a yellow face fill to print from."""
    from data.printed import cut_out_framed, lift_features

    return next(int(i) for i in engine.indices("emoji")
                if lift_features(cut_out_framed(engine.dataset.images[i])) is None)


def tongue_emoji(engine) -> int:
    return next(int(i) for i in engine.indices("emoji") if engine.dataset.name[i] == "face with stuck-out tongue")


def test_printed_transfer_slides_from_the_face_to_its_print_redrawn_from_a_fitted_code(engine, monkeypatch):
    from data.printed import print_expression
    from vae.fit import fitted_codes

    monkeypatch.setattr(engine, "_fitted", Recent(4))
    face = int(engine.indices("lego")[3])
    image, z = engine.dataset.images[face], engine.maps.means[face]
    emoji = engine.dataset.images[tongue_emoji(engine)]
    picture = print_expression(image, emoji)
    assert np.array_equal(engine.print_picture(image, emoji), picture)  # the picture the studio shows
    assert engine.print_picture(image, engine.dataset.images[unprintable_emoji(engine)]) is None
    assert np.allclose(engine.printed_transfer(image, z, emoji, 0.0, fitted=False), z)
    quick = engine.printed_transfer(image, z, emoji, 1.0, fitted=False)
    assert np.allclose(quick, engine.encode_means(picture[None])[0], atol=1e-5)
    assert not np.allclose(quick, z, atol=0.1)
    assert not engine.print_is_fitted(image, emoji)
    fitted = engine.printed_transfer(image, z, emoji, 1.0)
    assert engine.print_is_fitted(image, emoji)  # kept: the next call answers at once
    assert np.allclose(fitted, fitted_codes(engine.model, picture[None], 0.0, engine.fit_steps)[0], atol=1e-4)
    assert np.allclose(fitted_codes(engine.model, picture[None], 0.0, 0)[0], quick, atol=1e-5)
    monkeypatch.setattr(engine, "fit_steps", 2)  # the kept code was fitted by other steps: fitted again
    assert not engine.print_is_fitted(image, emoji)
    shorter = engine.printed_transfer(image, z, emoji, 1.0)
    assert np.allclose(shorter, fitted_codes(engine.model, picture[None], 0.0, 2)[0], atol=1e-4)
    assert not np.allclose(shorter, fitted, atol=1e-3)
    monkeypatch.undo()
    monkeypatch.setattr(engine, "_fitted", Recent(4))

    def error(code):  # how far the redraw is from the print
        return float(np.mean((engine.decode(code, "lego")[0].astype(np.float64) - picture) ** 2))

    assert error(fitted) < 0.9 * error(quick), (error(fitted), error(quick))
    assert np.allclose(engine.printed_transfer(image, z, emoji, 0.5), (z + fitted) / 2)
    assert engine.printed_transfer(image, z, engine.dataset.images[unprintable_emoji(engine)], 1.0) is None


def test_surprise_me_draws_an_emoji_the_printed_way_can_print(engine):
    from explorer.pages.studio import surprise_pair

    assert not engine.can_print(engine.dataset.images[unprintable_emoji(engine)])  # the dataset holds some
    assert engine.can_print(engine.dataset.images[tongue_emoji(engine)])
    rng = np.random.default_rng(0)
    pairs = [surprise_pair(engine, rng, printable=True) for _ in range(30)]
    assert all(engine.dataset.domain[lego] == "lego" for lego, _ in pairs)
    assert all(engine.can_print(engine.dataset.images[emoji]) for _, emoji in pairs)
    assert len({emoji for _, emoji in pairs}) > 20  # still random
    anything = {surprise_pair(engine, rng, printable=False)[1] for _ in range(300)}  # the code way: every emoji
    assert any(not engine.can_print(engine.dataset.images[emoji]) for emoji in anything)


def test_studio_codes_print_where_they_can_and_fall_back_to_the_code(engine):
    from vae.printing import studio_codes

    faces = engine.indices("lego")[:3]
    targets = np.array([tongue_emoji(engine), unprintable_emoji(engine), tongue_emoji(engine)])
    printed, done = studio_codes(engine.encode_means, engine.space, engine.dataset.images, faces, targets, 1.0)
    code, none = studio_codes(engine.encode_means, engine.space, engine.dataset.images, faces, targets, 1.0, "code")
    assert done.tolist() == [True, False, True] and not none.any()
    assert np.allclose(printed[1], code[1]) and not np.allclose(printed[0], code[0], atol=0.1)
    assert np.allclose(code[0], engine.transfer(engine.maps.means[faces[0]], 1.0,
                                                emoji_z=engine.maps.means[targets[0]]))
    with pytest.raises(ValueError, match="unknown studio method"):
        studio_codes(engine.encode_means, engine.space, engine.dataset.images, faces, targets, 1.0, "paint")


def test_a_print_is_made_once_and_only_the_recent_ones_are_kept(engine, monkeypatch):
    from data import printed

    made = {"layer": 0, "base": 0}
    composed = []

    def counted(kind, make):
        def wrapper(image):
            made[kind] += 1
            return make(image)
        return wrapper

    def composing(base, layer):
        composed.append(1)
        return compose(base, layer)

    compose = printed.printed_picture
    monkeypatch.setattr(printed, "lifted_layer", counted("layer", printed.lifted_layer))
    monkeypatch.setattr(printed, "erased_base", counted("base", printed.erased_base))
    monkeypatch.setattr(printed, "printed_picture", composing)
    monkeypatch.setattr(engine, "_fitted", Recent(2))
    monkeypatch.setattr(engine, "prints", StudioPrints(2))
    lego, emoji = engine.indices("lego"), engine.dataset.images[tongue_emoji(engine)]
    faces = [engine.dataset.images[i] for i in lego[10:13]]
    first = engine.printed_transfer(faces[0], engine.maps.means[lego[10]], emoji, 1.0)
    again = engine.printed_transfer(faces[0], engine.maps.means[lego[10]], emoji, 0.5)  # a strength change
    assert made == {"layer": 1, "base": 1} and np.allclose(again, (engine.maps.means[lego[10]] + first) / 2)
    shown = [engine.print_picture(faces[0], emoji) for _ in range(2)]  # the studio shows it on every rerun
    assert len(composed) == 1 and np.array_equal(shown[0], shown[1])  # composed once, for the code
    for face, index in zip(faces[1:], lego[11:13]):  # new faces, the same emoji: lifted once
        engine.printed_transfer(face, engine.maps.means[index], emoji, 1.0)
    assert made == {"layer": 1, "base": 3} and len(engine._fitted) == 2  # the first print made way
    assert np.allclose(engine.printed_transfer(faces[0], engine.maps.means[lego[10]], emoji, 1.0), first)
    assert made == {"layer": 1, "base": 4}  # printed again from the first face, erased again
