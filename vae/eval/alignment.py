"""How shared the latent space is and how well its operations work, judged without the model.

- domain accuracy: can a 5-fold logistic regression tell Lego from emoji by the code?
- expression neighbours: do a tagged Lego face's nearest emoji share one of its tags?
- transfer: does the studio's result show the target expression (an independent pixel judge),
  still look Lego, and still look like the chosen face (among its 5 nearest Lego originals)?
- translation: is a translated face judged the other domain, with its expression kept?

`python -m vae.eval.evaluate` and `python -m bench` both report these.
"""
from __future__ import annotations

import numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from data.labels import EXPRESSIONS
from data.printed import print_or_keep
from vae import latent
from vae.fit import STEPS as FIT_STEPS
from vae.fit import fitted_codes
from vae.printing import studio_codes
from vae.space import LatentSpace, domain_value

JUDGE_SIZE = 32
IDENTITY_RANK = 5  # the source face must be among this many nearest Lego originals
MIN_EMOJI = 5  # an expression is a studio target when at least this many emoji show it
NEIGHBOURS = 10
BATCH = 128


def domain_accuracy(means: np.ndarray, domains: np.ndarray, folds: int = 5, seed: int = 0) -> dict:
    """Cross-validated accuracy of a logistic regression predicting the domain from the code,
    beside the majority-class rate (what a probe that learnt nothing would score)."""
    labels = domains == "lego"
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    scores = cross_val_score(probe, means, labels, cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
    majority = max(labels.mean(), 1 - labels.mean())
    return {"accuracy": round(float(scores.mean()), 3), "majority": round(float(majority), 3)}


def expression_neighbour_rate(means: np.ndarray, domains: np.ndarray, tags: np.ndarray, k: int = NEIGHBOURS) -> dict:
    """For each tagged Lego face, the share of its k nearest emoji that carry one of its tags;
    chance is the share of all emoji that do."""
    lego = np.flatnonzero((domains == "lego") & tags.any(axis=1))
    emoji = np.flatnonzero(domains == "emoji")
    hits, chance = [], []
    for index in lego:
        shares = (tags[emoji] & tags[index]).any(axis=1)  # (E,) emoji sharing a tag with this face
        nearest = latent.nearest_neighbours(means[emoji], means[index], k)
        hits.append(shares[nearest].mean())
        chance.append(shares.mean())
    rate, base = float(np.mean(hits)), float(np.mean(chance))
    return {"rate": round(rate, 3), "chance": round(base, 3), "ratio": round(rate / base, 2), "faces": len(lego)}


def judge_features(images: np.ndarray) -> np.ndarray:
    """Pixels at 32x32 RGB, scaled to [0, 1]: features that owe nothing to the model."""
    small = [np.asarray(Image.fromarray(im).resize((JUDGE_SIZE, JUDGE_SIZE), Image.BILINEAR)) for im in images]
    return np.stack(small).reshape(len(images), -1).astype(np.float32) / 255.0


class Judge:
    """Logistic regressions on pixels: one for the domain, one per expression (one vs rest)."""

    description = "logistic regressions on 32x32 RGB pixels of the un-augmented labelled images"

    def __init__(self, images: np.ndarray, domains: np.ndarray, tags: np.ndarray, expressions: list[str]):
        features = judge_features(images)
        self.domain = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=3000))
        self.domain.fit(features, domains == "lego")
        self.expressions = {}
        for tag in expressions:
            column = tags[:, EXPRESSIONS.index(tag)]
            model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=3000, class_weight="balanced"))
            self.expressions[tag] = model.fit(features, column)

    def is_lego(self, images: np.ndarray) -> np.ndarray:
        return self.domain.predict(judge_features(images)).astype(bool)

    def shows(self, images: np.ndarray, tag: str) -> np.ndarray:
        return self.expressions[tag].predict(judge_features(images)).astype(bool)


def decode_uint8(model, z: np.ndarray, domain) -> np.ndarray:
    """uint8 images of latents in a domain, a batch at a time."""
    from vae.model import to_uint8

    z = np.atleast_2d(z)
    domain = np.broadcast_to(np.asarray(domain_value(domain), np.float32), (len(z),))
    return np.concatenate([to_uint8(model.decode(z[i:i + BATCH], domain[i:i + BATCH]))
                           for i in range(0, len(z), BATCH)])


def identity_kept(results: np.ndarray, faces: np.ndarray, lego_images: np.ndarray, lego_indices: np.ndarray,
                  rank: int = IDENTITY_RANK) -> np.ndarray:
    """Whether each result's source face (a dataset index) is among its `rank` nearest Lego
    originals by pixel MSE."""
    originals = lego_images.reshape(len(lego_images), -1).astype(np.float32) / 255.0
    kept = []
    for image, face in zip(results, faces):
        errors = ((originals - image.reshape(-1).astype(np.float32) / 255.0) ** 2).mean(axis=1)
        kept.append(face in lego_indices[np.argsort(errors)[:rank]])
    return np.array(kept)


STUDIO_MODES = ("printed", "printed_encoder", "emoji", "tag", "print_itself", "unchanged")


def studio_results(model, space: LatentSpace, images: np.ndarray, strength: float, pairs: int = 160,
                   seed: int = 0, fit_steps: int = FIT_STEPS) -> dict:
    """The studio on random (Lego face, target) pairs, every way, as pictures to be judged: an
    emoji's expression printed and redrawn (the studio's default: the print's code fitted by
    `fit_steps` steps, vae.fit; "printed_encoder": the encoder's code alone, as before the
    fitting), the emoji's expression dims, and the tag's. Two references: the print itself,
    before the model redraws it (what a perfect redraw would keep; the face unprinted where the
    emoji cannot be printed), and the face unchanged."""
    rng = np.random.default_rng(seed)
    expressions = target_expressions(space)
    lego, emoji = np.flatnonzero(space.domains == "lego"), np.flatnonzero(space.domains == "emoji")
    plan = []
    for _ in range(pairs):
        tag = expressions[rng.integers(len(expressions))]
        column = space.tag_column(tag)
        plan.append((tag, int(rng.choice(lego[~column[lego]])), int(rng.choice(emoji[column[emoji]]))))
    faces, targets = (np.array([pair[k] for pair in plan]) for k in (1, 2))
    found = {"plan": plan, "strength": strength, "fit_steps": fit_steps}
    for mode in STUDIO_MODES:
        if mode == "print_itself":
            found[mode] = np.stack([print_or_keep(images[f], images[t]) for f, t in zip(faces, targets)])
            continue
        if mode in ("printed", "printed_encoder", "emoji"):  # the studio's ways with an emoji (see vae.printing)
            steps = fit_steps if mode == "printed" else 0
            z, printed = studio_codes(lambda batch, steps=steps: fitted_codes(model, batch, 0.0, steps), space,
                                      images, faces, targets, strength, "code" if mode == "emoji" else "printed")
            if mode == "printed":
                found["printed_share"] = round(float(printed.mean()), 3)
        elif mode == "tag":
            z = np.stack([space.transfer(space.means[face], strength, tag=tag) for tag, face, _ in plan])
        else:
            z = space.means[faces]
        found[mode] = decode_uint8(model, z, "lego")
    return found


def transfer_quality(found: dict, space: LatentSpace, images: np.ndarray, judge: Judge) -> dict:
    """The studio's results (`studio_results`) judged: success = the judge sees the target
    expression on a Lego face; identity = the source face is among the 5 nearest Lego originals."""
    plan = found["plan"]
    pairs, faces = len(plan), np.array([face for _, face, _ in plan])
    lego = np.flatnonzero(space.domains == "lego")
    report = {"pairs": pairs, "strength": found["strength"], "fit_steps": found["fit_steps"],
              "judge": judge.description, "printed_share": found["printed_share"]}
    for mode in STUDIO_MODES:
        results = found[mode]
        shows = np.array([judge.shows(results[i:i + 1], plan[i][0])[0] for i in range(pairs)])
        success = shows & judge.is_lego(results)
        kept = identity_kept(results, faces, images[lego], lego)

        def per_tag(values: np.ndarray) -> dict:
            return {tag: round(float(np.mean([v for (t, _, _), v in zip(plan, values) if t == tag])), 3)
                    for tag in sorted({t for t, _, _ in plan})}

        report[mode] = {"success": round(float(success.mean()), 3), "identity_kept": round(float(kept.mean()), 3),
                        "both": round(float((success & kept).mean()), 3), "per_expression": per_tag(success),
                        "pairs_per_expression": {tag: sum(t == tag for t, _, _ in plan) for tag in per_tag(success)}}
    return report


def translation_quality(model, space: LatentSpace, judge: Judge) -> dict:
    """Every tagged original decoded in the other domain: judged the other domain, and judged
    to show at least one of its own tags."""
    report = {}
    expressions = set(judge.expressions)
    for source, target in (("lego", "emoji"), ("emoji", "lego")):
        chosen = np.flatnonzero((space.domains == source) & space.tags.any(axis=1))
        z = np.stack([space.translate(space.means[i], source, target) for i in chosen])
        results = decode_uint8(model, z, target)
        other = judge.is_lego(results) == (target == "lego")
        kept = []
        for image, index in zip(results, chosen):
            tags = [t for j, t in enumerate(EXPRESSIONS) if space.tags[index, j] and t in expressions]
            kept.append(any(judge.shows(image[None], t)[0] for t in tags) if tags else False)
        report[f"{source}_to_{target}"] = {"faces": len(chosen), "other_domain": round(float(other.mean()), 3),
                                           "expression_kept": round(float(np.mean(kept)), 3)}
    return report


def target_expressions(space: LatentSpace) -> list[str]:
    """The expressions the studio is judged on: every one at least MIN_EMOJI emoji show, whether
    or not a real Lego face has it (a kiss on a Lego face is the point)."""
    emoji = space.domains == "emoji"
    return [t for t in EXPRESSIONS if space.tag_column(t)[emoji].sum() >= MIN_EMOJI]


def alignment_report(model, space: LatentSpace, images: np.ndarray, strength: float, pairs: int = 160,
                     cnn: bool = True, groups: np.ndarray | None = None, cnn_judge=None,
                     fit_steps: int = FIT_STEPS) -> dict:
    """Every figure above for one model and its dataset's real originals, by the pixel judge
    and (with `cnn`) by the CNN judge too (trained here unless given, e.g. once for several
    models); with `groups` (see vae.eval.judge.face_groups) the CNN judge's own cross-validated
    accuracy is reported beside its figures."""
    from vae.eval.judge import CNNJudge, cross_validate

    expressions = target_expressions(space)
    judge = Judge(images, space.domains, space.tags, expressions)
    found = studio_results(model, space, images, strength, pairs, fit_steps=fit_steps)
    report = {
        "domain_accuracy": domain_accuracy(space.means, space.domains),
        "expression_neighbours": expression_neighbour_rate(space.means, space.domains, space.tags),
        "transfer": transfer_quality(found, space, images, judge),
        "translation": translation_quality(model, space, judge),
    }
    if cnn:
        cnn_judge = cnn_judge or CNNJudge(images, space.domains, space.tags, expressions)
        report["cnn"] = {"judge": cnn_judge.description,
                         "transfer": transfer_quality(found, space, images, cnn_judge),
                         "translation": translation_quality(model, space, cnn_judge)}
        if groups is not None:
            report["cnn"]["cross_validation"] = cross_validate(images, space.domains, space.tags, groups)
    return report


def frame_smoothness(frames: np.ndarray) -> float:
    """Largest mean-absolute pixel change between neighbouring frames over the mean change
    (1.0 means the morph moves evenly)."""
    changes = np.abs(np.diff(np.asarray(frames, np.float64), axis=0)).reshape(len(frames) - 1, -1).mean(axis=1)
    return float(changes.max() / max(changes.mean(), 1e-12))
