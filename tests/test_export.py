"""`python -m vae.export` on a real (tiny) shared model: the assets the dashboard opens."""
import gzip
import json

import numpy as np
import pytest
from PIL import Image

from common.errors import UserError
from data.dataset import FaceDataset
from explorer.engine import DEFAULT_ASSETS, Engine
from tests.tiny import export_tiny
from vae.export import main as export_main
from vae.latent import pca_project


@pytest.fixture(scope="module")
def exported(built_dataset, tmp_path_factory):
    return export_tiny(built_dataset[0], "tiny-shared", 600, 2, tmp_path_factory.mktemp("export"))


def test_export_writes_every_asset_with_the_attribution(exported):
    folder, small = exported
    names = {p.name for p in folder.iterdir()}
    assert {"model.keras", "config.json", "history.csv", "latents.npz", "dataset.npz", "evaluation.json",
            "ATTRIBUTION.md"} <= names
    attribution = (folder / "ATTRIBUTION.md").read_text()
    for source in ("LDraw", "Twemoji", "Noto", "OpenMoji", "CC BY-SA 4.0", "Fluent", "MIT"):
        assert source in attribution
    evaluation = json.loads((folder / "evaluation.json").read_text())
    assert set(evaluation) >= {"lego", "emoji"}
    assert not any(name.startswith(".") for name in names)  # no temporary file left behind


def test_export_writes_the_static_pictures_the_dashboard_serves(exported):
    from common.static_files import face_list, live_names, thumbnail_folder_name

    folder, _ = exported
    static, shipped = folder.parent / "static", FaceDataset.load(folder / "dataset.npz")
    for domain in ("lego", "emoji"):
        listing = face_list(shipped, domain)
        assert json.loads((static / listing.name).read_text())["atlas"] == listing.atlas_name
        with Image.open(static / listing.atlas_name) as atlas:
            assert atlas.format == "WEBP" and atlas.width == 16 * listing.side
    thumbs = static / thumbnail_folder_name(shipped.images)
    assert sorted(int(p.stem) for p in thumbs.glob("*.png")) == list(range(len(shipped)))
    live = live_names(folder)  # what the browser draws faces with (explorer/live.py)
    assert {"decoder", "umap_grid"} <= set(live) and all((static / name).is_file() for name in live.values())
    assert gzip.decompress((static / live["decoder"]).read_bytes()) == (folder / "decoder.tflite").read_bytes()
    assert not [p for p in static.iterdir() if p.name.startswith(".")]


def test_the_exported_engine_decodes_samples_and_translates(exported):
    folder, small = exported
    engine = Engine(folder)
    real = int((~small.augmented & ~small.synthetic).sum())  # printed heads train the model, never ship
    assert small.synthetic.any() and len(engine.dataset) == real and engine.maps.means.shape[0] == real
    assert not engine.dataset.synthetic.any()
    assert set(engine.maps.mixtures) == {"lego", "emoji"}
    side = engine.dataset.size
    for prior in ("posterior", "normal"):
        assert engine.sample(3, 1.0, 0, "emoji", prior).shape == (3, side, side, 3)
    z = engine.maps.means[0]
    assert not np.array_equal(engine.translate(z, "emoji"), engine.decode(z, "lego"))


def test_an_empty_spot_next_to_a_point_decodes_close_to_that_point(exported):
    """The UMAP grid's rows are y and its columns x: a flipped grid would put a click next to a
    point as far from it as a random face is."""
    engine = Engine(exported[0])
    means, xy = engine.maps.means, engine.maps.umap_xy
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(means), 30, replace=False)
    span = xy.max(axis=0) - xy.min(axis=0)
    near = engine.maps.plane_to_latent("UMAP", xy[chosen] + 0.01 * span)
    clicked = np.median(np.linalg.norm(near - means[chosen], axis=1))
    flipped = engine.maps.plane_to_latent("UMAP", xy[chosen][:, ::-1] + 0.01 * span[::-1])
    random_pairs = np.median(np.linalg.norm(means[chosen] - means[rng.permutation(chosen)], axis=1))
    assert clicked < 0.75 * random_pairs, (clicked, random_pairs)
    flipped_distance = np.median(np.linalg.norm(flipped - means[chosen], axis=1))
    assert clicked < 0.85 * flipped_distance, (clicked, flipped_distance)
    pca = engine.maps.plane_to_latent("PCA", engine.maps.pca_xy[chosen])
    back = pca_project(pca, engine.maps.pca_mean, engine.maps.pca_components)
    assert np.allclose(back, engine.maps.pca_xy[chosen], atol=1e-4)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def test_export_of_a_run_that_is_not_there_is_one_sentence_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "assets"
    assert export_main(["--run", str(tmp_path / "no-such-run"), "--out", str(out)]) == 2
    assert "no-such-run" in one_line_error(capsys)
    assert not out.exists()


def test_the_evaluate_cli_writes_its_figures_or_names_the_missing_model(exported, tmp_path, capsys):
    from vae.eval.evaluate import main as evaluate_main

    run, data = exported[0].parent / "run", exported[0].parent / "data.npz"
    out = tmp_path / "evaluation.json"
    assert evaluate_main(["--model", str(run), "--data", str(data), "--out", str(out), "--no-cnn",
                          "--fit-steps", "3"]) == 0
    figures = json.loads(out.read_text())
    assert figures["alignment"]["transfer"]["fit_steps"] == 3
    for domain in ("lego", "emoji"):
        assert 0.0 < figures[domain]["ssim"] <= 1.0 and figures[domain]["mse"] > 0
    assert 0.0 <= figures["alignment"]["domain_accuracy"]["accuracy"] <= 1.0
    assert "SSIM" in capsys.readouterr().out
    assert evaluate_main(["--model", str(tmp_path / "missing"), "--data", str(data)]) == 2
    assert "missing" in one_line_error(capsys)


def test_the_sheet_cli_draws_faces_by_expressions_or_names_the_missing_dataset(exported, tmp_path, capsys):
    from PIL import Image

    from vae.eval.sheet import main as sheet_main

    run, data = exported[0].parent / "run", exported[0].parent / "data.npz"
    sheet = tmp_path / "sheet.png"
    assert sheet_main(["--model", str(run), "--data", str(data), "--sheet", str(sheet), "--pairs", "12",
                       "--no-cnn", "--fit-steps", "3"]) == 0
    printed = capsys.readouterr().out
    tags = printed.split("reconstruction, ", 1)[1].split(")", 1)[0].split(", ")
    assert len(tags) >= 10  # the small dataset still has emoji for most expressions
    side = exported[1].size
    picture = Image.open(sheet)
    assert picture.size[0] > (2 + len(tags)) * side and picture.size[1] > 9 * side  # header + 8 faces
    transfer = json.loads((run / "alignment.json").read_text())["transfer"]
    assert {"printed", "emoji", "tag", "print_itself", "unchanged"} <= set(transfer)
    # the print itself is the real face but for its eyes and mouth: nearer its own face than any redraw
    assert transfer["print_itself"]["identity_kept"] >= max(transfer[mode]["identity_kept"] for mode in
                                                             ("printed", "emoji", "tag", "unchanged"))
    assert sheet_main(["--model", str(run), "--data", str(tmp_path / "gone.npz"), "--sheet", str(sheet)]) == 2
    assert "gone.npz" in one_line_error(capsys)


def test_a_sheet_of_the_prints_themselves_holds_the_prints_not_redrawn(exported):
    from data.printed import print_expression
    from vae.eval.sheet import PRINT_ITSELF, latent_space, transfer_sheet
    from vae.families import load_model_folder

    run, data = exported[0].parent / "run", exported[0].parent / "data.npz"
    model, dataset = load_model_folder(run), FaceDataset.load(data).real()
    space = latent_space(model, dataset)
    prints, columns, tags = transfer_sheet(model, space, dataset, faces=2, method=PRINT_ITSELF)
    redrawn, _, _ = transfer_sheet(model, space, dataset, faces=2)
    emoji = prints[2:columns]  # the header row: blank, blank, then each target emoji
    face = prints[columns]  # the first face's row: original, reconstruction, then each result
    expected = [print_expression(face, target) for target in emoji]
    assert any(image is not None for image in expected)
    for cell, printed in zip(prints[columns + 2:2 * columns], expected):
        assert np.array_equal(cell, face if printed is None else printed)
    assert np.array_equal(prints[:2 * columns - len(tags)], redrawn[:2 * columns - len(tags)])  # same faces
    assert not np.array_equal(prints[columns + 2:2 * columns], redrawn[columns + 2:2 * columns])


def test_the_ablation_cli_writes_its_report_or_names_the_missing_dataset(built_dataset, tmp_path, capsys):
    """The printed-heads study at a one-second budget on a small real subset: four variants of
    `fast`, each trained, judged on real faces only, and written to one report."""
    import tensorflow as tf

    from vae.eval.ablation import PRINTED_VARIANTS
    from vae.eval.ablation import main as ablation_main

    dataset = built_dataset[0]
    real = ~dataset.augmented & ~dataset.synthetic
    keep = real & (dataset.domain == "lego")  # every real Lego face and 24 real emoji, to judge on
    rng = np.random.default_rng(4)
    keep[rng.choice(np.flatnonzero(real & (dataset.domain == "emoji")), 24, replace=False)] = True
    keep[rng.choice(np.flatnonzero(dataset.augmented & ~dataset.synthetic), 100, replace=False)] = True
    keep[rng.choice(np.flatnonzero(dataset.synthetic), 60, replace=False)] = True
    dataset.subset(keep).save(tmp_path / "small.npz")
    # eagerly: tracing each variant's training step took most of this test's minute and more
    tf.config.run_functions_eagerly(True)
    try:
        assert ablation_main(["--data", str(tmp_path / "small.npz"), "--study", "printed", "--budget", "1",
                              "--out", str(tmp_path / "results"), "--no-cnn", "--pairs", "4", "--fit-steps", "2"]) == 0
    finally:
        tf.config.run_functions_eagerly(False)
    report = json.loads((tmp_path / "results" / "ablation-printed.json").read_text())
    assert set(report["presets"]) == set(PRINTED_VARIANTS)
    assert {(variant["alignment"]["transfer"]["pairs"], variant["alignment"]["transfer"]["fit_steps"])
            for variant in report["presets"].values()} == {(4, 2)}
    words = report["train_images"].split()
    assert int(words[0]) > int(words[-2])  # more with printed heads
    assert report["command"].endswith("--budget 1 --fit-steps 2")  # how to run it again
    written = (tmp_path / "results" / "ablation-printed.md").read_text()
    assert all(f"| {name} |" in written for name in PRINTED_VARIANTS)
    capsys.readouterr()
    assert ablation_main(["--data", str(tmp_path / "none.npz"), "--out", str(tmp_path / "results")]) == 2
    assert "none.npz" in one_line_error(capsys)


PAGES = ("studio", "mirror", "morph", "analogy", "latent_map", "directions", "distributions", "generate", "your_image")


@pytest.mark.parametrize("name", PAGES)
def test_every_page_works_on_a_plain_family_model(plain_engine, monkeypatch, name):
    """The pages read capabilities, not a family's name: a model without a domain condition or
    expression dims gets every page, with its approximations said where they are used (the
    pages' clicks on it: tests/test_app.py, its tests that take `family_engine`)."""
    from streamlit.testing.v1 import AppTest

    from explorer.cache import MODEL_ENV
    from tests.test_app import PRINT_CAPTION

    monkeypatch.setenv(MODEL_ENV, str(plain_engine.folder))
    app = AppTest.from_string(f"from explorer.pages.{name} import render_{name}\nrender_{name}()\n",
                              default_timeout=120)
    app.run()
    assert not app.exception, app.exception[0].message
    assert not app.error
    if name == "your_image":
        assert app.info[0].value == "No image yet."  # the upload itself: test_app.test_upload_is_encoded...
    else:
        assert len(app.get("image")) + len(app.get("plotly_chart")) >= 1
    if name == "mirror":
        assert "no domain condition" in app.info[0].value
    if name == "studio":
        assert any("prints the emoji's eyes" in c.value for c in app.caption)  # printing needs no expression dims
        # the face, its print, the result, a plain halfway morph, the target emoji
        assert len(app.get("image")) == 5 and app.get("image")[1].proto.imgs[0].caption == PRINT_CAPTION
        app.radio(key="studio_method").set_value("code")
        app.run()
        assert not app.exception
        assert any("adds what sets the chosen emoji apart" in c.value for c in app.caption)


def test_the_shipped_dataset_keeps_every_pixel_in_fewer_bytes_and_a_broken_one_is_one_sentence(exported, tmp_path):
    folder, small = exported
    real = small.real()
    np.testing.assert_array_equal(FaceDataset.load(folder / "dataset.npz").images, real.images)
    # the shipped 128 px faces: lossless WebP holds them in under three quarters of deflate's bytes
    # (at 64 px the two are within a few per cent)
    shipped = DEFAULT_ASSETS / "dataset.npz"
    FaceDataset.load(shipped).save(tmp_path / "plain.npz")
    assert shipped.stat().st_size < 0.75 * (tmp_path / "plain.npz").stat().st_size
    with np.load(folder / "latents.npz") as archive:
        assert archive["means"].dtype == archive["umap_grid"].dtype == np.float16
        fields = dict(archive)
    maps = Engine(folder).maps
    assert maps.means.dtype == maps.mixtures["lego"]["cholesky"].dtype == np.float32
    np.testing.assert_array_equal(maps.means, fields["means"].astype(np.float32))
    with np.load(folder / "dataset.npz") as archive:
        fields = dict(archive)
    fields["image_bytes"] = fields["image_bytes"].copy()
    fields["image_bytes"][fields["image_offsets"][3] + 20:fields["image_offsets"][4]] = 7  # one image broken
    np.savez_compressed(tmp_path / "broken.npz", **fields)
    with pytest.raises(UserError, match="not a readable dataset file"):
        FaceDataset.load(tmp_path / "broken.npz")


def test_agreement_counts_cells_and_kappa():
    from vae.eval.agreement import agreement

    person = np.array([1, 1, 1, 0, 0, 0, 0, 0], bool)
    same = agreement(person, person)
    assert same["agree"] == 1.0 and same["kappa"] == 1.0 and same["recall"] == 1.0
    opposite = agreement(~person, person)
    assert opposite["agree"] == 0.0 and opposite["kappa"] < 0 and opposite["recall"] == 0.0
    # yes on every cell: agrees wherever the person says yes (3 of 8), nothing beyond chance
    always = agreement(np.ones(8, bool), person)
    assert always["judge_yes"] == 8 and always["agree"] == 0.375 and always["kappa"] == 0.0
    assert always["precision"] == 0.375 and agreement(np.zeros(8, bool), person)["precision"] is None


def test_a_verdicts_file_without_its_sheets_or_ways_is_one_sentence(tmp_path):
    from vae.eval.agreement import load_verdicts

    path = tmp_path / "verdicts.json"
    for text, message in (("{", "not a readable verdicts file"),
                          ('{"ways": {"A": {"method": "print"}}}', "verdicts for each sheet"),
                          ('{"ways": {"A": {"method": "paint"}}, "A": {"shown": [[1]], "kept": [[1]]}}',
                           "needs a \"method\"")):
        path.write_text(text)
        with pytest.raises(UserError, match=message):
            load_verdicts(path)
    with pytest.raises(UserError, match="not a readable verdicts file"):
        load_verdicts(tmp_path / "missing.json")


def test_the_agreement_cli_compares_the_judges_with_a_persons_verdicts(exported, tmp_path, capsys):
    """A person's verdicts on a sheet of the prints themselves: "kept" given as the judges'
    own rule but for one cell agrees on all the others; "shown" given as yes everywhere is agreed on as often as a
    judge says yes; verdicts on other pictures or another sheet's size are refused in one sentence."""
    from vae.eval.agreement import cell_means, sheet_results
    from vae.eval.agreement import main as agreement_main
    from vae.eval.alignment import identity_kept, target_expressions
    from vae.eval.sheet import PRINT_ITSELF, latent_space
    from vae.families import load_model_folder

    run, data = exported[0].parent / "run", exported[0].parent / "data.npz"
    model, dataset = load_model_folder(run), FaceDataset.load(data).real()
    space = latent_space(model, dataset)
    results, faces, tags = sheet_results(model, space, dataset, PRINT_ITSELF, 0)
    lego = np.flatnonzero(dataset.domain == "lego")
    kept = identity_kept(results.reshape(-1, *results.shape[2:]), np.repeat(faces, len(tags)),
                         dataset.images[lego], lego).reshape(len(faces), len(tags))
    person = kept.copy()
    judged = [c for c, tag in enumerate(tags) if tag in target_expressions(space)]  # the tags the judges learnt
    assert 0 < len(judged) < len(tags)  # this small dataset has too few emoji for some tags
    person[0, judged[0]] = not kept[0, judged[0]]  # the person differs from the rule on one judged cell
    person[0, [c for c in range(len(tags)) if c not in judged]] ^= True  # and on cells no judge is asked about
    verdicts = {"ways": {"A": {"method": PRINT_ITSELF}},
                "A": {"shown": np.ones_like(kept, int).tolist(), "kept": person.astype(int).tolist(),
                      "cell_means": cell_means(results).tolist()}}
    kept, person = kept[:, judged], person[:, judged]
    path, out = tmp_path / "verdicts.json", tmp_path / "agreement.json"
    path.write_text(json.dumps(verdicts))
    assert agreement_main(["--verdicts", str(path), "--model", str(run), "--data", str(data), "--out", str(out),
                           "--no-cnn"]) == 0
    pixel = json.loads(out.read_text())["sheets"]["A"]["pixel"]
    assert pixel["kept"]["judge_yes"] == kept.sum() and pixel["kept"]["person_yes"] == person.sum()
    assert pixel["kept"]["agree"] == round(1 - 1 / kept.size, 3) and pixel["kept"]["kappa"] < 1
    assert pixel["shown"]["person_yes"] == pixel["shown"]["cells"] == kept.size
    assert pixel["shown"]["agree"] == round(pixel["shown"]["judge_yes"] / kept.size, 3)
    capsys.readouterr()
    verdicts["A"]["cell_means"] = (cell_means(results) + 8.0).tolist()  # verdicts on other pictures
    path.write_text(json.dumps(verdicts))
    assert agreement_main(["--verdicts", str(path), "--model", str(run), "--data", str(data), "--no-cnn"]) == 2
    assert "not the ones the person judged" in one_line_error(capsys)
    verdicts["A"]["kept"] = verdicts["A"]["kept"][:-1]
    path.write_text(json.dumps(verdicts))
    assert agreement_main(["--verdicts", str(path), "--model", str(run), "--data", str(data), "--no-cnn"]) == 2
    assert "another dataset or sheet" in one_line_error(capsys)
