"""The VAE: named functional encoder and decoder, a seeded Sampling layer and a VAE model.

The dashboard only uses the interface `encode`, `decode`, `reconstruct` and `sample`, and the
capabilities `domain_conditioned` and `expression_dims`, so it never asks which family or
preset is loaded. Building and loading any family is `vae.families`.
"""
from __future__ import annotations

import functools
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from vae.config import VAEConfig  # noqa: E402
from vae.pixels import as_float_images, to_uint8  # noqa: E402, F401 - part of the model's interface

PACKAGE = "legomoji"


@keras.saving.register_keras_serializable(package=PACKAGE)
class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * eps, with eps from a seeded generator."""

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mean, log_var = inputs
        epsilon = keras.random.normal(keras.ops.shape(mean), seed=self.seed_generator)
        return mean + keras.ops.exp(0.5 * log_var) * epsilon

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def _block(x, cfg: VAEConfig, name: str):
    """Optional batch norm, LeakyReLU, optional dropout: the activation tail of every block."""
    if cfg.batch_norm:
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    x = layers.LeakyReLU(negative_slope=0.2, name=f"{name}_act")(x)
    if cfg.dropout:
        x = layers.Dropout(cfg.dropout, name=f"{name}_drop")(x)
    return x


def build_encoder(cfg: VAEConfig) -> keras.Model:
    """images (B, S, S, 3) in [0, 1] -> mean (B, L), log_var (B, L)."""
    images = keras.Input((cfg.image_size, cfg.image_size, 3), name="images")
    x = images
    for index, filters in enumerate(cfg.encoder_filters):
        x = layers.Conv2D(filters, 3, strides=2, padding="same", name=f"enc_conv{index}")(x)  # halves H and W
        x = _block(x, cfg, f"enc{index}")
    x = layers.Flatten(name="flatten")(x)  # (B, s * s * C)
    mean = layers.Dense(cfg.latent_dim, name="z_mean")(x)
    log_var = layers.Dense(cfg.latent_dim, name="z_log_var")(x)
    return keras.Model(images, [mean, log_var], name="encoder")


def build_decoder(cfg: VAEConfig) -> keras.Model:
    """z (B, L) -> images (B, S, S, 3) in [0, 1]."""
    z = keras.Input((cfg.latent_dim,), name="z")
    side, channels = cfg.decoder_start_size, cfg.decoder_filters[0]
    x = layers.Dense(side * side * channels, name="dec_dense")(z)
    x = layers.Reshape((side, side, channels), name="dec_reshape")(x)  # (B, s, s, C)
    x = _block(x, cfg, "dec_in") if cfg.decoder_upsampling == "resize" else x
    for index, filters in enumerate(cfg.decoder_filters):
        if cfg.decoder_upsampling == "resize":
            x = layers.UpSampling2D(2, interpolation="nearest", name=f"dec_up{index}")(x)
            x = layers.Conv2D(filters, 3, padding="same", name=f"dec_conv{index}")(x)
        else:
            x = layers.Conv2DTranspose(filters, cfg.transpose_kernel, strides=2, padding="same",
                                       name=f"dec_conv{index}")(x)
        x = _block(x, cfg, f"dec{index}")  # doubles H and W
    if cfg.output_layer == "transpose":
        images = layers.Conv2DTranspose(3, cfg.transpose_kernel, strides=2, padding="same", activation="sigmoid",
                                        name="dec_out")(x)
    else:
        images = layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="dec_out")(x)
    return keras.Model(z, images, name="decoder")


def kl_per_dimension(mean, log_var):
    """KL(q(z|x) || N(0, I)) for each latent dimension: (B, L)."""
    return -0.5 * (1.0 + log_var - keras.ops.square(mean) - keras.ops.exp(log_var))


@keras.saving.register_keras_serializable(package=PACKAGE)
class VAE(keras.Model):
    """Encoder + sampling + decoder, trained on reconstruction terms plus beta * KL."""

    loss_names: tuple[str, ...] = ("loss", "reconstruction", "kl", "mse", "ssim")
    domain_conditioned = False  # capability: the decoder takes the domain as a condition

    @property
    def expression_dims(self) -> int:
        """Capability: how many leading code dims hold the expression (0: none set apart)."""
        return 0

    def __init__(self, config: dict | VAEConfig, **kwargs):
        super().__init__(**kwargs)
        self.cfg = config if isinstance(config, VAEConfig) else VAEConfig.from_dict(config)
        self.build_parts()
        self.sampling = Sampling(self.cfg.seed, name="sampling")
        # Set by the warm-up callback in vae.train; 1.0 means the full beta.
        self.kl_scale = keras.Variable(1.0, trainable=False, name="kl_scale")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.loss_names}

    def build_parts(self) -> None:
        """Create the encoder and decoder (and, in subclasses, any other network)."""
        self.encoder = build_encoder(self.cfg)
        self.decoder = build_decoder(self.cfg)

    def build(self, input_shape=None):
        self.built = True  # encoder and decoder are functional models, built on construction

    def get_config(self):
        return {**super().get_config(), "config": {k: list(v) if isinstance(v, tuple) else v
                                                   for k, v in self.cfg.__dict__.items()}}

    @classmethod
    def from_config(cls, config):
        return cls(config.pop("config"), **config)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, images, training=False):
        mean, log_var = self.encoder(images, training=training)
        z = self.sampling([mean, log_var]) if training else mean
        return self.decoder(z, training=training)

    def losses_for(self, data, training: bool) -> dict:
        """Every loss term in one place, by name; "loss" is what the optimiser minimises."""
        images = data["images"]
        mean, log_var = self.encoder(images, training=training)
        z = self.sampling([mean, log_var])
        decoded = self.decoder(z, training=training)
        cfg = self.cfg
        mse = tf.reduce_mean(tf.square(images - decoded))
        ssim = tf.reduce_mean(tf.image.ssim(images, decoded, max_val=1.0, filter_size=7))
        reconstruction = cfg.reconstruction_weight * mse
        if cfg.ssim_weight:
            reconstruction += cfg.ssim_weight * (1.0 - ssim)
        if cfg.edge_weight:
            true_dy, true_dx = tf.image.image_gradients(images)
            pred_dy, pred_dx = tf.image.image_gradients(decoded)
            edges = tf.reduce_mean(tf.abs(true_dy - pred_dy)) + tf.reduce_mean(tf.abs(true_dx - pred_dx))
            reconstruction += cfg.edge_weight * edges
        kl = tf.reduce_mean(tf.reduce_sum(kl_per_dimension(mean, log_var), axis=1))
        total = reconstruction + cfg.beta * self.kl_scale * kl
        return {"loss": total, "reconstruction": reconstruction, "kl": kl, "mse": mse, "ssim": ssim}

    def _update(self, values: dict) -> dict:
        for name, tracker in self.trackers.items():
            if name in values:
                tracker.update_state(values[name])
        return {name: tracker.result() for name, tracker in self.trackers.items() if name in values}

    def train_step(self, data):
        data = as_batch(data)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            values = self.losses_for(data, training=True)
            objective = values["loss"] / replicas  # gradients are summed over replicas
        gradients = tape.gradient(objective, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._update(values)

    def test_step(self, data):
        return self._update(self.losses_for(as_batch(data), training=False))

    # The interface the dashboard uses: numpy in, numpy out.

    @functools.cached_property
    def encoder_graph(self):
        size = self.cfg.image_size
        return inference_graph(self.encoder, (size, size, 3))

    @functools.cached_property
    def decoder_graph(self):
        return inference_graph(self.decoder, (self.cfg.latent_dim,))

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and log-variance (B, L) of images (B, S, S, 3), uint8 or float in [0, 1]."""
        mean, log_var = self.encoder_graph(as_float_images(images))[:2]
        return np.asarray(mean), np.asarray(log_var)

    def decode(self, z: np.ndarray, domain=None) -> np.ndarray:
        """Images (B, S, S, 3) float32 in [0, 1] for latents (B, L); this family has no domain
        condition, so `domain` is accepted and ignored."""
        return np.asarray(self.decoder_graph(latent_batch(z, self.cfg.latent_dim)))

    def domain_of(self, images: np.ndarray) -> np.ndarray:
        """Emoji-ness in [0, 1] of each image; NaN for a family that cannot tell."""
        return np.full(len(images), np.nan, np.float32)

    def reconstruct(self, images: np.ndarray, domain=None) -> np.ndarray:
        """Decode of the posterior mean (in the image's own domain): the deterministic reconstruction."""
        return self.decode(self.encode(images)[0], self.domain_of(images) if domain is None else domain)

    def sample(self, count: int, temperature: float = 1.0, seed: int = 0, domain=0.0) -> np.ndarray:
        """`count` images decoded from N(0, temperature^2 I)."""
        z = np.random.default_rng(seed).standard_normal((count, self.cfg.latent_dim)) * temperature
        return self.decode(z, domain)


def inference_graph(network: keras.Model, *shapes: tuple[int, ...]):
    """`network` in inference mode as one TensorFlow graph, traced once for every batch size,
    taking one float32 input per shape (without the batch axis). Called eagerly, each layer is
    a Python call that keeps its output until the next; as a graph a 128 px face decodes in a
    quarter of the time, and a batch of ten holds a quarter of the memory at its peak."""
    specs = [tf.TensorSpec((None, *shape), tf.float32) for shape in shapes]
    if len(specs) == 1:
        return tf.function(lambda inputs: network(inputs, training=False), input_signature=specs)
    return tf.function(lambda *inputs: network(list(inputs), training=False), input_signature=specs)


def as_batch(data) -> dict:
    """A training batch as a dict with at least "images" (tf.data gives dicts, arrays or tuples)."""
    if isinstance(data, dict):
        return data
    return {"images": data[0] if isinstance(data, tuple) else data}


def latent_batch(z, latent_dim: int) -> np.ndarray:
    """(B, L) float32 from one latent (L,) or a batch (B, L); ValueError for another width."""
    z = np.asarray(z, np.float32)
    if z.ndim == 1:
        z = z[None]
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(f"latents must have shape (L,) or (B, L) with L = {latent_dim}, not {z.shape}")
    return z


