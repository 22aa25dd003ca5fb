"""A small CNN judge: does a picture show an expression, and is it a Lego face or an emoji?

It learns from the real, un-augmented originals of both domains only (never from printed
heads or anything a model drew), with flips and colour jitter, so it owes nothing to the VAE
it judges. Its own accuracy, cross-validated over groups (one emoji in every art style, or one
head's two sides, stay in one fold), is reported beside every figure it gives.
"""
from __future__ import annotations

import numpy as np
from PIL import Image
from sklearn.model_selection import GroupKFold

from data.labels import EXPRESSIONS

JUDGE_SIDE = 48
EPOCHS = 60
BATCH = 32
THRESHOLD = 0.5
MIN_DOMAIN_POSITIVES = 3  # a tag is scored on one domain's faces when it has this many there


def face_groups(domains: np.ndarray, names: np.ndarray) -> np.ndarray:
    """A group per face that cross-validation keeps in one fold: an emoji's name (all its art
    styles), a head's name without its side."""
    return np.array([f"{domain}:{name.replace(' (front)', '').replace(' (back)', '')}"
                     for domain, name in zip(domains, names)])


def judge_inputs(images: np.ndarray) -> np.ndarray:
    """(N, 48, 48, 3) float32 in [0, 1] from uint8 images of any size."""
    if images.shape[1] == JUDGE_SIDE:
        return images.astype(np.float32) / 255.0
    small = [np.asarray(Image.fromarray(im).resize((JUDGE_SIDE, JUDGE_SIDE), Image.BILINEAR)) for im in images]
    return np.stack(small).astype(np.float32) / 255.0


def _network(tags: int):
    import keras
    from keras import layers

    inputs = keras.Input((JUDGE_SIDE, JUDGE_SIDE, 3), name="images")
    x = inputs
    for index, filters in enumerate((24, 48, 96, 128)):
        x = layers.Conv2D(filters, 3, padding="same", name=f"judge_conv{index}")(x)
        x = layers.BatchNormalization(name=f"judge_bn{index}")(x)
        x = layers.ReLU(name=f"judge_act{index}")(x)
        x = layers.MaxPooling2D(2, name=f"judge_pool{index}")(x) if index < 3 else x
    x = layers.GlobalAveragePooling2D(name="judge_gap")(x)
    x = layers.Dropout(0.3, name="judge_drop")(x)
    return keras.Model(inputs, layers.Dense(1 + tags, name="judge_logits")(x), name="cnn_judge")


def _augment(images):
    """Flips and colour jitter, batch-wise in TensorFlow."""
    import tensorflow as tf

    images = tf.image.random_flip_left_right(images)
    images = tf.image.random_brightness(images, 0.08)
    images = tf.image.random_saturation(images, 0.8, 1.2)
    images = tf.image.random_hue(images, 0.03)
    return tf.clip_by_value(images, 0.0, 1.0)


def _fit(inputs: np.ndarray, is_lego: np.ndarray, tags: np.ndarray, seed: int, epochs: int):
    """A trained network: logit 0 is "Lego", the rest one per tag (learnt on tagged images only)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    network = _network(tags.shape[1])
    tagged = tags.any(axis=1).astype(np.float32)
    positives = tags[tagged > 0].mean(axis=0) if tagged.any() else np.full(tags.shape[1], 0.5)
    positive_weight = ((1 - positives) / np.maximum(positives, 1e-3)).astype(np.float32)  # (T,) balanced
    optimizer = keras.optimizers.Adam(2e-3)

    @tf.function
    def step(x, lego, y, has_tags):
        with tf.GradientTape() as tape:
            logits = network(_augment(x), training=True)
            domain_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(lego, logits[:, :1]))
            per_tag = tf.nn.weighted_cross_entropy_with_logits(y, logits[:, 1:], positive_weight)  # (B, T)
            tag_loss = tf.reduce_sum(tf.reduce_mean(per_tag, axis=1) * has_tags) / tf.maximum(
                tf.reduce_sum(has_tags), 1.0)
            loss = domain_loss + 4.0 * tag_loss
        optimizer.apply(tape.gradient(loss, network.trainable_weights), network.trainable_weights)

    data = tf.data.Dataset.from_tensor_slices((inputs, is_lego[:, None].astype(np.float32), tags.astype(np.float32),
                                               tagged)).shuffle(len(inputs), seed=seed).batch(BATCH)
    for _ in range(epochs):
        for batch in data:
            step(*batch)
    return network


def _predict(network, inputs: np.ndarray) -> np.ndarray:
    """(N, 1 + T) probabilities."""
    import tensorflow as tf

    return np.concatenate([tf.sigmoid(network(inputs[i:i + 256], training=False)).numpy()
                           for i in range(0, len(inputs), 256)])


class CNNJudge:
    """A convolutional judge with the same questions as the pixel judge (vae.eval.alignment.Judge)."""

    description = ("a small CNN trained on the real un-augmented originals of both domains (flips, colour "
                   "jitter), never on printed heads or model output")

    def __init__(self, images: np.ndarray, domains: np.ndarray, tags: np.ndarray, expressions: list[str],
                 seed: int = 0, epochs: int = EPOCHS):
        self.expressions = {tag: EXPRESSIONS.index(tag) for tag in expressions}
        self.network = _fit(judge_inputs(images), domains == "lego", tags, seed, epochs)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        return _predict(self.network, judge_inputs(images))

    def is_lego(self, images: np.ndarray) -> np.ndarray:
        return self.probabilities(images)[:, 0] > THRESHOLD

    def shows(self, images: np.ndarray, tag: str) -> np.ndarray:
        return self.probabilities(images)[:, 1 + self.expressions[tag]] > THRESHOLD


def cross_validate(images: np.ndarray, domains: np.ndarray, tags: np.ndarray, groups: np.ndarray,
                   folds: int = 5, seed: int = 0, epochs: int = EPOCHS) -> dict:
    """The judge's accuracy on faces it never saw: domain accuracy over every image, per tag the
    balanced accuracy and recall over the tagged faces, and the same on each domain's faces alone."""
    inputs = judge_inputs(images)
    predicted = np.zeros((len(images), 1 + tags.shape[1]), np.float32)
    for fold, (train, test) in enumerate(GroupKFold(folds).split(inputs, groups=groups)):
        network = _fit(inputs[train], domains[train] == "lego", tags[train], seed + fold, epochs)
        predicted[test] = _predict(network, inputs[test])
    tagged = tags.any(axis=1)
    report = {"folds": folds, "images": len(images),
              "domain_accuracy": round(float(((predicted[:, 0] > THRESHOLD) == (domains == "lego")).mean()), 3),
              "tags": tag_accuracy(tags[tagged], predicted[tagged, 1:]), "per_domain": {}}
    for domain in ("lego", "emoji"):  # on one domain's faces alone: does it read a Lego face's expression?
        rows = tagged & (domains == domain)
        scores = tag_accuracy(tags[rows], predicted[rows, 1:], least=MIN_DOMAIN_POSITIVES)
        report["per_domain"][domain] = {"tags": scores, "mean_balanced_accuracy": round(float(np.mean(
            [v["balanced_accuracy"] for v in scores.values()])), 3) if scores else None}
    return report


def per_domain_line(cross_validation: dict) -> str:
    """One sentence of cross_validate's accuracy on each domain's faces alone, naming the weakest tags."""
    parts = []
    for domain, found in cross_validation["per_domain"].items():
        if not found["tags"]:
            parts.append(f"{domain} faces alone: no tag on {MIN_DOMAIN_POSITIVES} faces")
            continue
        weakest = sorted(found["tags"].items(), key=lambda item: item[1]["balanced_accuracy"])[:3]
        parts.append(f"{domain} faces alone, {found['mean_balanced_accuracy']:.3f} mean balanced accuracy over "
                     f"{len(found['tags'])} tags (weakest: " + ", ".join(
                         f"{t} {v['balanced_accuracy']:.2f}" for t, v in weakest) + ")")
    return "Split by domain: " + "; ".join(parts) + "."


def tag_accuracy(tags: np.ndarray, probabilities: np.ndarray, least: int = 1) -> dict:
    """Per tag with at least `least` positives among these tagged faces: the balanced accuracy
    (mean of the hit rates on faces with and without it) and the recall."""
    report = {}
    for column, tag in enumerate(EXPRESSIONS):
        truth, guess = tags[:, column].astype(bool), probabilities[:, column] > THRESHOLD
        if truth.sum() < least:
            continue
        hit = float((guess[truth]).mean())
        reject = float((~guess[~truth]).mean()) if (~truth).any() else 1.0
        report[tag] = {"positives": int(truth.sum()), "balanced_accuracy": round((hit + reject) / 2, 3),
                       "recall": round(hit, 3)}
    return report
