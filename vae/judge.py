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
VIEWS = ("picture", "marks")  # what the judge is shown: the picture, or its marks alone (marks_view)
# the CNN judge's variants: the picture; its marks alone; the picture with domain-free tag features
VARIANTS = ("picture", "marks", "invariant")


def face_groups(domains: np.ndarray, names: np.ndarray) -> np.ndarray:
    """A group per face that cross-validation keeps in one fold: an emoji's name (all its art
    styles), a head's name without its side."""
    return np.array([f"{domain}:{name.replace(' (front)', '').replace(' (back)', '')}"
                     for domain, name in zip(domains, names)])


def marks_view(image: np.ndarray) -> np.ndarray:
    """uint8 (S, S, 3): a framed face's (uint8 (S, S, 3)) marks alone, on white: its face fill
    (yellow to orange, data.printed.fill_likeness) and the backdrop turned white, then cropped to
    the face's box and stretched back to S x S. A Lego head and an emoji then differ in little
    but their marks: the same eyes, brows and mouth, drawn in black on white."""
    from data.printed import cut_out_framed, fill_likeness

    cut = np.asarray(cut_out_framed(image), np.float32) / 255.0
    rgb, face = cut[..., :3], cut[..., 3] > 0.5
    if not face.any():
        return np.full_like(image, 255)
    fill = fill_likeness(rgb)[..., None]
    view = np.where(face[..., None], rgb * (1.0 - fill) + fill, 1.0)
    rows, columns = np.flatnonzero(face.any(axis=1)), np.flatnonzero(face.any(axis=0))
    box = view[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    side = image.shape[0]
    return np.asarray(Image.fromarray((box * 255).round().astype(np.uint8)).resize((side, side), Image.BILINEAR))


def judge_inputs(images: np.ndarray, view: str = "picture") -> np.ndarray:
    """(N, 48, 48, 3) float32 in [0, 1] from uint8 images of any size, as they are ("picture")
    or their marks alone ("marks", see marks_view)."""
    if view not in VIEWS:
        raise ValueError(f"unknown judge view {view!r}: use one of {', '.join(VIEWS)}")
    if view == "marks":
        images = np.stack([marks_view(image) for image in images])
    if images.shape[1] == JUDGE_SIDE:
        return images.astype(np.float32) / 255.0
    small = [np.asarray(Image.fromarray(im).resize((JUDGE_SIDE, JUDGE_SIDE), Image.BILINEAR)) for im in images]
    return np.stack(small).astype(np.float32) / 255.0


def _network(tags: int, invariant: bool = False):
    """Logit 0 "Lego", then one per tag. `invariant`: the domain is read from the first block
    alone, and the model also gives its last features, which an adversary keeps domain-free."""
    import keras
    from keras import layers

    inputs = keras.Input((JUDGE_SIDE, JUDGE_SIDE, 3), name="images")
    x = first = inputs
    for index, filters in enumerate((24, 48, 96, 128)):
        x = layers.Conv2D(filters, 3, padding="same", name=f"judge_conv{index}")(x)
        x = layers.BatchNormalization(name=f"judge_bn{index}")(x)
        x = layers.ReLU(name=f"judge_act{index}")(x)
        first = x if index == 0 else first
        x = layers.MaxPooling2D(2, name=f"judge_pool{index}")(x) if index < 3 else x
    features = layers.GlobalAveragePooling2D(name="judge_gap")(x)
    x = layers.Dropout(0.3, name="judge_drop")(features)
    if not invariant:
        return keras.Model(inputs, layers.Dense(1 + tags, name="judge_logits")(x), name="cnn_judge")
    domain = layers.Dense(1, name="judge_domain")(layers.GlobalAveragePooling2D(name="judge_first_gap")(first))
    logits = layers.Concatenate(name="judge_logits")([domain, layers.Dense(tags, name="judge_tags")(x)])
    return keras.Model(inputs, [logits, features], name="cnn_judge_invariant")


def _augment(images):
    """Flips and colour jitter, batch-wise in TensorFlow."""
    import tensorflow as tf

    images = tf.image.random_flip_left_right(images)
    images = tf.image.random_brightness(images, 0.08)
    images = tf.image.random_saturation(images, 0.8, 1.2)
    images = tf.image.random_hue(images, 0.03)
    return tf.clip_by_value(images, 0.0, 1.0)


def _fit(inputs: np.ndarray, is_lego: np.ndarray, tags: np.ndarray, seed: int, epochs: int,
         invariant: bool = False):
    """A trained network: logit 0 is "Lego", the rest one per tag (learnt on tagged images only).
    `invariant`: domain-adversarial training (Ganin and Lempitsky 2015): an adversary learns the
    domain from the tag features while the network learns to leave it nothing, its weight rising
    from 0 to 1 over the epochs, so that what a tag looks like is learnt from emoji and Lego
    faces alike and an emoji's wink can be found on a Lego face."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    network = _network(tags.shape[1], invariant)
    adversary = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    tagged = tags.any(axis=1).astype(np.float32)
    positives = tags[tagged > 0].mean(axis=0) if tagged.any() else np.full(tags.shape[1], 0.5)
    positive_weight = ((1 - positives) / np.maximum(positives, 1e-3)).astype(np.float32)  # (T,) balanced
    optimizer, adversary_optimizer = keras.optimizers.Adam(2e-3), keras.optimizers.Adam(2e-3)
    weight = tf.Variable(0.0, trainable=False)

    @tf.function
    def step(x, lego, y, has_tags):
        with tf.GradientTape(persistent=True) as tape:
            output = network(_augment(x), training=True)
            logits = output[0] if invariant else output
            domain_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(lego, logits[:, :1]))
            per_tag = tf.nn.weighted_cross_entropy_with_logits(y, logits[:, 1:], positive_weight)  # (B, T)
            tag_loss = tf.reduce_sum(tf.reduce_mean(per_tag, axis=1) * has_tags) / tf.maximum(
                tf.reduce_sum(has_tags), 1.0)
            loss = domain_loss + 4.0 * tag_loss
            if invariant:
                told = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(lego, adversary(output[1])))
                loss -= weight * told
        optimizer.apply(tape.gradient(loss, network.trainable_weights), network.trainable_weights)
        if invariant:
            adversary_optimizer.apply(tape.gradient(told, adversary.trainable_weights), adversary.trainable_weights)

    data = tf.data.Dataset.from_tensor_slices((inputs, is_lego[:, None].astype(np.float32), tags.astype(np.float32),
                                               tagged)).shuffle(len(inputs), seed=seed).batch(BATCH)
    for epoch in range(epochs):
        weight.assign(2.0 / (1.0 + np.exp(-10.0 * epoch / max(epochs, 1))) - 1.0)
        for batch in data:
            step(*batch)
    return network


def _predict(network, inputs: np.ndarray) -> np.ndarray:
    """(N, 1 + T) probabilities."""
    import tensorflow as tf

    def logits(batch):  # an invariant network also gives its features
        output = network(batch, training=False)
        return output[0] if isinstance(output, (list, tuple)) else output

    return np.concatenate([tf.sigmoid(logits(inputs[i:i + 256])).numpy()
                           for i in range(0, len(inputs), 256)])


def describe(variant: str = "picture") -> str:
    seen = "each face's marks alone (fill and backdrop white, face box) of " if variant == "marks" else ""
    how = ", its tag features kept domain-free by an adversary" if variant == "invariant" else ""
    return (f"a small CNN trained on {seen}the real un-augmented originals of both domains (flips, colour "
            f"jitter){how}, never on printed heads or model output")


def _view(variant: str) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"unknown judge variant {variant!r}: use one of {', '.join(VARIANTS)}")
    return "marks" if variant == "marks" else "picture"


class CNNJudge:
    """A convolutional judge with the same questions as the pixel judge (vae.alignment.Judge)."""

    def __init__(self, images: np.ndarray, domains: np.ndarray, tags: np.ndarray, expressions: list[str],
                 seed: int = 0, epochs: int = EPOCHS, variant: str = "picture"):
        self.expressions = {tag: EXPRESSIONS.index(tag) for tag in expressions}
        self.view = _view(variant)
        self.network = _fit(judge_inputs(images, self.view), domains == "lego", tags, seed, epochs,
                            invariant=variant == "invariant")
        self.description = describe(variant)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        return _predict(self.network, judge_inputs(images, self.view))

    def is_lego(self, images: np.ndarray) -> np.ndarray:
        return self.probabilities(images)[:, 0] > THRESHOLD

    def shows(self, images: np.ndarray, tag: str) -> np.ndarray:
        return self.probabilities(images)[:, 1 + self.expressions[tag]] > THRESHOLD


def cross_validate(images: np.ndarray, domains: np.ndarray, tags: np.ndarray, groups: np.ndarray,
                   folds: int = 5, seed: int = 0, epochs: int = EPOCHS, variant: str = "picture") -> dict:
    """The judge's accuracy on faces it never saw: domain accuracy over every image, per tag the
    balanced accuracy and recall over the tagged faces, and the same on each domain's faces alone."""
    inputs = judge_inputs(images, _view(variant))
    predicted = np.zeros((len(images), 1 + tags.shape[1]), np.float32)
    for fold, (train, test) in enumerate(GroupKFold(folds).split(inputs, groups=groups)):
        network = _fit(inputs[train], domains[train] == "lego", tags[train], seed + fold, epochs,
                       invariant=variant == "invariant")
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
