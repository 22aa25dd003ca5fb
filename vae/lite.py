"""The model served without TensorFlow: its networks as LiteRT (TensorFlow Lite) files.

TensorFlow takes about 620 MB of a server's memory the moment it is imported, most of the
floor a host such as Streamlit Community Cloud gives an app (690 MB). The export therefore also
writes each network the dashboard calls as a LiteRT flatbuffer, run by `ai-edge-litert`, which
takes about 30 MB: the encoder, the decoder, the refiner, and the studio's fit, the decoder's
objective and its gradient with respect to the code (vae.refine), so that Adam's steps run here
in numpy. The encoder and the refiner store int8 weights (dynamic-range quantisation: half the
bytes of float16, and the refiner runs three times as fast); their answers stay within a few
levels of the float ones (BENCHMARKS.md). The decoder and the fit keep float16 weights, as in
model.keras: LiteRT has no fast int8 kernel for the decoder's transposed convolutions, and a
fit through int8 weights lands further from the print. The fit is traced with LeakyReLU written as
max(x, a x): TensorFlow's own LeakyReLU gradient has no LiteRT kernel, and the two are the same
function. `python -m vae.export` writes the files (TensorFlow needed); `LiteModel.load` reads
them (TensorFlow not needed).
"""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import numpy as np

from common.files import atomic_path
from vae.config import read_config

FILES = {"encoder": "encoder.tflite", "decoder": "decoder.tflite", "fit": "fit.tflite"}
OUTPUTS = {"decoder": ("pictures",), "fit": ("gradient", "objective"), "refiner": ("pictures",)}
REFINER_FILE = "refiner.tflite"
WEIGHTS = {"encoder": "int8", "decoder": "float16", "fit": "float16", "refiner": "int8"}  # as the docstring says
THREADS = 2


def lite_runtime_available() -> bool:
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        return False
    return True


def has_lite_files(folder: Path) -> bool:
    return all((Path(folder) / name).is_file() for name in FILES.values())


# Writing the files (TensorFlow).


@contextlib.contextmanager
def _leaky_relu_as_maximum():
    """Keras's LeakyReLU traced as max(x, a x), whose gradient LiteRT can run."""
    import keras.src.backend.tensorflow.nn as backend_nn
    import tensorflow as tf

    original = backend_nn.leaky_relu
    backend_nn.leaky_relu = lambda x, negative_slope=0.2: tf.maximum(x, negative_slope * tf.convert_to_tensor(x))
    try:
        yield
    finally:
        backend_nn.leaky_relu = original


def _convert(function, path: Path, weights: str) -> None:
    """`function` (a tf.function with an input signature, returning a dict) as a LiteRT file
    whose weights are stored as `weights`: "float16", or "int8" (dynamic-range quantised)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if weights == "float16":
        converter.target_spec.supported_types = [tf.float16]
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    flatbuffer = converter.convert()
    with atomic_path(path) as temporary:
        Path(temporary).write_bytes(flatbuffer)


def export_lite(model, refiner, folder: Path) -> list[str]:
    """Write the model's networks (and the refiner's, where there is one) as LiteRT files into
    `folder`; returns the names written."""
    import tensorflow as tf

    folder = Path(folder)
    size, dims = model.cfg.image_size, model.cfg.latent_dim
    conditioned = bool(getattr(model, "domain_conditioned", False))
    # One row per call: LiteRT hands a graph to its fast (XNNPACK) kernels only when every shape
    # is fixed. With a free batch dimension one face took 44 ms to decode; with one row, 8 ms.
    images = tf.TensorSpec((1, size, size, 3), tf.float32, name="images")
    codes = tf.TensorSpec((1, dims), tf.float32, name="z")
    domains = tf.TensorSpec((1, 1), tf.float32, name="domains")

    def draw(z, domain):
        return model.decoder([z, domain], training=False) if conditioned else model.decoder(z, training=False)

    @tf.function(input_signature=[images])
    def encoder(x):
        outputs = model.encoder(x, training=False)
        named = {"mean": outputs[0], "log_var": outputs[1]}
        if len(outputs) > 2:
            named["domain_logit"] = outputs[2]
        return named

    @tf.function(input_signature=[codes, domains])
    def decoder(z, domain):
        return {"pictures": draw(z, domain) + 0.0 * tf.reduce_sum(domain)}  # the domain stays an input

    @tf.function(input_signature=[codes, images, domains])
    def fit(z, x, domain):
        pixels = float(size * size * 3)
        with tf.GradientTape() as tape:
            tape.watch(z)
            mse = tf.reduce_mean(tf.square(draw(z, domain) - x), axis=(1, 2, 3))
            objective = tf.reduce_sum(0.5 * pixels * tf.math.log(mse + 1e-8) + 0.5 * tf.reduce_sum(z * z, axis=1))
        return {"objective": objective, "gradient": tape.gradient(objective, z)}

    _convert(encoder, folder / FILES["encoder"], WEIGHTS["encoder"])
    _convert(decoder, folder / FILES["decoder"], WEIGHTS["decoder"])
    with _leaky_relu_as_maximum():
        _convert(fit, folder / FILES["fit"], WEIGHTS["fit"])
    return list(FILES.values()) + export_lite_refiner(refiner, folder, size)


def export_lite_refiner(refiner, folder: Path, size: int) -> list[str]:
    """Write the refiner (vae.refiner.Refiner) as a LiteRT file for pictures of `size` pixels
    into `folder`; with none, remove a refiner file left there, so that the folder's pictures
    stay the model's own."""
    import tensorflow as tf

    path = Path(folder) / REFINER_FILE
    if refiner is None:
        path.unlink(missing_ok=True)
        return []

    @tf.function(input_signature=[tf.TensorSpec((1, size, size, 3), tf.float32, name="images"),
                                  tf.TensorSpec((1, 1), tf.float32, name="domains")])  # one row: see export_lite
    def refine(x, domain):
        return {"pictures": refiner.network([x, domain], training=False)}

    _convert(refine, path, WEIGHTS["refiner"])
    return [REFINER_FILE]


# Running them (no TensorFlow).


class _Network:
    """One LiteRT file, called with named float32 arrays (the names of its input signature) and
    answering a dict (its outputs come in the order of the dict's sorted keys, as TensorFlow
    flattens a dict, named Identity, Identity_1, ...); safe across threads. A file written for
    one row per call (see `export_lite`) answers a batch row by row."""

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

    fits_itself = True  # vae.refine.fitted_codes hands the fit to `fitted_codes` below

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

    def fitted_codes(self, images: np.ndarray, domain=0.0, steps: int = 30, lock=None,
                     learning_rate: float = 0.05) -> np.ndarray:
        """vae.refine's fit: the encoder's mean, then `steps` Adam steps on the decoder's objective."""
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
                first = 0.9 * first + 0.1 * gradient
                second = 0.999 * second + 0.001 * gradient * gradient
                z = z - learning_rate * (first / (1 - 0.9 ** step)) / (np.sqrt(second / (1 - 0.999 ** step)) + 1e-7)
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
