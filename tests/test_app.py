"""The dashboard through streamlit.testing AppTest, on the shipped assets."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from common.static_files import STATIC_FOLDER, STATIC_URL
from explorer.cache import MODEL_ENV
from explorer.ui import as_text
from tests.browser import atlas_cells, matches_cell
from tests.conftest import downloads

TIMEOUT = 120
APP = Path(__file__).resolve().parents[1] / "streamlit_app.py"


def page(name: str) -> AppTest:
    """An AppTest that renders one page module's render_<name>() function."""
    script = f"from explorer.pages.{name} import render_{name}\nrender_{name}()\n"
    return AppTest.from_string(script, default_timeout=TIMEOUT)


@pytest.fixture(params=["shared", "plain"])
def family_engine(request, monkeypatch):
    """The shipped (shared-family) model's engine, then a tiny plain-family one (no domain
    condition, no expression dims) that the pages open instead: a test that takes this runs each
    page's branch for each family."""
    if request.param == "shared":
        return request.getfixturevalue("engine")
    plain = request.getfixturevalue("plain_engine")
    monkeypatch.setenv(MODEL_ENV, str(plain.folder))
    return plain


def run(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, app.exception[0].message if app.exception else ""
    return app


def image_urls(app: AppTest) -> list[str]:
    """Media URLs of every image shown; they are content hashes, so they change with the pixels."""
    return [image.proto.imgs[0].url if hasattr(image.proto, "imgs") else image.proto.url for image in app.get("image")]


def image_captions(app: AppTest) -> list[str]:
    return [image.proto.imgs[0].caption for image in app.get("image")]


PRINT_CAPTION = "the print the model redraws"


def test_router_opens_on_the_studio():
    app = run(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
    assert app.title[0].value == "Expression studio"
    # the face, the print, the result as a Lego face and as an emoji, the target emoji
    assert len(app.get("image")) == 5 and image_captions(app)[1] == PRINT_CAPTION and len(pickers(app)) == 2
    assert all(url.endswith(".png") for url in image_urls(app))  # as JPEG, flat colours would smear


def pickers(app: AppTest) -> list:
    return [element for element in app.get("bidi_component") if element.proto.component_name.endswith("face_grid")]


def picker_data(app: AppTest, n: int = 0) -> dict:
    """What the n-th face grid was given: the URL of its domain's face list, the indices a
    search shows (None: all), the face it marks ("chosen") and how many of its picks the app
    has answered ("picks")."""
    return json.loads(pickers(app)[n].proto.json)


def picker_list(app: AppTest, n: int = 0) -> dict:
    """The face list the n-th face grid reads, from the static file its URL names, as the
    browser reads it: its faces ([dataset index, name, tags] each) and their atlas."""
    url = picker_data(app, n)["faces"]
    assert url.startswith(STATIC_URL + "/")
    return json.loads((STATIC_FOLDER / url[len(STATIC_URL) + 1:]).read_text())


def picker_faces(app: AppTest, n: int = 0) -> list[list]:
    """The faces the n-th face grid shows ([dataset index, name, tags] each)."""
    data, faces = picker_data(app, n), picker_list(app, n)["faces"]
    if data["shown"] is None:
        return faces
    shown = set(data["shown"])
    return [face for face in faces if face[0] in shown]


def test_each_face_of_a_picker_is_its_own_picture_in_the_atlas(engine):
    """A grid's pictures are one static atlas per domain: face k of the list is cell k."""
    app = run(page("studio"))
    for n, domain in enumerate(("lego", "emoji")):
        listing = picker_list(app, n)
        faces, side = listing["faces"], listing["side"]
        assert [face[0] for face in faces] == [int(i) for i in engine.indices(domain)]
        with Image.open(STATIC_FOLDER / listing["atlas"]) as atlas:
            assert atlas.size == (listing["columns"] * side, -(-len(faces) // listing["columns"]) * side)
        cells = atlas_cells(listing)
        for k in (0, 1, len(faces) // 2, len(faces) - 1):
            thumbnail = Image.fromarray(engine.dataset.images[faces[k][0]]).resize((side, side), Image.LANCZOS)
            assert matches_cell(cells, np.asarray(thumbnail, dtype=float), k), (domain, k)


def pick(app: AppTest, key: str, index: int) -> None:
    """What a click on a face in a grid does: the grid's state names the face's dataset index and
    counts the grid's picks."""
    grid = f"{key}_grid"
    picked = app.session_state[grid].get("picked") if grid in app.session_state else None
    app.session_state[grid] = {"picked": [int(index), (picked[1] if picked else 0) + 1]}


def chosen_caption(app: AppTest, name: str) -> bool:
    """Whether a caption under a picker names `name` as the chosen face."""
    return any(caption.value == f"Chosen: **{as_text(name, 60)}**" for caption in app.caption)


def studio_choice(app: AppTest) -> tuple[int, int]:
    lego, emoji = (int(q) for q in (app.query_params["lego"], app.query_params["emoji"]))
    return lego, emoji


def test_studio_widgets_change_the_result(family_engine, server_drawn):
    engine = family_engine
    app = run(page("studio"))
    before = image_urls(app)
    app.slider(key="studio_strength").set_value(1.6)
    run(app)
    after_strength = image_urls(app)  # the face and its print stay, the redraw moves
    assert after_strength[:2] == before[:2] and after_strength[2] != before[2]
    lego, emoji = engine.indices("lego"), engine.indices("emoji")
    pick(app, "studio_lego", lego[len(lego) // 2])
    run(app)
    assert image_urls(app)[0] != after_strength[0] and studio_choice(app)[0] == int(lego[len(lego) // 2])
    assert chosen_caption(app, engine.dataset.name[studio_choice(app)[0]])
    pick(app, "studio_emoji", emoji[len(emoji) // 3])
    run(app)
    assert image_urls(app)[4] != after_strength[4] and studio_choice(app)[1] == int(emoji[len(emoji) // 3])
    assert image_urls(app)[1] != after_strength[1]  # the new emoji printed
    app.radio(key="studio_mode").set_value("an expression")
    run(app)
    assert len(app.get("image")) == 3 - (not engine.domain_conditioned) and app.query_params["mode"] == "an expression"


def test_studio_prints_then_redraws_and_keeps_the_code_way(engine):
    from tests.test_engine import unprintable_emoji

    app = run(page("studio"))
    assert app.radio(key="studio_method").value == "printed" and app.query_params["method"] == "printed"
    assert image_captions(app)[1] == PRINT_CAPTION
    printed = image_urls(app)[2]
    app.radio(key="studio_method").set_value("code")
    run(app)
    assert PRINT_CAPTION not in image_captions(app)  # the code way prints nothing
    assert image_urls(app)[1] != printed and app.query_params["method"] == "code"
    assert not any("no yellow face" in caption.value for caption in app.caption)
    app.radio(key="studio_method").set_value("printed")
    pick(app, "studio_emoji", unprintable_emoji(engine))
    run(app)
    assert any("no yellow face" in caption.value for caption in app.caption)  # it says why it fell back
    assert PRINT_CAPTION not in image_captions(app)
    code_way = page("studio")
    code_way.query_params.update(method="code")
    run(code_way)
    assert code_way.radio(key="studio_method").value == "code"  # a link keeps its way


def test_a_grid_state_naming_another_domain_or_no_face_is_ignored(engine):
    """A Lego grid only ever chooses a Lego face, whatever its state says."""
    app = run(page("studio"))
    before = studio_choice(app)[0]
    for stray in (int(engine.indices("emoji")[0]), len(engine.dataset) + 5, -1):
        pick(app, "studio_lego", stray)
        run(app)
        assert studio_choice(app)[0] == before


def test_a_search_after_a_pick_keeps_the_pick(engine):
    app = run(page("studio"))
    pick(app, "studio_lego", engine.indices("lego")[40])
    run(app)
    chosen = studio_choice(app)[0]
    assert chosen == int(engine.indices("lego")[40])
    app.text_input(key="studio_lego_search").input("smile")
    run(app)
    assert studio_choice(app)[0] == chosen  # the search shows other rows; the pick stays
    lego = engine.indices("lego")
    found = [int(i) for i in lego if "smile" in f"{engine.dataset.name[i]} {engine.dataset.tags[i]}".lower()]
    shown = picker_faces(app)
    assert len(shown) == len(found)
    assert chosen not in found  # the pick this test makes is not among the search's results...
    assert any("not among these results" in caption.value for caption in app.caption)  # ...and it says so
    assert [face[0] for face in shown] == found
    pick(app, "studio_lego", found[1])  # the second face this search shows
    run(app)
    assert studio_choice(app)[0] == found[1]
    app.text_input(key="studio_lego_search").input("")
    run(app)
    assert studio_choice(app)[0] == found[1]  # clearing the search keeps it too
    name = engine.dataset.name[found[1]]
    assert any(caption.value.startswith("Chosen:") and name.split()[-1].strip("()") in caption.value
               for caption in app.caption)  # named under the table, which does not scroll to it
    assert picker_data(app)["chosen"] == found[1]  # the grid of every face is drawn marking the pick


def test_studio_expression_pills_and_sliders_change_the_result(server_drawn):
    app = run(page("studio"))
    app.radio(key="studio_mode").set_value("an expression")
    run(app)
    app.button_group(key="studio_tag").set_value("angry")
    run(app)
    angry = image_urls(app)[1]
    app.button_group(key="studio_tag").set_value("smile")
    run(app)
    smile = image_urls(app)[1]
    assert smile != angry and app.query_params["tag"] == "smile"
    app.slider(key="studio_mix_wink").set_value(1.5)
    run(app)
    winking = image_urls(app)[1]
    assert winking != smile
    app.slider(key="studio_mix_sad").set_value(0.8)
    run(app)
    mixed = image_urls(app)[1]
    assert mixed not in (smile, winking) and app.query_params["mix"] == "sad:0.8,wink:1.5"
    shared = page("studio")  # the link opens the same mix
    shared.query_params.update({k: app.query_params[k] for k in ("lego", "emoji", "mode", "tag", "strength", "mix")})
    run(shared)
    assert image_urls(shared)[1] == mixed and shared.slider(key="studio_mix_wink").value == 1.5
    app.button(key="studio_mix_reset").click()
    run(app)
    assert image_urls(app)[1] == smile and app.slider(key="studio_mix_wink").value == 0.0
    assert app.query_params["mix"] == ""


def test_a_malformed_mix_in_the_link_is_named_and_the_rest_kept(server_drawn):
    app = page("studio")
    app.query_params["mix"] = "wink:1.5,sad:9,frown:1,smile:banana"
    run(app)
    assert app.slider(key="studio_mix_wink").value == 1.5 and app.slider(key="studio_mix_sad").value == 0.0
    assert len(app.warning) == 1 and "sad:9" in app.warning[0].value.replace("\\", "")


def test_studio_card_holds_face_target_and_result(engine, monkeypatch, made_on_click, server_drawn):
    from explorer.card import CARD_FACE, MARGIN, polaroid_card
    from explorer.pages import studio
    from tests.test_engine import same

    cards = []

    def kept(faces, labels, caption):  # the card the studio makes, kept to compare
        cards.append((faces, labels, polaroid_card(faces, labels, caption)))
        return cards[-1][2]

    monkeypatch.setattr(studio, "polaroid_card", kept)
    app = run(page("studio"))
    lego, emoji = studio_choice(app)
    assert not cards  # drawn only when the button is clicked
    path, file_name = downloads(app, made_on_click)["Download the card (PNG)"]  # the button downloads the card made
    faces, labels, made = cards[-1]
    with Image.open(path) as linked:
        assert file_name == "legomoji-card.png" and linked.format == "PNG"
        assert np.array_equal(np.asarray(linked), np.asarray(made))
    face, target = engine.dataset.images[lego], engine.dataset.images[emoji]
    strength = app.slider(key="studio_strength").value  # the studio's own result: the print's fitted code
    result = engine.decode(engine.printed_transfer(face, engine.maps.means[lego], target, strength), "lego")[0]
    assert labels == ["face", "target", "result"] and len(faces) == 3
    assert np.array_equal(faces[0], face) and np.array_equal(faces[1], target) and same(faces[2], result)
    card = np.asarray(polaroid_card(faces, labels, "a caption"))
    for i, face in enumerate(faces):  # each face where the card says, at the card's size
        left = MARGIN + i * (CARD_FACE + MARGIN)
        pasted = card[MARGIN:MARGIN + CARD_FACE, left:left + CARD_FACE].astype(int)
        expected = np.asarray(Image.fromarray(face).resize((CARD_FACE, CARD_FACE), Image.LANCZOS)).astype(int)
        assert np.abs(pasted - expected).max() == 0
    assert (card[MARGIN + CARD_FACE + 30:] < 200).any()  # the caption is drawn


def reel_data(app: AppTest) -> dict:
    """What Surprise me's reel was given: the answered clicks ("spins"), the pair to settle on."""
    reel, = (element for element in app.get("bidi_component") if element.proto.component_name.endswith("reel"))
    return json.loads(reel.proto.json)


def test_studio_surprise_me_picks_a_new_pair(engine, server_drawn):
    app = run(page("studio"))
    first = studio_choice(app)
    assert reel_data(app)["pair"] is None
    picks = set()
    for clicks in (1, 2, 3):  # what a click on the reel's button does: its state counts the clicks
        app.session_state["studio_surprise"] = {"spins": clicks}
        run(app)
        picks.add(studio_choice(app))
        assert reel_data(app)["spins"] == clicks and tuple(reel_data(app)["pair"]) == studio_choice(app)
    assert picks - {first}
    app.slider(key="studio_strength").set_value(0.5)  # a run that answers no click: the pair stays
    run(app)
    assert reel_data(app)["pair"] is None and tuple(studio_choice(app)) in picks
    lego, emoji = picks.pop()
    assert engine.dataset.domain[lego] == "lego" and engine.dataset.domain[emoji] == "emoji"
    # the grids start afresh on the pick, sent the URL of their face lists, not the faces again
    assert [picker_data(app, n)["chosen"] for n in (0, 1)] == list(studio_choice(app))
    assert [len(picker_faces(app, n)) for n in (0, 1)] == [len(engine.indices(d)) for d in ("lego", "emoji")]
    assert all(len(grid.proto.json) < 300 for grid in pickers(app))


def test_a_pick_from_before_a_surprise_does_not_come_back_and_can_be_made_again(engine, server_drawn):
    """The grids keep their state through a Surprise me; only a pick the app has not answered
    yet (the grid counts its picks) chooses a face."""
    app = run(page("studio"))
    face = int(engine.indices("lego")[40])
    pick(app, "studio_lego", face)
    run(app)
    for spins in range(1, 6):  # a surprise lands on another face (the same one is a 1-in-400 chance)
        app.session_state["studio_surprise"] = {"spins": spins}
        run(app)
        surprise = studio_choice(app)[0]
        if surprise != face:
            break
    assert surprise != face and picker_data(app)["chosen"] == surprise and picker_data(app)["picks"] == 1
    app.slider(key="studio_strength").set_value(0.5)  # a rerun: the grid's state still names the old pick
    run(app)
    assert studio_choice(app)[0] == surprise
    pick(app, "studio_lego", face)  # the same face, picked again
    run(app)
    assert studio_choice(app)[0] == face and picker_data(app)["picks"] == 2
    for stray in (face + 1, [face + 1], [face + 1, "3"], [face + 1, True]):  # not a pick: ignored
        app.session_state["studio_lego_grid"] = {"picked": stray}
        run(app)
        assert studio_choice(app)[0] == face


def test_studio_reads_its_selection_from_the_url(engine, server_drawn):
    lego, emoji = int(engine.indices("lego")[7]), int(engine.indices("emoji")[12])
    app = page("studio")
    app.query_params.update(lego=str(lego), emoji=str(emoji), strength="0.50")
    run(app)
    assert studio_choice(app) == (lego, emoji)
    assert picker_data(app)["chosen"] == lego
    assert app.slider(key="studio_strength").value == 0.5


def test_directions_move_a_face_along_group_b_minus_group_a(engine, server_drawn):
    app = run(page("directions"))
    before = image_urls(app)
    app.slider(key="dir_amount").set_value(-1.5)
    run(app)
    after = image_urls(app)
    assert after[0] == before[0] and after[1] != before[1] and after[2] == before[2]
    app.selectbox(key="dir_b").set_value("angry")
    app.text_input(key="dir_name").input("grumpier")
    run(app)
    assert image_urls(app)[2] != after[2]
    assert app.query_params["b"] == "angry" and app.query_params["name"] == "grumpier"


def test_morph_widgets_change_the_strip(engine, made_on_click, server_drawn):
    app = run(page("morph"))
    strip = image_urls(app)[0]
    app.slider(key="morph_steps").set_value(6)
    run(app)
    assert image_urls(app)[0] != strip
    steps_strip = image_urls(app)[0]
    app.radio(key="morph_method").set_value("lerp")
    run(app)
    assert image_urls(app)[0] != steps_strip
    assert app.query_params["steps"] == "6"
    links = downloads(app, made_on_click)  # the strip at twice the frames' size, the GIF forth and back
    with Image.open(links["Download PNG"][0]) as strip, Image.open(links["Download GIF"][0]) as gif:
        assert strip.size == (6 * 256 + 5 * 4, 256) and (gif.format, gif.n_frames) == ("GIF", 6 + 4)
    named = [name for _, name in links.values()]  # the part's files are named after its face (data.ldraw_part)
    assert named[:2] == ["legomoji-morph.png", "legomoji-morph.gif"] and named[2][:-4] == named[3][:-4]
    assert [name[-4:] for name in named[2:]] == [".zip", ".mpd"]


def test_morph_search_filters_the_face_grids():
    app = run(page("morph"))
    everything = len(picker_faces(app))
    app.text_input(key="morph_lego_search").input("sunglasses")
    run(app)
    filtered = picker_faces(app)
    assert 0 < len(filtered) < everything
    assert all("sunglasses" in f"{name} {tags}".lower() for _, name, tags in filtered)


def test_morph_opens_the_pair_named_in_the_url(engine):
    lego, emoji = int(engine.indices("lego")[5]), int(engine.indices("emoji")[20])
    app = page("morph")
    app.query_params.update(lego=str(lego), emoji=str(emoji))
    run(app)
    heading = app.markdown[0].value
    assert engine.dataset.name[lego] in heading and engine.dataset.name[emoji] in heading


@pytest.fixture
def server_drawn(monkeypatch):
    """Every face drawn by the server (the live path off), so that AppTest can move its sliders."""
    from explorer.cache import LIVE_ENV, live_files

    monkeypatch.setenv(LIVE_ENV, "0")
    live_files.clear()
    yield
    monkeypatch.delenv(LIVE_ENV)
    live_files.clear()


def test_mirror_slides_one_face_between_the_domains(engine, server_drawn):
    app = run(page("mirror"))
    before = image_urls(app)  # original, as Lego, the mix, as emoji, the strip
    assert len(before) == 5
    app.slider(key="mirror_mix").set_value(0.9)
    run(app)
    after = image_urls(app)
    assert after[2] != before[2] and after[1] == before[1] and after[3] == before[3] and after[4] == before[4]
    app.radio(key="mirror_domain").set_value("emoji")
    run(app)
    assert image_urls(app)[0] != after[0] and app.query_params["from"] == "emoji"


@pytest.mark.parametrize(("params", "named"), [
    ({"strength": "banana"}, "strength=“banana”"),
    ({"strength": "7"}, "strength=“7”"),
    ({"mode": "<script>"}, "mode=“\\<script\\>”"),  # escaped: shown as text, never as HTML
    ({"lego": "not-a-number"}, "lego=“not\\-a\\-number”"),
])
def test_bad_url_values_say_what_is_shown_instead(params, named):
    app = page("studio")
    app.query_params.update(params)
    run(app)
    assert any(named in warning.value and "shown instead" in warning.value for warning in app.warning)


def test_an_emoji_index_where_a_lego_face_belongs_is_named(engine):
    app = page("studio")
    app.query_params.update(lego=str(int(engine.indices("emoji")[0])))
    run(app)
    assert any("not lego" in warning.value for warning in app.warning)
    assert engine.dataset.domain[studio_choice(app)[0]] == "lego"


MAP_KEY = "map_{}_{}_False_False_contours-labels_"  # projection, colouring; no faces drawn, no upload,
                                                       # both layers, no direction axes


def select_on_map(app: AppTest, key: str, points=(), box=(), lasso=()):
    app.session_state[key] = {"selection": {"points": list(points), "point_indices": [], "box": list(box),
                                            "lasso": list(lasso)}}


def spot_images(engine) -> int:
    """An empty spot (or a group's mean) is decoded as a Lego face and as an emoji by a shared
    model; once by a plain one, whose decoder has no domain to draw in."""
    return 2 if engine.domain_conditioned else 1


def test_the_morph_frame_chosen_is_the_face_of_its_ldraw_part(engine, made_on_click, server_drawn):
    from data.ldraw import read_document
    from data.ldraw_part import face_name, face_texture
    from explorer.ui import LDRAW_LABEL
    from vae.latent import interpolate_latents

    lego, emoji = int(engine.indices("lego")[3]), int(engine.indices("emoji")[8])
    app = page("morph")
    app.query_params.update(lego=str(lego), emoji=str(emoji), steps="5", method="lerp")
    run(app)
    app.slider(key="morph_frame").set_value(2)
    run(app)
    data, file_name = downloads(app, made_on_click)[LDRAW_LABEL]
    document = read_document(data.getvalue().decode("utf-8"))
    with Image.open(io.BytesIO(next(iter(document.data.values())))) as texture:
        embedded = np.asarray(texture.convert("RGB"))
    code = interpolate_latents(engine.maps.means[lego], engine.maps.means[emoji], 5, "lerp")[1]
    assert file_name == face_name(engine.decode(code, "lego")[0]) + ".mpd"
    assert np.array_equal(embedded, face_texture(engine.decode(code, "lego")[0]))


def test_map_click_on_a_point_decodes_that_image(engine):
    from explorer.cache import map_figure, map_trace_members

    app = run(page("latent_map"))
    figure = map_figure(str(engine.folder), "UMAP", "domain")
    curve = next(i for i, trace in enumerate(figure.data) if trace.name == "lego")
    index = int(map_trace_members(str(engine.folder), "domain")[curve - 1][17])
    assert engine.dataset.domain[index] == "lego"
    select_on_map(app, MAP_KEY.format("UMAP", "domain"),
                  points=[{"curve_number": curve, "point_index": 17, "x": 0.0, "y": 0.0}])
    run(app)
    assert app.subheader[0].value == engine.dataset.name[index]
    assert app.query_params["image"] == str(index)
    assert len(app.get("image")) == 2 + 6  # original, reconstruction, six neighbours


def test_map_click_on_an_empty_spot_decodes_it(family_engine):
    x0, x1, y0, y1 = family_engine.maps.umap_extent  # two spots inside the map, where its grid differs
    one, other = (x0 + 0.3 * (x1 - x0), y0 + 0.4 * (y1 - y0)), (x0 + 0.7 * (x1 - x0), y0 + 0.6 * (y1 - y0))
    app = run(page("latent_map"))
    key = MAP_KEY.format("UMAP", "domain")
    select_on_map(app, key, points=[{"curve_number": 0, "point_index": 3, "x": one[0], "y": one[1]}])
    run(app)
    assert app.subheader[0].value.startswith(f"Empty spot ({one[0]:.2f}, {one[1]:.2f})")
    assert len(app.get("image")) == spot_images(family_engine) + 6  # the spot decoded, six neighbours
    first = image_urls(app)[0]
    select_on_map(app, key, box=[{"x": [one[0], 2 * other[0] - one[0]], "y": [one[1], 2 * other[1] - one[1]]}])
    run(app)  # a box: its centre
    assert app.subheader[0].value.startswith(f"Empty spot ({other[0]:.2f}, {other[1]:.2f})")
    assert image_urls(app)[0] != first


def test_a_lasso_around_several_faces_lists_them_and_keeps_them_as_a_group(family_engine):
    from explorer.cache import map_figure, map_trace_members

    engine = family_engine
    app = run(page("latent_map"))
    figure = map_figure(str(engine.folder), "UMAP", "domain")
    curve = next(i for i, trace in enumerate(figure.data) if trace.name == "emoji")
    chosen = [int(map_trace_members(str(engine.folder), "domain")[curve - 1][i]) for i in (2, 5, 9)]
    select_on_map(app, MAP_KEY.format("UMAP", "domain"), lasso=[{"x": [0, 1, 1], "y": [0, 0, 1]}],
                  points=[{"curve_number": curve, "point_index": i, "x": 0.0, "y": 0.0} for i in (2, 5, 9)]
                  + [{"curve_number": 0, "point_index": 1, "x": 0.0, "y": 0.0}])
    run(app)
    assert app.subheader[0].value == "3 faces selected"
    assert len(app.get("image")) == 3 + spot_images(engine)  # the three faces, their mean decoded
    assert image_captions(app)[3:] == (["as a Lego face", "as an emoji"] if engine.domain_conditioned
                                       else ["decoded"])
    app.button(key="map_keep_b").click()
    run(app)
    assert sorted(app.session_state["map_group_b"].tolist()) == sorted(chosen)


def test_the_map_can_draw_every_face():
    app = run(page("latent_map"))
    plain = chart_spec(app)
    app.toggle(key="map_faces").set_value(True)
    run(app)
    assert '"images"' in chart_spec(app) and '"images"' not in plain and app.query_params["faces"] == "1"


def test_map_widgets_change_the_view(family_engine):
    engine = family_engine
    app = run(page("latent_map"))
    app.radio(key="map_projection").set_value("PCA")
    run(app)
    select_on_map(app, MAP_KEY.format("PCA", "domain"),
                  points=[{"curve_number": 0, "point_index": 0, "x": 0.0, "y": 0.0}])
    app.slider(key="map_k").set_value(4)
    run(app)
    assert len(app.get("image")) == spot_images(engine) + 4
    app.radio(key="map_colour").set_value("expression")
    run(app)
    assert app.query_params["colour"] == "expression"


def chart_spec(app: AppTest) -> str:
    return app.get("plotly_chart")[0].proto.spec


def panel_titles(app: AppTest) -> list[str]:
    titles = json.loads(chart_spec(app))["data"][-1]
    assert titles["mode"] == "text"
    return [title.split()[0] for title in titles["text"]]


def test_distributions_widgets_change_the_charts(engine):
    app = run(page("distributions"))
    assert panel_titles(app) == [f"z{d}" for d in range(20)]  # the page opens on 20 dimensions
    app.slider(key="dist_dims").set_value(50)
    run(app)
    assert len(panel_titles(app)) == 50
    app.toggle(key="dist_split").set_value(True)
    run(app)
    assert '"lego"' in chart_spec(app) and '"emoji"' in chart_spec(app)
    assert app.metric[0].value.endswith(f"/ {engine.maps.means.shape[1]}")


SAMPLES = 24  # 12 Lego faces and 12 emoji


def test_generate_widgets_change_the_samples(server_drawn):
    app = run(page("generate"))
    samples = image_urls(app)[:SAMPLES]
    app.slider(key="gen_temperature").set_value(1.3)
    run(app)
    assert image_urls(app)[:SAMPLES] != samples
    hotter = image_urls(app)[:SAMPLES]
    app.number_input(key="gen_seed").set_value(3)
    run(app)
    assert image_urls(app)[:SAMPLES] != hotter
    app.radio(key="gen_prior").set_value("normal")
    run(app)
    assert image_urls(app)[:SAMPLES] != hotter
    gallery = image_urls(app)[SAMPLES:]
    app.number_input(key="gallery_seed").set_value(5)
    run(app)
    assert image_urls(app)[SAMPLES:] != gallery
    app.radio(key="gallery_split").set_value("train")
    run(app)
    assert len(app.get("plotly_chart")) == 1
    assert (app.query_params["temperature"], app.query_params["prior"], app.query_params["seed"]) == \
        ("1.30", "normal", "3")
    shared = page("generate")  # the link draws the same samples
    shared.query_params.update({k: app.query_params[k] for k in ("temperature", "prior", "seed", "gallery")})
    run(shared)
    assert image_urls(shared)[:SAMPLES] == image_urls(app)[:SAMPLES]


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_is_encoded_placed_and_usable_elsewhere(family_engine):
    engine = family_engine
    app = run(page("your_image"))
    face = Image.fromarray(engine.dataset.images[int(engine.indices("emoji")[10])])
    app.file_uploader(key="upload_file").set_value(("face.png", png(face.resize((200, 200))), "image/png"))
    run(app)
    both_domains = 2 if engine.domain_conditioned else 0  # the upload as a Lego face and as an emoji
    assert not app.error and len(app.get("image")) == 2 + both_domains + 6
    upload = app.session_state["uploaded_face"]
    assert upload["z"].shape == (engine.model.cfg.latent_dim,) and np.all(np.isfinite(upload["umap_xy"]))

    studio = run(page("studio"))  # the upload as the studio's face: another face, another result
    before = image_urls(studio)
    studio.session_state["uploaded_face"] = upload
    run(studio)
    studio.toggle(key="studio_upload").set_value(True)
    run(studio)
    after = image_urls(studio)
    assert after[0] != before[0] and after[1] != before[1] and after[-1] == before[-1]  # same emoji target

    morph = page("morph")
    morph.session_state["uploaded_face"] = upload
    run(morph)
    strip = image_urls(morph)[0]
    morph.toggle(key="morph_upload").set_value(True)
    run(morph)
    assert image_urls(morph)[0] != strip and any("your image" in m.value for m in morph.markdown)

    latent_map = page("latent_map")
    latent_map.session_state["uploaded_face"] = upload
    run(latent_map)
    traces = json.loads(latent_map.get("plotly_chart")[0].proto.spec)["data"]
    star = [t for t in traces if t.get("name") == "your image"]
    assert len(star) == 1 and star[0]["marker"]["symbol"] == "star"
    assert np.allclose([star[0]["x"][0], star[0]["y"][0]], upload["umap_xy"])


def test_upload_of_garbage_is_a_clear_error():
    app = run(page("your_image"))
    app.file_uploader(key="upload_file").set_value(("face.png", b"<html>not an image</html>", "image/png"))
    run(app)
    assert "not a PNG, JPEG or WebP" in app.error[0].value


def test_a_script_run_leaves_tensorflows_kernels_in_place(engine, monkeypatch, server_drawn):
    """Streamlit clears Keras after every run; the dashboard's model keeps its kernels (cleared,
    the next run's first decode set them up again, several times slower)."""
    from tensorflow.python.eager import context

    cleared = []
    original = context.Context.clear_kernel_cache
    monkeypatch.setattr(context.Context, "clear_kernel_cache",
                        lambda self: (cleared.append(True), original(self))[1])
    app = run(page("studio"))
    app.slider(key="studio_strength").set_value(0.5)
    run(app)
    assert image_urls(app) and cleared == []
