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

import numpy as np

STEPS = 30  # the studio's default: under a second for one face on 2 CPU cores (python -m bench)
LEARNING_RATE = 0.05
BATCH = 32
_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fitted_codes(model, images: np.ndarray, domain=0.0, steps: int = STEPS) -> np.ndarray:
    """Codes (B, L) of uint8 or float images (B, S, S, 3) in a domain (0 Lego, 1 emoji, a mix,
    or one value per image), each the encoder's mean moved `steps` Adam steps towards the
    model's most likely code for that picture; steps=0 gives the encoder's mean."""
    import tensorflow as tf  # here, not above: the dashboard reads STEPS before TensorFlow has loaded

    from vae.model import as_float_images

    images = as_float_images(images)
    domains = np.broadcast_to(np.asarray(domain, np.float32).reshape(-1, 1), (len(images), 1))
    if steps > 0 and model not in _GRAPHS:
        _GRAPHS[model] = _fit_graph(model)
    codes = [np.zeros((0, model.cfg.latent_dim), np.float32)]
    for start in range(0, len(images), BATCH):
        chunk = images[start:start + BATCH]
        means = np.asarray(model.encode(chunk)[0], np.float32)
        if steps > 0:
            means = _GRAPHS[model](tf.constant(means), tf.constant(chunk),
                                   tf.constant(np.ascontiguousarray(domains[start:start + BATCH])),
                                   tf.constant(steps, tf.int32)).numpy()
        codes.append(means)
    return np.concatenate(codes)


def _fit_graph(model):
    """One traced graph for the model: (codes, images, domains, steps) -> fitted codes."""
    import tensorflow as tf

    conditioned = bool(getattr(model, "domain_conditioned", False))

    def draw(z, domains):
        return model.decoder([z, domains], training=False) if conditioned else model.decoder(z, training=False)

    @tf.function(input_signature=[tf.TensorSpec((None, model.cfg.latent_dim), tf.float32),
                                  tf.TensorSpec((None, model.cfg.image_size, model.cfg.image_size, 3), tf.float32),
                                  tf.TensorSpec((None, 1), tf.float32), tf.TensorSpec((), tf.int32)])
    def fit(z, images, domains, steps):
        size = tf.cast(tf.reduce_prod(tf.shape(images)[1:]), tf.float32)
        first, second = tf.zeros_like(z), tf.zeros_like(z)
        for step in tf.range(1, steps + 1):
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
        return z

    return fit
