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

STEPS = 30  # the studio's default: under a second for one face on 2 CPU cores (python -m bench)
LEARNING_RATE = 0.05
BATCH = 32
SLICE = 5  # steps per call of the traced graph: what another session's model call may wait behind
_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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
        size = tf.cast(tf.reduce_prod(tf.shape(images)[1:]), tf.float32)
        for step in tf.range(done + 1, done + steps + 1):
            with tf.GradientTape() as tape:
                tape.watch(z)
                mse = tf.reduce_mean(tf.square(draw(z, domains) - images), axis=(1, 2, 3))
                # -log p(x | z) with sigma^2 = the picture's MSE, and -log p(z), per picture
                objective = tf.reduce_sum(0.5 * size * tf.math.log(mse + 1e-8) + 0.5 * tf.reduce_sum(z * z, axis=1))
            gradient = tape.gradient(objective, z)
            first = 0.9 * first + 0.1 * gradient
            second = 0.999 * second + 0.001 * gradient * gradient
            t = tf.cast(step, tf.float32)
            z = z - LEARNING_RATE * (first / (1.0 - 0.9 ** t)) / (tf.sqrt(second / (1.0 - 0.999 ** t)) + 1e-7)
        return z, first, second

    return fit
