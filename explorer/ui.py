"""Widgets shared by the pages; each *_ui() function returns plain values."""
from __future__ import annotations

import logging
import re

import numpy as np
import streamlit as st
from PIL import Image

from common.errors import UserError
from data.ldraw_part import face_name, face_part_mpd, face_part_views, face_part_zip
from explorer.cache import face_list_url, load_engine, model_folder
from explorer.engine import Engine
from explorer.images import face_png, png_bytes
from explorer.picker import face_grid, grid_pick
from explorer.server import keep_keras_session

LOG = logging.getLogger(__name__)
DISPLAY_SIZE = 160  # every face is shown at this width (the browser scales it)
UPLOAD_KEY = "uploaded_face"


def get_engine(wait_for_model: bool = True) -> Engine:
    """The shared engine, or a clear error page that says which command rebuilds the assets."""
    try:
        engine = load_engine(str(model_folder()))
    except UserError as error:  # raised, so not cached: the next session tries again
        show_asset_error(error)
    if wait_for_model:
        require_model(engine)
    return engine


def require_model(engine: Engine) -> None:
    """Wait for the model (loading in the background); a clear error page if it cannot load.
    An engine whose model failed leaves the cache, so that the next session loads the folder
    again: a folder mended meanwhile opens without a restart of the server."""
    try:
        if engine.model_loading:
            with st.spinner("Loading the model..."):
                engine.wait_for_model()
        engine.wait_for_model()
        keep_keras_session()  # Streamlit would clear Keras's kernels after every run: see explorer/server.py
    except UserError as error:
        load_engine.clear(str(engine.folder))
        show_asset_error(error)
    if not engine.refined:
        st.sidebar.caption(NO_REFINER)


NO_REFINER = ("This model has no refiner: the pictures are the VAE's own. Train one with "
              "`python -m vae.train --stage refiner --model RUN`.")


def show_asset_error(error: UserError):
    LOG.error("The dashboard cannot start: %s", error)
    st.error(f"The dashboard cannot start: {error}")
    st.stop()


def show_faces(images, captions, columns: int | None = None, width: int = DISPLAY_SIZE,
               into: list | None = None) -> list:
    """A row (or rows) of equally sized faces with captions. Each is sent at its own size, or
    shrunk to `width` when it is wider (images.face_png), and the browser scales it: enlarging a
    face here would take longer to encode and send more bytes. Returns the pictures' handles;
    given those of an earlier row (`into`), the faces replace its pictures one by one in place,
    with no empty row between the two (a placeholder emptied first would leave the page without
    a picture, collapsed, until the new ones came)."""
    def picture(place, image, caption):
        # the width pinned: a long caption would otherwise widen its figure and stretch the face
        return place.image(face_png(image, width), caption=caption, width=width, output_format="PNG")

    if into is not None:
        return [picture(place, image, caption) for place, image, caption in zip(into, images, captions)]
    columns = columns or len(images)
    handles = []
    for start in range(0, len(images), columns):
        row = zip(st.columns(columns), images[start:start + columns], captions[start:start + columns])
        handles += [picture(cell, image, caption) for cell, image, caption in row]
    return handles


def in_each_domain(engine: Engine, z: np.ndarray, caption: str) -> tuple[list[np.ndarray], list[str]]:
    """A code drawn as a Lego face and as an emoji by a model with a domain condition; drawn
    once, captioned `caption`, by one without (its decoder has no domain to draw in)."""
    if engine.domain_conditioned:
        return list(engine.decode(np.stack([z, z]), np.array([0.0, 1.0]))), ["as a Lego face", "as an emoji"]
    return [engine.decode(z)[0]], [caption]


def sync_url(**values: str) -> None:
    """Write a page's selection into the URL, only the values that changed: a page that is
    being left then sends nothing that could pull the browser back to it."""
    changed = {key: value for key, value in values.items() if st.query_params.get(key) != value}
    if changed:
        st.query_params.update(changed)


MARKDOWN_SIGNIFICANT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark may start Markdown
# Streamlit's GFM autolinks bare `http://`, `https://`, `www.` and e-mail addresses in the text
# that is left once the escapes are read, so an escape cannot stop them: an invisible word joiner
# inside each of these patterns does.
AUTOLINK_START = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"
NOTICE_LENGTH = 40  # characters of a link's value quoted in a notice


def as_text(value, limit: int | None = None) -> str:
    """`value` as literal text inside Markdown (every label, caption and notice is Markdown):
    each punctuation mark escaped, so no link, image, HTML or directive can form, and a word
    joiner in every `://`, `www.` and `@`, so no bare address becomes a link; it reads the same.
    Cut to `limit` characters with an ellipsis."""
    text = " ".join(str(value).split())  # no line breaks: one line, no block Markdown
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return MARKDOWN_SIGNIFICANT.sub(r"\\\1", AUTOLINK_START.sub(WORD_JOINER, text))


def url_notice(name: str, raw: str, shown) -> None:
    """One line saying which value of the link was ignored and what is shown instead."""
    raw = str(raw)
    length = f" (a value of {len(raw):,} characters)" if len(raw) > NOTICE_LENGTH else ""
    st.warning(f"The link's {as_text(name)}=“{as_text(raw, NOTICE_LENGTH)}”{length} is not valid here, so "
               f"{as_text(shown)} is shown instead.", icon="🔗")


def _number(raw: str, low, high, whole: bool = False):
    """`raw` as a number in [low, high] (whole where it must be), or None when it is malformed,
    not finite or out of range, whatever its size."""
    try:
        value = float(raw)  # a 31-digit number becomes a large float, never an int numpy cannot take
    except (TypeError, ValueError, OverflowError):
        return None
    if not (np.isfinite(value) and low <= value <= high and (not whole or value.is_integer())):
        return None
    return int(value) if whole else value


def _query_number(name: str, default, low, high, whole: bool):
    """A number from the URL's query string; the default (with a notice) when it is not valid."""
    raw = st.query_params.get(name)
    if raw is None:
        return default
    value = _number(raw, low, high, whole)
    if value is None:
        url_notice(name, raw, default)
        return default
    return value


def query_int(name: str, default: int, low: int, high: int) -> int:
    return _query_number(name, default, low, high, whole=True)


def query_float(name: str, default: float, low: float, high: float) -> float:
    return _query_number(name, default, low, high, whole=False)


def query_text(name: str, default: str, limit: int) -> str:
    """Free text from the URL, cut to `limit` characters with a notice when it is longer."""
    raw = st.query_params.get(name)
    if raw is None:
        return default
    if len(raw) > limit:
        st.warning(f"The link's {as_text(name)} is {len(raw):,} characters long; only its first {limit} are "
                   "used.", icon="🔗")
    return raw[:limit]


def query_amounts(name: str, choices, low: float, high: float) -> dict[str, float]:
    """`choice:amount` pairs from the URL (`mix=smile:0.5,angry:-0.3`); a malformed pair, an
    unknown choice or an amount out of [low, high] is named in one notice and left at 0."""
    raw = st.query_params.get(name)
    amounts, bad = {}, []
    for part in (raw or "").split(","):
        if not part:
            continue
        choice, _, number = part.partition(":")
        value = _number(number, low, high)
        if choice in choices and value is not None:
            amounts[choice] = value
        else:
            bad.append(part)
    if bad:
        url_notice(name, ",".join(bad), "0 for those")
    return amounts


def amounts_text(amounts: dict[str, float]) -> str:
    """The URL form of non-zero amounts, read back by `query_amounts`."""
    return ",".join(f"{choice}:{amount:g}" for choice, amount in amounts.items() if amount)


def query_choice(name: str, default: str, choices) -> str:
    raw = st.query_params.get(name)
    if raw is None:
        return default
    if raw not in choices:
        url_notice(name, raw, default)
        return default
    return raw


def query_list(name: str, default, choices) -> list[str]:
    """Comma-separated choices from the URL (`layers=contours,labels`, or empty for none); a link
    naming anything else gets the notice and `default`."""
    raw = st.query_params.get(name)
    if raw is None:
        return list(default)
    values = [value for value in raw.split(",") if value]
    if not set(values) <= set(choices):
        url_notice(name, raw, ", ".join(default) or "nothing")
        return list(default)
    return values


def face_list(engine: Engine, domain: str) -> str:
    """The URL of a domain's face list and atlas (cache.face_list_url), which the face grids and
    Surprise me's reel draw from."""
    return face_list_url(str(engine.folder), domain)


def face_picker_ui(engine: Engine, domain: str, key: str, default: int, height: int = 420) -> int:
    """A scrollable grid of one domain's faces, searchable by name and expression (see
    explorer/picker.py). Returns the chosen dataset index, which a search never changes: a pick
    is a dataset index, kept in the session; a new search shows the chosen face marked when it
    is among the results, and the choice is always named under the grid."""
    indices = engine.indices(domain)
    search = st.text_input(f"Search {domain} faces", key=f"{key}_search", placeholder="name or expression, e.g. smile")
    names, tags = engine.dataset.name[indices], engine.dataset.tags[indices]
    if search:
        words = search.lower().split()
        keep = [all(w in f"{n} {t}".lower() for w in words) for n, t in zip(names, tags)]
        indices, names, tags = indices[keep], names[keep], tags[keep]
    current = int(st.session_state.get(f"{key}_choice", default))
    picks = st.session_state.get(f"{key}_picks", 0)
    picked = grid_pick(f"{key}_grid")
    if picked is not None and picked[1] > picks:  # a pick this run answers
        index, picks = picked
        st.session_state[f"{key}_picks"] = picks
        if 0 <= index < len(engine.dataset) and engine.dataset.domain[index] == domain:
            current = st.session_state[f"{key}_choice"] = index
    shown = [int(i) for i in indices] if search else None
    face_grid(face_list(engine, domain), shown, current, picks, height, f"{domain} faces", key=f"{key}_grid")
    st.caption(f"Chosen: **{as_text(engine.dataset.name[current], 60)}**"
               + ("" if current in indices else " (not among these results)"))
    return current


def choose_face(key: str, index: int) -> None:
    """Make `index` the choice of the face picker `key` (see face_picker_ui) and clear its search,
    before the picker is drawn in this run: its grid moves its mark there."""
    st.session_state[f"{key}_choice"] = int(index)
    st.session_state[f"{key}_search"] = ""


def domain_default(engine: Engine, domain: str, param: str, fallback: int = 0) -> int:
    """A dataset index of `domain` from the URL, else the domain's `fallback`-th image."""
    indices = engine.indices(domain)
    default = int(indices[min(fallback, len(indices) - 1)])
    value = query_int(param, default, 0, len(engine.dataset) - 1)
    if engine.dataset.domain[value] != domain:
        url_notice(param, st.query_params.get(param), f"{engine.dataset.name[default]} (not {domain})")
        return default
    return value


def uploaded_face() -> dict | None:
    """The face this session uploaded on the "Your image" page: {'image', 'z', 'name'}."""
    return st.session_state.get(UPLOAD_KEY)


LDRAW_ZIP_LABEL = "Download as an LDraw part (.zip)"
LDRAW_ZIP_HELP = ("a minifig head (3626c) with this face printed on as a texture, as a folder to unzip into your "
                  "LDraw library (its README.txt says where); LeoCAD shows the face from this one")
LDRAW_LABEL = "Download as an LDraw part (.mpd)"
LDRAW_HELP = ("the same part in one file with its texture inside, for LDraw programs that read embedded textures "
              "(0 !DATA); programs without textures show a plain head")
LDRAW_PREVIEW_LABEL = "Preview the part"
LDRAW_PREVIEW_SIZE = 150  # px of each view


def ldraw_download(picture: np.ndarray, key: str, into=st) -> None:
    """Downloads of a Lego face picture as an LDraw part (data.ldraw_part), as a library folder
    (.zip) and as one .mpd file, each named after the face and made when clicked, without a
    rerun; and a toggle that shows the part before it is downloaded. The preview is drawn only
    when asked for, and once per face: the session keeps it while the face stays."""
    name = face_name(picture)
    into.download_button(LDRAW_ZIP_LABEL, lambda: face_part_zip(picture), f"{name}.zip", "application/zip",
                         key=f"{key}_zip", on_click="ignore", help=LDRAW_ZIP_HELP)
    into.download_button(LDRAW_LABEL, lambda: face_part_mpd(picture), f"{name}.mpd", "application/x-ldraw",
                         key=key, on_click="ignore", help=LDRAW_HELP)
    if not into.toggle(LDRAW_PREVIEW_LABEL, key=f"{key}_preview"):
        return
    kept = st.session_state.get(f"{key}_views")
    if kept is None or kept[0] != name:
        views = list(face_part_views(picture, LDRAW_PREVIEW_SIZE).values())
        sheet = Image.new("RGBA", (LDRAW_PREVIEW_SIZE * len(views), LDRAW_PREVIEW_SIZE))
        for number, view in enumerate(views):
            sheet.alpha_composite(view, (number * LDRAW_PREVIEW_SIZE, 0))
        kept = st.session_state[f"{key}_views"] = (name, png_bytes(sheet))
    into.image(kept[1], caption=f"{name}.dat from the front and from three-quarters",
               width=LDRAW_PREVIEW_SIZE * 2, output_format="PNG")
