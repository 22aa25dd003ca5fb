"""The analogy grid: its latent maths, and the page opened from a shared link."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from explorer.pages.analogy import NAME_LENGTH, PICKS, nth_face
from explorer.ui import as_text
from tests.conftest import downloads
from tests.test_app import page, run
from tests.test_engine import same
from vae.latent import analogy_codes


def test_the_grid_s_corners_are_a_b_c_and_the_answer_exactly():
    rng = np.random.default_rng(0)
    a, b, c = rng.standard_normal((3, 16))
    codes = analogy_codes(a, b, c, 5)
    assert codes.shape == (5, 5, 16)
    assert np.array_equal(codes[0, 0], a) and np.array_equal(codes[0, -1], b) and np.array_equal(codes[-1, 0], c)
    np.testing.assert_allclose(codes[-1, -1], b + c - a, rtol=0, atol=1e-12)
    whole_a, whole_b, whole_c = rng.integers(-8, 8, (3, 16)).astype(float)  # every order of the sums is exact
    assert np.array_equal(analogy_codes(whole_a, whole_b, whole_c, 4)[-1, -1], whole_b + whole_c - whole_a)
    # the edges walk from A to B (the top row) and from A to C (the left column) in even steps
    np.testing.assert_allclose(codes[0], a + np.linspace(0, 1, 5)[:, None] * (b - a), atol=1e-12)
    np.testing.assert_allclose(codes[:, 0], a + np.linspace(0, 1, 5)[:, None] * (c - a), atol=1e-12)
    np.testing.assert_allclose(codes[2, 2], (b + c) / 2, atol=1e-12)


def test_a_grid_needs_two_steps_and_codes_of_one_shape():
    with pytest.raises(ValueError, match="at least 2 steps"):
        analogy_codes(np.zeros(3), np.ones(3), np.ones(3), 1)
    with pytest.raises(ValueError, match="one shape"):
        analogy_codes(np.zeros(3), np.ones(4), np.ones(3), 3)


def grid_cells(picture: Image.Image, steps: int, side: int) -> np.ndarray:
    """The cells (steps, steps, side, side, 3) of a grid picture (images.grid_image), each cell
    `side` pixels at the picture's scale, the gap between them read off the picture's width."""
    pixels = np.asarray(picture.convert("RGB"))
    gap = (pixels.shape[1] - steps * side) // (steps - 1)
    starts = [k * (side + gap) for k in range(steps)]
    return np.stack([np.stack([pixels[top:top + side, left:left + side] for left in starts]) for top in starts])


def test_a_shared_link_opens_the_grid_of_its_three_picks(engine, made_on_click):
    lego, emoji = engine.indices("lego"), engine.indices("emoji")
    picks = {"a": int(emoji[20]), "b": int(lego[5]), "c": int(lego[30])}  # the picks from either domain
    app = page("analogy")
    app.query_params.update({letter: str(index) for letter, index in picks.items()}, steps="4")
    run(app)
    assert not app.warning, [warning.value for warning in app.warning]
    assert [app.radio(key=f"analogy_{letter}_domain").value for letter in picks] == ["emoji", "lego", "lego"]
    assert app.slider(key="analogy_steps").value == 4
    assert {key: app.query_params[key] for key in ("a", "b", "c", "steps")} == \
        {**{letter: str(index) for letter, index in picks.items()}, "steps": "4"}
    path, file_name = downloads(app, made_on_click)["Download PNG"]
    with Image.open(path) as picture:
        assert (picture.format, file_name) == ("PNG", "legomoji-analogy.png")
        cells = grid_cells(picture, 4, 2 * engine.dataset.size)[:, :, ::2, ::2]  # the download is twice the size
    # the corners are the picks' codes decoded in their own domains (one level of rounding apart:
    # a batch of one and of sixteen may round apart), the answer in a domain clipped to [0, 1]
    a, b, c = (engine.maps.means[index] for index in picks.values())
    assert same(cells[0, 0], engine.decode(a, "emoji")[0])
    assert same(cells[0, -1], engine.decode(b, "lego")[0])
    assert same(cells[-1, 0], engine.decode(c, "lego")[0])
    assert same(cells[-1, -1], engine.decode(b + c - a, "lego")[0])
    assert not same(cells[0, -1], cells[-1, 0])  # B and C differ: the test tells them apart
    assert all(as_text(engine.dataset.name[index], NAME_LENGTH) in app.markdown[0].value for index in picks.values())


def test_a_hostile_link_value_is_named_and_the_page_opens_on_its_own_picks(engine):
    app = page("analogy")
    app.query_params.update(a="not-a-number", b=str(len(engine.dataset)), steps="40")
    run(app)
    warnings = " ".join(warning.value for warning in app.warning)
    assert all(f"{name}=“" in warnings for name in ("a", "b", "steps")) and "shown instead" in warnings
    assert app.query_params["a"] == str(nth_face(engine, *PICKS["a"])) and app.query_params["steps"] == "5"
    assert len(app.get("image")) == 4  # the grid and the three picks
