"""The latent map's hover pictures: a face under the pointer shows its own picture beside it.

Plotly's hover labels hold text only, so a small Streamlit component (`st.components.v2`, its
JavaScript in explorer/web/map_hover.js, no build step) listens to the map's `plotly_hover`
events in the page and shows the hovered face's cell of the face pickers' atlas
(explorer/picker.py's face lists): the browser has the atlas already, so a hover asks the server
for nothing. The component finds the map by its layout's `meta` (figures.MAP_META), follows it
when a rerun draws it afresh, and stops when the map's page is left.
"""
from __future__ import annotations

import streamlit as st

from explorer.figures import MAP_META
from explorer.web_assets import web_file

MAP_HOVER = st.components.v2.component("legomoji.map_hover", js=web_file("face_lists.js") + web_file("map_hover.js"))


def map_hover(face_lists: list[str], key: str = "map_hover") -> None:
    """Show each face's picture when the pointer is on its point of the map, from the face lists
    at these URLs (cache.face_list_url, one per domain)."""
    MAP_HOVER(data={"lists": face_lists, "meta": MAP_META}, key=key)
