"""Latent map: every image on a 2-D map (UMAP, PCA, or two directions a person names), with each
domain's density contours, labelled clusters and each face's picture on hover; click a point or
an empty spot to decode it."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.cache import (
    DIRECTIONS,
    direction_axes,
    live_files,
    map_figure,
    map_inverse,
    map_to_latent,
    map_trace_members,
)
from explorer.figures import MAP_META, add_star
from explorer.hover import map_hover
from explorer.live import live_map_face
from explorer.ui import (
    face_list,
    get_engine,
    in_each_domain,
    query_choice,
    query_int,
    query_list,
    require_model,
    show_faces,
    sync_url,
    uploaded_face,
)
from vae.latent import direction_coordinates
from vae.space import DOMAIN_GROUPS

COLOUR_BY = ("domain", "expression", "source")
PROJECTIONS = ("UMAP", "PCA", DIRECTIONS)
LAYERS = ("contours", "labels")
AXES = (("xa", "sad"), ("xb", "smile"), ("ya", next(iter(DOMAIN_GROUPS))), ("yb", list(DOMAIN_GROUPS)[1]))


def map_controls_ui() -> tuple[str, str, int]:
    left, middle, right = st.columns([1, 1, 1])
    projection = left.radio("Projection", PROJECTIONS, horizontal=True, key="map_projection",
                            index=PROJECTIONS.index(query_choice("projection", "UMAP", PROJECTIONS)),
                            help="Directions: across and up are two directions you name, each from one group "
                                 "of faces to another")
    colour_by = middle.radio("Colour by", COLOUR_BY, horizontal=True, key="map_colour",
                             index=COLOUR_BY.index(query_choice("colour", "domain", COLOUR_BY)))
    k = right.slider("Neighbours shown", 3, 12, query_int("k", 6, 3, 12), key="map_k")
    return projection, colour_by, k


def axes_ui(groups: list[str]) -> tuple[str, str, str, str]:
    """The Directions projection's axes: across from one group to another, and up."""
    columns = st.columns(4)
    labels = ("Across: from", "to", "Up: from", "to")
    return tuple(column.selectbox(label, groups, index=groups.index(query_choice(key, default, groups)),
                                  key=f"map_{key}")
                 for column, label, (key, default) in zip(columns, labels, AXES))


def layers_ui() -> tuple[str, ...]:
    chosen = st.pills("Draw on the map", LAYERS, selection_mode="multi", key="map_layers",
                      default=query_list("layers", LAYERS, LAYERS),
                      help="contours: where half and 90 % of each domain's faces lie; labels: each cluster's "
                           "most common expression and its most typical face")
    return tuple(layer for layer in LAYERS if layer in chosen)


def selected_target(event, members: list[np.ndarray]) -> tuple[str, object] | None:
    """('image', index) for a clicked point, ('group', indices) for a box or lasso around
    several points, ('point', (x, y)) for an empty spot or an empty box's centre. `members`
    holds the dataset rows of each point trace (trace k + 1: members[k])."""
    selection = (event or {}).get("selection") or {}
    points = selection.get("points") or []
    images = []
    for point in points:
        curve, index = point.get("curve_number", 0), point.get("point_index")
        if 0 < curve <= len(members) and index is not None and 0 <= index < len(members[curve - 1]):
            images.append(int(members[curve - 1][index]))
    regions = (selection.get("box") or []) + (selection.get("lasso") or [])
    if regions and len(images) > 1:
        return "group", np.array(sorted(set(images)))
    if images:
        return "image", images[0]
    if regions:
        return "point", (float(np.mean(regions[0]["x"])), float(np.mean(regions[0]["y"])))
    if points:
        return "point", (float(points[0]["x"]), float(points[0]["y"]))
    return None


def show_group(engine, indices: np.ndarray) -> None:
    """The faces inside a box or lasso, their mean decoded, and a way to keep them as a group."""
    shown = indices[:24]
    st.subheader(f"{len(indices)} faces selected")
    show_faces(engine.dataset.images[shown], [engine.dataset.name[i][:20] for i in shown], columns=8, width=84)
    mean = engine.maps.means[indices].mean(axis=0)
    st.markdown("**Their average code, decoded**")
    show_faces(*in_each_domain(engine, mean, "decoded"), columns=6)
    a, b, _ = st.columns([1, 1, 3])
    if a.button("Keep as group A", key="map_keep_a"):
        st.session_state["map_group_a"] = indices
    if b.button("Keep as group B", key="map_keep_b"):
        st.session_state["map_group_b"] = indices
    kept = [name for name in ("a", "b") if f"map_group_{name}" in st.session_state]
    if kept:
        st.caption(f"Kept: group {' and '.join(k.upper() for k in kept)}. Open *Your own directions* to build a "
                   "direction from them.")


def render_latent_map() -> None:
    engine = get_engine(wait_for_model=False)  # the map draws while the model is still loading
    if not engine.model_loading:
        require_model(engine)  # a model that failed to load gets its error page here too
    st.title("Latent map")
    st.caption("Every face and emoji, placed by its position in the VAE's latent space. "
               "Click a point to decode it, or click any empty spot to see what the model imagines there.")
    projection, colour_by, k = map_controls_ui()
    axes = None
    if projection == DIRECTIONS:
        axes = axes_ui(engine.space.group_names())
        if axes[0] == axes[1] or axes[2] == axes[3]:
            st.info("Pick two different groups for each axis.")
            return
        sync_url(**dict(zip((key for key, _ in AXES), axes)))
    layers = layers_ui()
    faces = st.toggle("Show the faces on the map", value=st.query_params.get("faces") == "1", key="map_faces",
                      help="draws every image at its place; zoom in (drag, or scroll with the zoom tool) to read them")
    sync_url(projection=projection, colour=colour_by, k=str(k), faces="1" if faces else "0", layers=",".join(layers))
    folder = str(engine.folder)
    upload = uploaded_face()
    extra = None
    if upload and projection == DIRECTIONS:
        directions, centre = direction_axes(folder, axes)
        extra = tuple(direction_coordinates(upload["z"], centre, directions)[0])
    elif upload:
        extra = tuple(upload[f"{projection.lower()}_xy"])
    figure = map_figure(folder, projection, colour_by, layers, axes, faces=faces)
    if extra is not None:
        add_star(figure, extra)
    live = live_files(folder)
    chart, beside = st.columns([5, 1]) if live else (st.container(), None)
    event = chart.plotly_chart(figure, on_select="rerun", selection_mode=("points", "box", "lasso"),
                               key=f"map_{projection}_{colour_by}_{faces}_{extra is not None}_{'-'.join(layers)}_"
                                   f"{'-'.join(axes or ())}",
                               width="stretch")
    if live:
        domains, captions = (([0.0, 1.0], ["as a Lego face", "as an emoji"]) if engine.domain_conditioned
                             else ([0.0], ["decoded"]))
        with beside:
            live_map_face(live, map_inverse(folder, projection, axes), MAP_META, domains, captions, key="map_live")
    map_hover([face_list(engine, domain) for domain in ("lego", "emoji")])
    if projection == DIRECTIONS:
        st.caption(f"Across: how far each face lies from the average code along {axes[0]} → {axes[1]}; up: along "
                   f"{axes[2]} → {axes[3]} (latent units).")
    st.caption("Drag with the box or lasso tool (top right of the map) to select a group of faces.")
    target = selected_target(event, map_trace_members(folder, colour_by))
    if target is None and "image" in st.query_params:
        target = "image", query_int("image", 0, 0, len(engine.dataset) - 1)
    if target is None:
        st.info("Click a point on the map, or an empty spot between the points.")
        return
    kind, value = target
    require_model(engine)
    if kind == "group":
        st.query_params.pop("image", None)
        show_group(engine, value)
        return
    if kind == "image":
        index = value
        sync_url(image=str(index))
        z = engine.maps.means[index]
        decoded = engine.decode(z, engine.dataset.domain[index])[0]
        st.subheader(engine.dataset.name[index])
        st.caption(f"{engine.dataset.domain[index]} · {engine.dataset.source[index]} · "
                   f"{engine.dataset.tags[index].replace('|', ', ') or 'no expression tag'}")
        show_faces([engine.dataset.images[index], decoded], ["original", "reconstruction"], columns=6)
        neighbours = engine.neighbours(z, k, exclude=index)
    else:
        st.query_params.pop("image", None)
        z = map_to_latent(folder, projection, np.array([value]), axes)[0]
        st.subheader(f"Empty spot ({value[0]:.2f}, {value[1]:.2f})")
        show_faces(*in_each_domain(engine, z, "decoded from this spot"), columns=6)
        neighbours = engine.neighbours(z, k)
    st.markdown(f"**{len(neighbours)} nearest neighbours in latent space**")
    show_faces(engine.dataset.images[neighbours], [engine.dataset.name[i][:28] for i in neighbours], columns=6,
               width=112)
