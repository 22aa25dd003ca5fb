"""The latent map you read at a glance: density contours, cluster labels and the Directions
projection (explorer/map_layers.py, the map page); its hover pictures are tested in a browser
(tests/test_browser.py)."""
from __future__ import annotations

import base64
import json
from collections import Counter

import numpy as np
import pytest

from explorer import figures, map_layers
from tests.test_app import MAP_KEY, page, run, select_on_map


def blobs(seed: int = 0) -> tuple[np.ndarray, list[str], list[str]]:
    """Three well-apart clusters of 2-D points; most points of each carry its own tag."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [5.0, 9.0]])
    xy = np.concatenate([centre + rng.normal(scale=0.8, size=(40, 2)) for centre in centres])
    tags = []
    for own, other in (("smile", "sad"), ("sad", "angry"), ("angry", "smile")):
        tags += [own] * 25 + [f"{other}|{own}"] * 5 + [other] * 6 + [""] * 4
    return xy, tags, [f"face {i}" for i in range(len(xy))]


def test_cluster_labels_come_from_the_tags_of_the_points_they_cover():
    xy, tags, names = blobs()
    labels = map_layers.cluster_labels(xy, tags, names, clusters=3)
    assert sorted(label.tag for label in labels) == ["angry", "sad", "smile"]
    for label in labels:
        members = label.members
        assert len(members) == 40 and np.ptp(members) == 39  # one blob, whole
        assert label.tag == {0: "smile", 40: "sad", 80: "angry"}[members.min()]
        assert np.allclose((label.x, label.y), xy[members].mean(axis=0))
        typical = members[np.argmin(np.square(xy[members] - (label.x, label.y)).sum(axis=1))]
        assert label.name == names[typical]


def test_labels_that_would_overlap_keep_the_larger_cluster():
    xy, tags, names = blobs()
    labels = map_layers.cluster_labels(xy, tags, names, clusters=12)
    room = np.array(map_layers.LABEL_ROOM) * np.ptp(xy, axis=0)
    places = np.array([(label.x, label.y) for label in labels])
    for i in range(len(places)):
        for j in range(i):
            assert not np.all(np.abs(places[i] - places[j]) < room)
    sizes = [len(label.members) for label in labels]
    assert sizes == sorted(sizes, reverse=True) and len(labels) < 12


def test_the_most_common_tag_counts_every_tag_of_a_face():
    assert map_layers.most_common_tag(["smile|grin", "grin", "sad", ""]) == "grin"
    assert map_layers.most_common_tag(["", ""]) == "untagged"


def test_contours_enclose_the_shares_of_each_groups_points_they_name():
    xy, _, _ = blobs()
    groups = {"lego": np.arange(120) < 40, "emoji": np.arange(120) >= 40}
    contours = map_layers.density_contours(xy, groups)
    assert set(contours) == {"lego", "emoji"}
    for name, contour in contours.items():
        inner, outer = contour.levels  # the 50 % line, then the 90 % line
        assert inner > outer > 0 and contour.density.shape == (len(contour.y), len(contour.x))
        own = xy[groups[name]]
        # the grid's density read at each of the group's points, nearest grid node
        at = contour.density[np.abs(contour.y[:, None] - own[:, 1]).argmin(axis=0),
                             np.abs(contour.x[:, None] - own[:, 0]).argmin(axis=0)]
        assert abs(np.mean(at >= inner) - 0.5) < 0.15 and abs(np.mean(at >= outer) - 0.9) < 0.1
    far = contours["lego"].density[np.abs(contours["lego"].y - 9.0).argmin(), np.abs(contours["lego"].x - 5.0).argmin()]
    assert far < 1e-3 * contours["lego"].levels[-1]  # nothing of the Lego blob where only emoji lie


def test_bad_map_input_gets_a_clear_value_error():
    with pytest.raises(ValueError, match="finite"):
        map_layers.cluster_labels(np.full((3, 2), np.nan), ["", "", ""], ["a", "b", "c"])
    with pytest.raises(ValueError, match="one entry per point"):
        map_layers.cluster_labels(np.zeros((3, 2)), [""], ["a", "b", "c"])
    with pytest.raises(ValueError, match="k must"):
        map_layers.kmeans(np.zeros((3, 2)), 4)


def test_the_figure_draws_contours_after_the_points_and_labels_as_text():
    xy, tags, names = blobs()
    groups = np.where(np.arange(120) < 40, "lego", "emoji")
    contours = map_layers.density_contours(xy, {g: groups == g for g in ("lego", "emoji")})
    labels = map_layers.cluster_labels(xy, tags, names, clusters=3)
    figure = figures.map_figure(xy, groups, names, contours, labels)
    assert [trace.type for trace in figure.data] == ["scatter", "scatter", "scatter", "contour", "contour"]
    assert all(trace.hoverinfo == "skip" for trace in figure.data[3:])  # no hover, no click on a line
    colours = {trace.name: trace.marker.color for trace in figure.data[1:3]}
    assert {trace.name.split()[0]: trace.colorscale[0][1] for trace in figure.data[3:]} == colours
    assert sorted(a.text for a in figure.layout.annotations) == sorted(label.text for label in labels)
    assert figure.layout.meta == figures.MAP_META


def test_real_map_labels_name_their_clusters_most_common_tag(engine):
    tags = list(engine.dataset.tags)
    for projection in ("UMAP", "PCA"):
        labels = map_layers.cluster_labels(engine.maps.xy(projection), tags, list(engine.dataset.name))
        assert len(labels) >= 4
        for label in labels:
            counts = Counter(tag for i in label.members for tag in tags[i].split("|") if tag)
            assert counts[label.tag] == max(counts.values())  # none of the faces it covers is tagged more often


def chart(app) -> dict:
    return json.loads(app.get("plotly_chart")[0].proto.spec)


def array(value) -> np.ndarray:
    """A figure's array as its JSON carries it: a list, or plotly's typed array (base64)."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), np.dtype(value["dtype"]))
    return np.asarray(value)


def test_the_map_page_draws_contours_and_labels_and_hides_them_on_request(engine):
    app = run(page("latent_map"))
    spec = chart(app)
    assert [trace["type"] for trace in spec["data"]].count("contour") == 2
    labels = map_layers.cluster_labels(engine.maps.umap_xy, list(engine.dataset.tags), list(engine.dataset.name))
    assert sorted(a["text"] for a in spec["layout"]["annotations"]) == sorted(label.text for label in labels)
    assert app.get("bidi_component"), "the hover pictures' component is mounted"
    app.button_group(key="map_layers").set_value(["labels"])
    run(app)
    spec = chart(app)
    assert "contour" not in [trace["type"] for trace in spec["data"]] and spec["layout"]["annotations"]
    assert app.query_params["layers"] == "labels"


def test_the_directions_projection_lays_faces_out_along_what_was_asked(engine):
    app = page("latent_map")
    app.query_params.update(projection="Directions", xa="sad", xb="smile", ya="Lego faces", yb="emoji faces")
    run(app)
    spec = chart(app)
    x, y = np.full(len(engine.dataset), np.nan), np.full(len(engine.dataset), np.nan)
    for trace in spec["data"]:
        if trace.get("customdata") is not None and trace["type"] == "scatter":
            x[array(trace["customdata"])], y[array(trace["customdata"])] = array(trace["x"]), array(trace["y"])
    assert np.all(np.isfinite(x) & np.isfinite(y))
    smile, sad = engine.space.group_mask("smile"), engine.space.group_mask("sad")
    only_smile, only_sad = smile & ~sad, sad & ~smile
    assert np.median(x[only_smile]) > np.median(x[only_sad]) + 1  # a smiling face right of a sad one
    assert x[only_smile].mean() - x[only_sad].mean() > 2
    emoji = engine.dataset.domain == "emoji"
    assert y[emoji].mean() > y[~emoji].mean()  # emoji above Lego faces
    assert spec["layout"]["xaxis"]["title"]["text"] == "sad → smile"
    # a click on an empty spot decodes the code the plane's inverse gives there
    key = MAP_KEY.format("Directions", "domain").replace("labels_", "labels_sad-smile-Lego faces-emoji faces")
    select_on_map(app, key, points=[{"curve_number": 0, "point_index": 0, "x": 3.0, "y": -1.0}])
    run(app)
    assert app.subheader[0].value.startswith("Empty spot (3.00, -1.00)")


def test_a_directions_axis_from_one_group_to_itself_is_refused(engine):
    app = page("latent_map")
    app.query_params.update(projection="Directions", xa="sad", xb="sad")
    run(app)
    assert app.info[0].value == "Pick two different groups for each axis." and not app.get("plotly_chart")


def test_many_sessions_draw_the_map_at_once_without_a_traceback(engine):
    """Sessions on their own threads draw the one cached map, one of them with an upload's star,
    as the page does (its own figure, then what st.plotly_chart reads of it)."""
    from concurrent.futures import ThreadPoolExecutor

    from explorer.cache import map_figure

    folder = str(engine.folder)
    kinds = [("UMAP", False, None), ("UMAP", True, None), ("UMAP", False, (0.5, -0.5)), ("PCA", False, None)]

    def draw(kind) -> str:
        projection, faces, star = kind
        figure = map_figure(folder, projection, "domain", ("contours", "labels"), faces=faces)
        if star is not None:
            figures.add_star(figure, star)
        return figure.to_json()

    expected = [draw(kind) for kind in kinds]
    with ThreadPoolExecutor(max_workers=6) as pool:
        drawn = list(pool.map(draw, kinds * 50))
    assert drawn == expected * 50
    assert draw(kinds[0]) == expected[0]  # the star went on one session's figure, never on the shared map
