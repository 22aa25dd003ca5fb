"""Fit a code to a picture: the encoder's guess, then gradient steps on the model's own objective.

An encoder answers in one pass for every picture at once, so its code is a little off for each
one (the "amortisation gap", Cremer et al. 2018); what it loses is the small marks, a wink or a
kiss on a printed face. Semi-amortised inference (Kim et al. 2018) starts from the encoder's
posterior mean and takes a few Adam steps on the code alone, the model fixed, towards the
maximum of log p(picture | z) + log p(z): the decoder's Gaussian likelihood with its variance
fitted (sigma-VAE) and the standard normal prior. The decoder can only draw what it learnt, so
the fitted code still draws a face in the model's own style, closer to the picture.
"""
from __future__ import annotations

import weakref
from contextlib import AbstractContextManager, nullcontext

import numpy as np

STEPS = 30  # the studio's default (its time for one face: BENCHMARKS.md)
LEARNING_RATE = 0.05  # Adam's step size on the code
BATCH = 32
SLICE = 5  # steps per call of the traced graph: what another session's model call may wait behind
_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fit_objective(draw, z, images):
    """The fit's objective per picture (B,), up to a constant: -log p(images | z) with the
    decoder's Gaussian likelihood, its variance fitted (sigma-VAE: sigma^2 is the picture's MSE),
    plus -log p(z) under the standard normal prior. `draw(z)` is the decoder's picture of the
    codes (B, L); TensorFlow tensors in and out. The Keras fit below and the LiteRT file that
    vae.lite_export writes both trace this one function."""
    import tensorflow as tf

    pixels = tf.cast(tf.reduce_prod(tf.shape(images)[1:]), tf.float32)
    mse = tf.reduce_mean(tf.square(draw(z) - images), axis=(1, 2, 3))
    return 0.5 * pixels * tf.math.log(mse + 1e-8) + 0.5 * tf.reduce_sum(z * z, axis=1)


def adam_step(z, gradient, first, second, step):
    """One Adam step on the codes: (codes, first moment, second moment) after step number `step`
    (from 1), at LEARNING_RATE. Plain arithmetic, so that numpy arrays (the LiteRT fit, vae.lite)
    and TensorFlow tensors (the Keras fit below) take the same step."""
    first = 0.9 * first + 0.1 * gradient
    second = 0.999 * second + 0.001 * gradient * gradient
    z = z - LEARNING_RATE * (first / (1 - 0.9 ** step)) / ((second / (1 - 0.999 ** step)) ** 0.5 + 1e-7)
    return z, first, second


def fitted_codes(model, images: np.ndarray, domain=0.0, steps: int = STEPS,
                 lock: AbstractContextManager | None = None) -> np.ndarray:
    """Codes (B, L) of uint8 or float images (B, S, S, 3) in a domain (0 Lego, 1 emoji, a mix,
    or one value per image), each the encoder's mean moved `steps` Adam steps towards the
    model's most likely code for that picture; steps=0 gives the encoder's mean. With a `lock`,
    every model call holds it, a few steps at a time, so other callers wait a slice, not the fit."""
    if getattr(model, "fits_itself", False):  # vae.lite's LiteModel: the same steps, without TensorFlow
        return model.fitted_codes(images, domain, steps, lock)
    import tensorflow as tf  # here, not above: the dashboard reads STEPS before TensorFlow has loaded

    from vae.model import as_float_images

    lock = lock or nullcontext()
    images = as_float_images(images)
    domains = np.broadcast_to(np.asarray(domain, np.float32).reshape(-1, 1), (len(images), 1))
    if steps > 0 and model not in _GRAPHS:
        _GRAPHS[model] = _fit_graph(model)
    codes = [np.zeros((0, model.cfg.latent_dim), np.float32)]
    for start in range(0, len(images), BATCH):
        chunk = tf.constant(images[start:start + BATCH])
        chunk_domains = tf.constant(np.ascontiguousarray(domains[start:start + BATCH]))
        with lock:
            z = tf.constant(np.asarray(model.encode(chunk)[0], np.float32))
        first = second = tf.zeros_like(z)  # Adam's moments, carried from slice to slice
        for done in range(0, max(steps, 0), SLICE):
            with lock:
                z, first, second = _GRAPHS[model](z, chunk, chunk_domains, first, second,
                                                  tf.constant(done, tf.int32), tf.constant(min(SLICE, steps - done)))
        codes.append(z.numpy())
    return np.concatenate(codes)


def _fit_graph(model):
    """One traced graph for the model: (codes, images, domains, Adam's two moments, steps done,
    steps to take) -> (codes, moments) after those steps."""
    import tensorflow as tf

    conditioned = bool(getattr(model, "domain_conditioned", False))

    def draw(z, domains):
        return model.decoder([z, domains], training=False) if conditioned else model.decoder(z, training=False)

    code = tf.TensorSpec((None, model.cfg.latent_dim), tf.float32)
    count = tf.TensorSpec((), tf.int32)

    @tf.function(input_signature=[code, tf.TensorSpec((None, model.cfg.image_size, model.cfg.image_size, 3),
                                                      tf.float32),
                                  tf.TensorSpec((None, 1), tf.float32), code, code, count, count])
    def fit(z, images, domains, first, second, done, steps):
        for step in tf.range(done + 1, done + steps + 1):
            with tf.GradientTape() as tape:
                tape.watch(z)
                objective = tf.reduce_sum(fit_objective(lambda codes: draw(codes, domains), z, images))
            z, first, second = adam_step(z, tape.gradient(objective, z), first, second, tf.cast(step, tf.float32))
        return z, first, second

    return fit
