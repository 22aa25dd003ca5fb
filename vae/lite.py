"""The model served without TensorFlow: its networks run from LiteRT (TensorFlow Lite) files.

TensorFlow takes about 620 MB of a server's memory the moment it is imported, most of the
floor a host such as Streamlit Community Cloud gives an app (690 MB). The export therefore also
writes each network the dashboard calls as a LiteRT flatbuffer (vae.lite_export), which this
module runs with `ai-edge-litert` (about 30 MB) and never imports TensorFlow: the encoder, the
decoder, the refiner, and the studio's fit, the decoder's objective and its gradient with
respect to the code (vae.fit), so that Adam's steps run here in numpy. `LiteModel(folder)` and
`LiteRefiner.load(folder)` read a model folder's files.
"""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import numpy as np

from vae.config import read_config
from vae.fit import STEPS, adam_step

FILES = {"encoder": "encoder.tflite", "decoder": "decoder.tflite", "fit": "fit.tflite"}
OUTPUTS = {"decoder": ("pictures",), "fit": ("gradient", "objective"), "refiner": ("pictures",)}
REFINER_FILE = "refiner.tflite"
THREADS = 2


def lite_runtime_available() -> bool:
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        return False
    return True


def has_lite_files(folder: Path) -> bool:
    return all((Path(folder) / name).is_file() for name in FILES.values())


class _Network:
    """One LiteRT file, called with named float32 arrays (the names of its input signature) and
    answering a dict (its outputs come in the order of the dict's sorted keys, as TensorFlow
    flattens a dict, named Identity, Identity_1, ...); safe across threads. A file written for
    one row per call (see vae.lite_export) answers a batch row by row."""

    def __init__(self, path: Path, outputs: tuple[str, ...]):
        from ai_edge_litert.interpreter import Interpreter

        try:
            self._interpreter = Interpreter(model_path=str(path), num_threads=THREADS)
        except ValueError as error:  # LiteRT's own message does not name the file
            raise ValueError(f"{path.name}: {error}") from error
        details = self._interpreter.get_input_details()
        self._inputs = {detail["name"].split(":")[0].removeprefix("serving_default_"): detail["index"]
                        for detail in details}
        self._row_by_row = all(detail["shape_signature"][0] == 1 for detail in details)
        output_details = self._interpreter.get_output_details()
        by_name = {detail["name"]: detail["index"] for detail in output_details}
        self._row_shapes = {detail["index"]: tuple(detail["shape"][1:]) for detail in output_details}
        names = ["Identity"] + [f"Identity_{k}" for k in range(1, len(by_name))]
        if sorted(by_name) != sorted(names) or len(names) != len(outputs):
            raise ValueError(f"{path.name} has outputs {sorted(by_name)}, not the {len(outputs)} written for it")
        self._outputs = {key: by_name[name] for key, name in zip(sorted(outputs), names)}
        self.inputs = set(self._inputs)
        self._shapes: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def __call__(self, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        arrays = {name: np.ascontiguousarray(value, np.float32) for name, value in inputs.items()
                  if name in self._inputs}
        rows = len(next(iter(arrays.values())))
        with self._lock:
            if not self._row_by_row or rows == 1:
                return self._invoke(arrays)
            if rows == 0:
                return {key: np.zeros((0, *self._row_shapes[index]), np.float32)
                        for key, index in self._outputs.items()}
            answers = [self._invoke({name: array[row:row + 1] for name, array in arrays.items()})
                       for row in range(rows)]
        return {key: np.concatenate([answer[key] for answer in answers]) for key in self._outputs}

    def _invoke(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if any(self._shapes.get(name) != array.shape for name, array in arrays.items()):
            for name, array in arrays.items():
                self._interpreter.resize_tensor_input(self._inputs[name], array.shape)
            self._interpreter.allocate_tensors()
            self._shapes = {name: array.shape for name, array in arrays.items()}
        for name, array in arrays.items():
            self._interpreter.set_tensor(self._inputs[name], array)
        self._interpreter.invoke()
        return {key: self._interpreter.get_tensor(index) for key, index in self._outputs.items()}


class LiteModel:
    """The VAE's inference calls (encode, decode, domain_of, fitted_codes), as vae.model's VAE
    answers them, from a model folder's LiteRT files."""

    fits_itself = True  # vae.fit.fitted_codes hands the fit to `fitted_codes` below

    def __init__(self, folder: Path):
        folder = Path(folder)
        self.cfg = read_config(folder / "config.json", "export the model again (`python -m vae.export`)")
        self.domain_conditioned = bool(self.cfg.domain_conditioned)
        encoder_outputs = ("mean", "log_var") + (("domain_logit",) if self.domain_conditioned else ())
        self._networks = {name: _Network(folder / file, OUTPUTS.get(name, encoder_outputs))
                          for name, file in FILES.items()}

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from vae.pixels import as_float_images

        out = self._networks["encoder"](images=as_float_images(images))
        return out["mean"], out["log_var"]

    def domain_of(self, images: np.ndarray) -> np.ndarray:
        from vae.pixels import as_float_images

        out = self._networks["encoder"](images=as_float_images(images))
        if "domain_logit" not in out:
            return np.full(len(images), np.nan, np.float32)
        return (1.0 / (1.0 + np.exp(-out["domain_logit"])))[:, 0]

    def decode(self, z: np.ndarray, domain=0.0) -> np.ndarray:
        z = np.atleast_2d(np.asarray(z, np.float32))
        domains = np.broadcast_to(np.asarray(domain, np.float32).reshape(-1, 1), (len(z), 1))
        return self._networks["decoder"](z=z, domains=domains)["pictures"]

    def fitted_codes(self, images: np.ndarray, domain=0.0, steps: int = STEPS, lock=None) -> np.ndarray:
        """vae.fit's fit: the encoder's mean, then `steps` Adam steps on the decoder's objective,
        whose gradient the fit file answers."""
        from vae.pixels import as_float_images

        images = as_float_images(images)
        domains = np.broadcast_to(np.asarray(domain, np.float32).reshape(-1, 1), (len(images), 1))
        lock = lock or contextlib.nullcontext()
        with lock:
            codes = self.encode(images)[0].astype(np.float32)
        for row in range(len(images)):
            z = codes[row:row + 1]
            first, second = np.zeros_like(z), np.zeros_like(z)
            for step in range(1, steps + 1):
                with lock:
                    gradient = self._networks["fit"](z=z, images=images[row:row + 1],
                                                     domains=domains[row:row + 1])["gradient"]
                z, first, second = adam_step(z, gradient, first, second, step)
            codes[row] = z[0]
        return codes


class LiteRefiner:
    """vae.refiner.Refiner's `refine`, from a model folder's refiner.tflite."""

    def __init__(self, path: Path):
        self._network = _Network(path, OUTPUTS["refiner"])

    @classmethod
    def load(cls, folder: Path) -> "LiteRefiner | None":
        path = Path(folder) / REFINER_FILE
        return cls(path) if path.is_file() else None

    def refine(self, pictures: np.ndarray, domains) -> np.ndarray:
        pictures = np.asarray(pictures, np.float32)
        domains = np.broadcast_to(np.asarray(domains, np.float32).reshape(-1, 1), (len(pictures), 1))
        return self._network(images=pictures, domains=domains)["pictures"]
