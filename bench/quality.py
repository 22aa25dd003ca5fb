"""Quality judged without the VAE: independent pixel classifiers score the shared space's
operations (vae.eval.alignment), and a pixel-change ratio scores how evenly morphs move."""
from __future__ import annotations

import numpy as np

from explorer.engine import Engine
from vae.eval.alignment import alignment_report, frame_smoothness
from vae.eval.judge import face_groups


def shipped_alignment(engine: Engine, pairs: int = 160) -> dict:
    """How shared the shipped model's latent space is, and how its studio and mirror do, judged
    by pixel classifiers and a small CNN that owe nothing to the model (vae.eval.alignment), with
    the CNN's own cross-validated accuracy."""
    return alignment_report(engine.model, engine.space, engine.dataset.images, engine.default_strength, pairs,
                            groups=face_groups(engine.dataset.domain, engine.dataset.name))


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
