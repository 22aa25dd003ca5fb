"""A link is input from a stranger: hostile URL values on every page, through AppTest."""
from __future__ import annotations

import io
import re
import tomllib
from html import unescape
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from explorer.ui import WORD_JOINER, as_text
from explorer.upload import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB, UploadError, prepare_upload

TIMEOUT = 120
ROOT = Path(__file__).resolve().parents[1]

BARE_ADDRESSES = {
    "bare http": "http://evil.example/x",
    "bare https": "https://evil.example/login",
    "bare www": "www.evil.example/login",
    "e-mail": "someone@evil.example",
}
PAYLOADS = {
    "markdown image": "![x](http://127.0.0.1:9/q.png)",
    "link": "[log in again](https://example.org/login)",
    "autolink": "<https://example.org/login> or https://example.org/login",
    "html": "<img src=x onerror=alert(1)><b>bold</b>",
    "31 digits": "1000000000000000000000000000000",
    "overflow": "1e309",
    "nan": "nan",
    "5000 characters": "A" * 5000,
    **BARE_ADDRESSES,
}
# each page's text-like and numeric URL values
PAGE_PARAMS = {
    "studio": ("mode", "strength"),
    "mirror": ("from", "mix"),
    "morph": ("method", "steps"),
    "analogy": ("a", "steps"),
    "latent_map": ("projection", "k"),
    "directions": ("a", "t"),
    "generate": ("seed", "gallery"),
    "distributions": ("dims", "dims"),
}
RENDERED = MarkdownIt("commonmark")
# GFM's autolink literals, which Streamlit's renderer (remark-gfm) finds in the text left once the
# Markdown is read; commonmark has none. Looser than GFM, so that it errs on the side of a link.
GFM_AUTOLINK = re.compile(r"(?:https?://|www\.)[-\w]|[-.\w+]@[-\w]+\.[-\w]", re.IGNORECASE)


def outside_links(markdown: str) -> list[str]:
    """What in `markdown` a browser would show as a link or load as a picture: commonmark's links,
    images and HTML, and the bare addresses GFM autolinks."""
    html = RENDERED.renderInline(markdown)
    visible = unescape(re.sub(r"<[^>]*>", "", html))
    return re.findall(r"<(?:a|img|b)\b[^>]*>", html) + GFM_AUTOLINK.findall(visible)


def page(name: str) -> AppTest:
    script = f"from explorer.pages.{name} import render_{name}\nrender_{name}()\n"
    return AppTest.from_string(script, default_timeout=TIMEOUT)


def shown_markdown(app: AppTest) -> list[str]:
    """Every piece of Markdown the page shows: notices, text, captions and widget labels."""
    texts = [element.value for kind in ("warning", "markdown", "caption", "info", "error", "success")
             for element in app.get(kind)]
    texts += [widget.label for kind in ("slider", "radio", "selectbox", "text_input", "toggle")
              for widget in app.get(kind)]
    texts += [caption for image in app.get("image") for caption in image.captions]
    return [str(text) for text in texts]


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
@pytest.mark.parametrize("name", PAGE_PARAMS)
def test_hostile_link_values_are_named_as_text(name, payload):
    app = page(name)
    text_param, number_param = PAGE_PARAMS[name]
    app.query_params.update({text_param: payload, number_param: payload})
    if name == "directions":
        app.query_params["name"] = payload
    app.run()
    assert not app.exception, app.exception[0].message
    shown = shown_markdown(app)
    quoted = as_text(payload, 40)
    assert any(quoted in text and "shown instead" in text for text in shown), shown
    for text in shown:
        assert not outside_links(text), text
    if len(payload) > 40:
        assert any(f"{len(payload):,} characters" in text for text in shown)


def test_a_long_direction_name_is_cut_with_a_sentence():
    app = page("directions")
    app.query_params["name"] = "[x](https://example.org) " * 200
    app.run()
    assert not app.exception
    assert any("only its first 60 are used" in warning.value for warning in app.warning)
    assert len(app.text_input(key="dir_name").value) == 60
    assert not [link for text in shown_markdown(app) for link in outside_links(text)]


@pytest.mark.parametrize("address", BARE_ADDRESSES.values(), ids=BARE_ADDRESSES.keys())
def test_a_bare_address_as_a_mix_key_is_named_without_a_link(address):
    app = page("studio")
    app.query_params["mix"] = f"{address}:0.5"
    app.run()
    assert not app.exception, app.exception[0].message
    shown = shown_markdown(app)
    assert any(as_text(address, 40) in text and "shown instead" in text for text in shown), shown
    assert not [link for text in shown for link in outside_links(text)], shown


def test_as_text_keeps_every_character_visible():
    payload = "![x](http://h/q.png) <b>x</b> :red[y] `z` *w* www.evil.example a@evil.example"
    rendered = RENDERED.renderInline(as_text(payload))
    assert "<" not in rendered.replace("&lt;", "") and not outside_links(as_text(payload))
    assert unescape(rendered).replace(WORD_JOINER, "") == payload  # the joiners are invisible


def test_moving_start_from_on_the_mirror_gives_no_link_notice():
    app = page("mirror")
    app.run()
    app.radio(key="mirror_domain").set_value("emoji")
    app.run()
    assert not app.warning, [w.value for w in app.warning]
    app.radio(key="mirror_domain").set_value("lego")
    app.run()
    assert not app.warning, [w.value for w in app.warning]
    assert app.query_params["from"] == "lego"


def test_the_upload_limit_is_one_number_in_the_unit_the_browser_uses():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB
    assert MAX_UPLOAD_BYTES == MAX_UPLOAD_MB * 1_000_000  # the browser counts decimal megabytes
    with pytest.raises(UploadError, match=f"the limit is {MAX_UPLOAD_MB} MB"):
        prepare_upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_UPLOAD_BYTES, 64)


@pytest.mark.parametrize("kept", [0.2, 0.6, 0.95, 0.999])
def test_a_twelve_megapixel_png_cut_short_is_called_damaged(kept):
    image = Image.new("RGBA", (4000, 3000), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((1000, 500, 3000, 2500), fill=(250, 200, 40, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    raw = buffer.getvalue()
    with pytest.raises(UploadError, match="damaged or truncated"):
        prepare_upload(raw[:int(len(raw) * kept)], 64)


@pytest.mark.parametrize("name, query", [("directions", {"d": "nope"}), ("directions", {"c": "nope"}),
                                         ("analogy", {"b": "nope"}), ("analogy", {"c": "99999999"})])
def test_a_notice_about_a_links_value_shows_where_the_page_opens(name, query):
    app = page(name)
    for key, value in query.items():
        app.query_params[key] = value
    app.run()
    assert not app.exception
    (key, value), = query.items()
    assert len(app.warning) == 1 and f"{key}=“{value}”" in app.warning[0].value.replace("\\", "")
    assert not any(tab.warning for tab in app.tabs), "the notice hides in a tab"
    closed = [block for block in app.expander if not block.proto.expanded]
    assert not any(block.warning for block in closed), "the notice hides in a closed section"
