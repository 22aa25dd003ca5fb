"""The dashboard's components' CSS and JavaScript: the files in explorer/web/, read once."""
from __future__ import annotations

from pathlib import Path

WEB = Path(__file__).resolve().parent / "web"


def web_file(name: str) -> str:
    """The text of a component's CSS or JavaScript file in explorer/web/, handed to
    st.components.v2 (paths work there only for installed packages)."""
    return (WEB / name).read_text(encoding="utf-8")
