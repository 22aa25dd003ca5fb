"""The pages' live sliders as the server sees them (AppTest): the lines it hands the browser are
its own codes, so that a face drawn in the browser is the one it would draw, and a value the
browser sends back (its state's "values") sets the page's pictures and its link. The browser's
side is tried in tests/test_live_browser.py."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.test_app import image_captions, image_urls, page, run
from vae import latent


@pytest.fixture(autouse=True)
def live_on(monkeypatch):
    """The live path on, whatever the environment says."""
    from explorer.cache import LIVE_ENV, live_files

    monkeypatch.delenv(LIVE_ENV, raising=False)
    live_files.clear()


def live_data(app, key: str) -> dict:
    """The data the page handed its live component `key`, each face's vectors in place."""
    found = [element for element in app.get("bidi_component") if element.proto.id.endswith(f"-{key}")]
    assert len(found) == 1, key
    data = json.loads(found[0].proto.json)
    vectors = data["vectors"]

    def in_place(spec: dict) -> dict:
        named = {name: vectors[spec[name]] for name in ("origin", "from", "to") if name in spec}
        return spec | named | ({"axes": [None if a is None else vectors[a] for a in spec["axes"]]} if "axes" in spec
                               else {})

    for entry in data["faces"] + (data["frames"] or []):
        entry["code"] = in_place(entry["code"])
    return data


def code_at(spec: dict, values: list[float]) -> np.ndarray:
    """A face's code at the sliders' values, as explorer/web/live_controls.js reads it."""
    if "from" in spec:
        t = spec["at"] if spec["at"] is not None else values[spec["control"]]
        return latent.interpolate(np.array(spec["from"]), np.array(spec["to"]), t, spec["method"])
    code = np.array(spec["origin"])
    for value, axis in zip(values, spec["axes"]):
        if axis is not None:
            code = code + value * np.array(axis)
    return code


def domain_at(spec: dict, values: list[float]) -> float:
    return float(np.clip(spec["origin"] + np.dot(spec["axes"], values), 0.0, 1.0))


def let_go(app, key: str, values: list[float]):
    app.session_state[key] = {"values": values}
    return run(app)


def test_the_studios_lines_are_its_own_result_and_its_values_set_the_result(engine):
    lego, emoji = int(engine.indices("lego")[5]), int(engine.indices("emoji")[8])
    app = page("studio")
    app.query_params.update(lego=str(lego), emoji=str(emoji), mode="an emoji", method="printed")
    run(app)
    before = image_urls(app)
    images, means, tags = engine.dataset.images, engine.maps.means, engine.available_expressions()
    printed = engine.printed_transfer(images[lego], means[lego], images[emoji], 1.4)
    strength = live_data(app, "studio_strength_live")
    assert [face["domain"]["origin"] for face in strength["faces"]] == [0.0, 1.0]
    assert np.allclose(code_at(strength["faces"][0]["code"], [1.4]), printed, atol=1e-5)

    app = let_go(app, "studio_strength_live", [1.4])
    assert app.query_params["strength"] == "1.40" and image_urls(app)[2] != before[2]
    mix = live_data(app, "studio_mix_live")
    assert [control["label"] for control in mix["controls"]] == tags and mix["reset"]
    amounts = [0.0] * len(tags)
    amounts[tags.index("sad")], amounts[tags.index("wink")] = 1.2, -0.5
    expected = engine.space.mix_expressions(printed, {"sad": 1.2, "wink": -0.5})
    assert np.allclose(code_at(mix["faces"][1]["code"], amounts), expected, atol=1e-5)

    app = let_go(app, "studio_mix_live", amounts)
    assert app.query_params["mix"] == "sad:1.2,wink:-0.5"
    assert np.allclose(code_at(live_data(app, "studio_strength_live")["faces"][0]["code"], [1.4]), expected,
                       atol=1e-5)  # the strength's line now holds the mix


def test_the_morphs_frames_are_its_strip_and_its_point_is_the_parts_face(engine, made_on_click):
    from tests.conftest import downloads

    lego, emoji = int(engine.indices("lego")[7]), int(engine.indices("emoji")[3])
    app = page("morph")
    app.query_params.update(lego=str(lego), emoji=str(emoji), steps="6", method="slerp")
    run(app)
    data = live_data(app, "morph_live")
    start, end = engine.maps.means[lego], engine.maps.means[emoji]
    frames = [code_at(frame["code"], [0.5]) for frame in data["frames"]]
    assert np.allclose(frames, latent.interpolate_latents(start, end, 6, "slerp"), atol=1e-5)
    assert [domain_at(frame["domain"], [0.5]) for frame in data["frames"]] == list(np.linspace(0, 1, 6))
    assert data["pad"]["cells"] == [6, 1] and "/media/" in data["pad"]["picture"]  # served, not in the message
    assert np.allclose(code_at(data["faces"][0]["code"], [0.37]), latent.slerp(start, end, 0.37), atol=1e-5)
    assert [domain_at(face["domain"], [0.37]) for face in data["faces"]] == [0.37, 0.0]
    part = downloads(app, made_on_click)["Download as an LDraw part (.zip)"][1]

    app = let_go(app, "morph_live", [0.37])
    assert app.query_params["t"] == "0.37"
    assert downloads(app, made_on_click)["Download as an LDraw part (.zip)"][1] != part  # named by its face


def test_the_analogy_pads_point_is_its_grids_and_a_click_is_drawn_by_the_server(engine):
    picks = [int(engine.indices("lego")[212]), int(engine.indices("emoji")[40]), int(engine.indices("emoji")[8])]
    app = page("analogy")
    app.query_params.update(a=str(picks[0]), b=str(picks[1]), c=str(picks[2]), steps="5")
    run(app)
    data = live_data(app, "analogy_live")
    codes = latent.analogy_codes(*engine.maps.means[picks], 5)
    assert np.allclose(code_at(data["faces"][0]["code"], [0.25, 0.75]), codes[3, 1], atol=1e-5)
    assert domain_at(data["faces"][0]["domain"], [0.25, 0.75]) == pytest.approx(1.0)  # Lego A, emoji B and C
    assert domain_at(data["faces"][0]["domain"], [0.0, 0.0]) == 0.0
    assert image_captions(app)[-1] == "s 1.00, t 1.00"  # the answer until a click

    app = let_go(app, "analogy_live", [0.25, 0.75])
    assert (app.query_params["s"], app.query_params["t"]) == ("0.25", "0.75")
    assert image_captions(app)[-1] == "s 0.25, t 0.75"


def test_the_temperatures_lines_are_the_seeds_samples(engine):
    app = page("generate")
    app.query_params.update(seed="7")
    run(app)
    data = live_data(app, "gen_temperature_live")
    assert len(data["faces"]) == 12 and data["perRow"] == 6
    for row, domain in enumerate(("lego", "emoji")):
        codes = [code_at(face["code"], [1.45]) for face in data["faces"][6 * row:6 * row + 6]]
        assert np.allclose(codes, engine.sample_codes(12, 1.45, 7, domain)[:6], atol=1e-5)
    before = image_urls(app)
    app = let_go(app, "gen_temperature_live", [1.45])
    assert app.query_params["temperature"] == "1.45" and image_urls(app)[0] != before[0]


def test_a_value_the_sliders_cannot_hold_is_snapped_or_left(engine):
    app = run(page("mirror"))
    app = let_go(app, "mirror_mix_live", [0.7333])
    assert app.query_params["mix"] == "0.75"  # on the slider's steps
    app = let_go(app, "mirror_mix_live", [7.0])
    assert app.query_params["mix"] == "1.00"  # within its bounds
    app = let_go(app, "mirror_mix_live", ["a lot"])
    assert app.query_params["mix"] == "1.00" and not app.exception  # not a number: the link's value stays


def test_a_code_that_does_not_move_on_a_line_is_refused():
    from explorer.live import line

    drawn = line(lambda v: np.array([1.0, 2.0]) + v[0] * np.array([0.5, 0.0]) - v[1] * np.array([0.0, 3.0]), 2)
    assert drawn == {"origin": [1.0, 2.0], "axes": [[0.5, 0.0], [0.0, -3.0]]}
    with pytest.raises(ValueError, match="on a line"):
        line(lambda v: latent.slerp(np.array([1.0, 0.0]), np.array([0.0, 1.0]), v[0]), 1)
