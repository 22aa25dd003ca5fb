"""Server-side cost of each dashboard interaction, on the shipped assets."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from bench.timing import time_calls
from explorer.engine import Engine
from explorer.upload import prepare_upload


def measure_interactions(engine: Engine, calls: int = 50) -> dict:
    rng = np.random.default_rng(0)
    means = engine.maps.means
    lego, emoji = engine.indices("lego"), engine.indices("emoji")
    z = means[lego[0]]
    tag = engine.available_expressions()[0]
    upload = io.BytesIO()
    Image.fromarray(engine.dataset.images[emoji[3]]).resize((256, 256)).save(upload, format="PNG")
    raw = upload.getvalue()

    def empty_spot(projection: str):
        xy = engine.maps.xy(projection)
        point = xy.min(axis=0) + rng.random(2) * (xy.max(axis=0) - xy.min(axis=0))
        return engine.decode(engine.maps.plane_to_latent(projection, point[None]))

    def new_print(fitted: bool):
        """A pair not printed before (nothing kept to answer from), printed and redrawn; the emoji
        drawn again until it has a face to lift features from (the time of each try counts)."""
        face, target = int(rng.choice(lego)), int(rng.choice(emoji))
        while not engine.can_print(engine.dataset.images[target]):
            target = int(rng.choice(emoji))
        result = engine.printed_transfer(engine.dataset.images[face], means[face], engine.dataset.images[target],
                                         1.0, fitted=fitted)
        return engine.decode(means[face] if result is None else result)

    return {
        "print an emoji on a new face, redraw from the encoder's code": time_calls(lambda: new_print(False), calls),
        f"the same, the code fitted to the print ({engine.fit_steps} steps)": time_calls(lambda: new_print(True),
                                                                                         max(calls // 3, 1)),
        "decode one latent": time_calls(lambda: engine.decode(z), calls),
        "10-step morph strip": time_calls(lambda: engine.morph(z, means[emoji[5]], 10, "slerp"), calls),
        "expression transfer": time_calls(lambda: engine.decode(engine.transfer(z, 1.0, tag=tag)), calls),
        "translate a face to emoji": time_calls(lambda: engine.translate(z, "emoji"), calls),
        "12 samples from the fitted mixture": time_calls(lambda: engine.sample(12, 1.0, 0, "lego"), calls),
        "k nearest neighbours (k=6)": time_calls(lambda: engine.neighbours(z, 6), calls),
        "empty-spot click, UMAP": time_calls(lambda: empty_spot("UMAP"), calls),
        "empty-spot click, PCA": time_calls(lambda: empty_spot("PCA"), calls),
        "encode an uploaded image": time_calls(
            lambda: engine.encode_means(prepare_upload(raw, engine.dataset.size)[None]), calls),
    }


def measure_as_served(calls: int = 50) -> tuple[dict, dict]:
    """The interactions and the machine's limit in a fresh interpreter with the server's memory
    settings (explorer/memory.py), which change how fast TensorFlow runs: (interaction, limit)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run([sys.executable, "-m", "bench.interaction", str(calls)], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], check=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return figures["interaction"], figures["machine_limit"]


if __name__ == "__main__":
    import json
    import sys

    from explorer.memory import bound_server_memory

    bound_server_memory()  # as streamlit_app.py does, before TensorFlow loads
    from bench.machine import measure_limit
    from vae.families import load_model_folder

    served = Engine()
    interaction = measure_interactions(served, int(sys.argv[1]) if len(sys.argv) > 1 else 50)
    # the limit is TensorFlow's: its matrix product's speed against its decoder's
    print(json.dumps({"interaction": interaction, "machine_limit": measure_limit(load_model_folder(served.folder))}))
