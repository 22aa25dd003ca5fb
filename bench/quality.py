"""Quality judged without the VAE: an independent pixel classifier scores expression transfer,
and a pixel-change ratio scores how evenly morphs move."""
from __future__ import annotations

import numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from data.labels import EXPRESSIONS
from explorer.engine import DEFAULT_STRENGTH, Engine
from explorer.latent import frame_smoothness

JUDGE_SIZE = 32


def judge_features(images: np.ndarray) -> np.ndarray:
    """Pixels at 32x32 RGB, scaled to [0, 1]: features that owe nothing to our model."""
    small = [np.asarray(Image.fromarray(im).resize((JUDGE_SIZE, JUDGE_SIZE), Image.BILINEAR)) for im in images]
    return np.stack(small).reshape(len(images), -1).astype(np.float32) / 255.0


class Judge:
    """Logistic regressions on pixels: one for the domain, one per expression (one vs rest)."""

    def __init__(self, images: np.ndarray, domains: np.ndarray, tags: np.ndarray, expressions: list[str]):
        features = judge_features(images)
        self.domain = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=3000))
        self.domain.fit(features, domains == "lego")
        self.expressions = {}
        for tag in expressions:
            column = tags[:, EXPRESSIONS.index(tag)]
            model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=3000, class_weight="balanced"))
            self.expressions[tag] = model.fit(features, column)

    def verdicts(self, images: np.ndarray, tag: str) -> tuple[np.ndarray, np.ndarray]:
        """(shows the expression, looks like a Lego face) for each image."""
        features = judge_features(images)
        return self.expressions[tag].predict(features).astype(bool), self.domain.predict(features).astype(bool)


def transfer_quality(engine: Engine, pairs: int = 160, strength: float = DEFAULT_STRENGTH, seed: int = 0) -> dict:
    """How often the studio's result shows the target expression and still looks Lego,
    with the plain halfway morph and the unchanged face as references."""
    dataset = engine.dataset
    expressions = engine.available_expressions()
    judge = Judge(dataset.images, dataset.domain, engine.tags, expressions)
    rng = np.random.default_rng(seed)
    lego, emoji = engine.indices("lego"), engine.indices("emoji")
    outcomes = {"studio": [], "halfway morph": [], "unchanged face": []}
    per_tag: dict[str, list[bool]] = {}
    for _ in range(pairs):
        tag = expressions[rng.integers(len(expressions))]
        column = engine.tags[:, EXPRESSIONS.index(tag)]
        candidates = lego[~column[lego]]  # faces that do not already carry the target expression
        face = int(rng.choice(candidates))
        target_emoji = int(rng.choice(emoji[column[emoji]]))
        z = engine.maps.means[face]
        latents = np.stack([engine.transfer(z, strength, tag=tag), (z + engine.maps.means[target_emoji]) / 2])
        images = np.concatenate([engine.decode(latents), dataset.images[face][None]])
        shows, is_lego = judge.verdicts(images, tag)
        for name, ok in zip(outcomes, shows & is_lego):
            outcomes[name].append(bool(ok))
        per_tag.setdefault(tag, []).append(bool(shows[0] & is_lego[0]))
    return {
        "pairs": pairs, "strength": strength,
        "success_rate": {name: float(np.mean(v)) for name, v in outcomes.items()},
        "studio_rate_per_expression": {tag: round(float(np.mean(v)), 3) for tag, v in sorted(per_tag.items())},
        "judge": "logistic regression on 32x32 RGB pixels of the un-augmented labelled images",
    }


def morph_smoothness(engine: Engine, strips: int = 120, steps: int = 10, seed: int = 0) -> dict:
    """Median over Lego->emoji strips of max / mean neighbouring-frame pixel change."""
    rng = np.random.default_rng(seed)
    lego, emoji = engine.indices("lego"), engine.indices("emoji")
    pairs = [(int(rng.choice(lego)), int(rng.choice(emoji))) for _ in range(strips)]
    results = {}
    for method in ("lerp", "slerp"):
        ratios = [frame_smoothness(engine.morph(engine.maps.means[a], engine.maps.means[b], steps, method))
                  for a, b in pairs]
        results[method] = {"median": round(float(np.median(ratios)), 3),
                           "p95": round(float(np.percentile(ratios, 95)), 3)}
    return {"strips": strips, "steps": steps, **results}
