"""The directions page reports how steady a direction is and its angle to another one."""
from __future__ import annotations

import numpy as np

from tests.test_app import page, run


def steadiness(app) -> tuple[float, str]:
    metric = next(m for m in app.metric if m.label == "How steady the direction is")
    return float(metric.value), next(c.value for c in app.caption if "random half of each group" in c.value)


def angle(app) -> tuple[float, str]:
    metric = next(m for m in app.metric if m.label == "Angle between the two directions")
    return float(metric.value.rstrip("°")), next(c.value for c in app.caption if "180°: opposite" in c.value)


def test_a_direction_between_expressions_is_steady(engine):
    value, sentence = steadiness(run(page("directions")))  # sad -> smile
    assert value > 0.8 and sentence.startswith("**Steady.**")


def test_a_direction_between_two_shuffled_halves_of_one_group_is_uncertain(engine):
    smiling = np.random.default_rng(0).permutation(np.flatnonzero(engine.space.group_mask("smile")))
    app = page("directions")
    app.session_state["map_group_a"], app.session_state["map_group_b"] = np.array_split(smiling, 2)
    app.query_params.update(a="map selection A", b="map selection B")
    value, sentence = steadiness(run(app))
    assert value < 0.5 and sentence.startswith("**Uncertain")


def test_a_group_of_two_faces_says_it_cannot_tell(engine):
    app = page("directions")
    app.session_state["map_group_a"] = np.flatnonzero(engine.space.group_mask("sad"))[:2]
    app.query_params.update(a="map selection A", b="smile")
    run(app)
    assert "at least 3 faces in each group" in app.warning[0].value
    assert not [m for m in app.metric if m.label == "How steady the direction is"]


def test_smile_is_near_grin_and_opposed_to_sad(engine):
    app = page("directions")
    app.query_params.update(a="every face", b="smile", c="every face", d="grin")
    degrees, sentence = angle(run(app))
    assert degrees < 60 and sentence.startswith(("**Close**", "**Nearly the same way**"))
    app.selectbox(key="dir_d").set_value("sad")
    degrees, sentence = angle(run(app))
    assert degrees > 100 and ("opposed" in sentence.lower() or "opposite" in sentence.lower())
    assert app.query_params["d"] == "sad"
