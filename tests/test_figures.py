"""Figure builders: arrays in, figures out, clear errors for bad input."""
import json

import numpy as np
import pytest

from explorer import figures


def test_the_map_names_every_image_and_keeps_a_clickable_background():
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(30, 2))
    groups = np.array(["lego"] * 12 + ["emoji"] * 18)
    figure = figures.map_figure(xy, groups, [f"face {i}" for i in range(30)])
    assert len(figure.data[0].x) == figures.GRID_POINTS ** 2
    named = np.sort(np.concatenate([trace.customdata for trace in figure.data[1:]]))
    assert named.tolist() == list(range(30))
    for trace in figure.data[1:]:
        assert np.allclose(np.c_[trace.x, trace.y], xy[trace.customdata])


def test_a_star_goes_on_a_sessions_own_figure_and_never_on_the_shared_map():
    shared = figures.shareable(figures.map_figure(np.eye(2), np.array(["lego", "emoji"]), ["a", "b"]))
    starred = figures.add_star(figures.own_figure(shared), (0.5, 0.5))
    assert len(starred.data) == len(json.loads(shared)["data"]) + 1 and starred.data[-1].name == "your image"
    assert json.loads(figures.own_figure(shared).to_json()) == json.loads(shared)  # the shared map unchanged


@pytest.mark.parametrize(("call", "message"), [
    (lambda: figures.map_figure(np.zeros((3, 3)), np.array(["a"] * 3), ["x"] * 3), "shape"),
    (lambda: figures.map_figure(np.full((2, 2), np.nan), np.array(["a"] * 2), ["x"] * 2), "finite"),
    (lambda: figures.map_figure(np.zeros((3, 2)), np.array(["a"] * 2), ["x"] * 3), "entries"),
    (lambda: figures.histogram_figure(np.zeros((5, 4)), {"all": np.ones(5, bool)}, 9), "dimensions"),
    (lambda: figures.histogram_figure(np.zeros((5, 4)), {"other": np.ones(5, bool)}, 2), "groups"),
    (lambda: figures.kl_figure(np.zeros(3), np.zeros(2, bool)), "one entry"),
    (lambda: figures.training_figure({"mse": np.zeros(2)}), "epoch"),
    (lambda: figures.add_star(figures.map_figure(np.eye(2), np.array(["a", "b"]), ["a", "b"]), (np.nan, 0)),
     "finite"),
])
def test_bad_input_gets_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_histograms_cover_the_requested_dimensions_per_group():
    means = np.random.default_rng(0).normal(size=(40, 12))
    groups = {"lego": np.arange(40) < 20, "emoji": np.arange(40) >= 20}
    figure = figures.histogram_figure(means, groups, 12)
    lego, emoji = [trace for trace in figure.data if trace.name in groups]
    assert sorted(set(np.asarray(lego.customdata)[:, 0])) == list(range(12)) and len(emoji.x) == 12 * 32
    assert figure.data[-2].name == "N(0, 1)" and list(figure.data[-1].text) == [f"z{d}" for d in range(12)]


def test_a_histogram_is_a_density_drawn_inside_its_panel_and_a_group_off_the_axis_draws_nothing():
    means = np.concatenate([np.random.default_rng(1).normal(size=(30, 12)), np.full((10, 12), 9.0)])
    groups = {"lego": np.arange(40) < 30, "emoji": np.arange(40) >= 30}  # emoji all at 9, off the [-4, 4] axis
    figure = figures.histogram_figure(means, groups, 12)
    lego, emoji = [trace for trace in figure.data if trace.name in groups]
    dims, density = np.asarray(lego.customdata)[:, 0], np.asarray(lego.customdata)[:, 2]
    assert np.sum(density[dims == 11]) * 0.25 == pytest.approx(1.0, abs=1e-3)
    assert np.all(np.asarray(emoji.y) == 0)
    only_emoji = figures.histogram_figure(means, {"emoji": groups["emoji"]}, 12)
    assert list(only_emoji.data[-1].text)[:2] == ["z0 (beyond ±4)", "z1 (beyond ±4)"]
    assert figure.data[-1].text[0] == "z0"  # a panel with bars of one group is not beyond the axis
    # dimension 11 is the second panel of the second row: its bars stand on that row's baseline
    # and stay below the next row up, to the right of the first panel
    x, height, base = (np.asarray(v, float)[dims == 11] for v in (lego.x, lego.y, lego.base))
    assert np.all(base == -figures.PANEL_STEP[1]) and 0 < height.max() <= 1
    assert figures.PANEL_STEP[0] < x.min() and x.max() < 2 * figures.PANEL_STEP[0]
