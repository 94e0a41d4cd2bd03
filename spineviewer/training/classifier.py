"""Training a crop classifier: data to tensors, class-weighted cross-entropy, AdamW with a
cosine schedule, the epoch with the best validation accuracy kept. Deterministic for a seed.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spineviewer.training.augment import Augment
from spineviewer.training.phantom_data import Sample

#: Crops are grey; the network sees it replicated to 3 channels, normalised like this.
CHANNEL_MEAN = 0.5
CHANNEL_STD = 0.25

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainConfig:
    backbone: str = "mobilenet_v2"
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    weights: Path | None = None
    augment: Augment = field(default_factory=Augment)
    threads: int = 2


@dataclass
class TrainResult:
    model: Any
    classes: tuple[str, ...]
    history: list[dict[str, float]]
    best_epoch: int
    seconds: float


def seed_everything(seed: int, threads: int) -> Any:
    """Seed torch and numpy; deterministic kernels; returns a torch Generator."""
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def to_tensor(samples: Sequence[Sample], classes: Sequence[str]) -> tuple[Any, Any]:
    """(N, 1, H, W) float images in [0, 1] and (N,) class indices."""
    import torch

    images = torch.from_numpy(np.stack([s.image for s in samples]).astype(np.float32))[:, None]
    index = {c: i for i, c in enumerate(classes)}
    labels = torch.tensor([index[s.label] for s in samples], dtype=torch.long)
    return images, labels


def network_input(images: Any) -> Any:
    """Grey (N, 1, H, W) in [0, 1] -> the network's (N, 3, H, W) normalised input."""
    return ((images - CHANNEL_MEAN) / CHANNEL_STD).repeat(1, 3, 1, 1)


def predict(model: Any, images: Any, batch_size: int = 128) -> np.ndarray:
    """Class probabilities (N, C) for grey images (N, 1, H, W)."""
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            logits = model(network_input(images[start : start + batch_size]))
            out.append(torch.softmax(logits, dim=1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))


def train_classifier(
    train: Sequence[Sample],
    val: Sequence[Sample],
    classes: Sequence[str],
    config: TrainConfig,
    progress: Progress | None = None,
) -> TrainResult:
    """Train ``config.backbone`` on ``train``; keep the weights of the best ``val`` epoch."""
    import torch

    from spineviewer.training.networks import build_classifier

    say = progress or (lambda text: None)
    generator = seed_everything(config.seed, config.threads)
    x_train, y_train = to_tensor(train, classes)
    x_val, y_val = to_tensor(val, classes)
    model = build_classifier(config.backbone, len(classes), config.weights)
    counts = torch.bincount(y_train, minlength=len(classes)).float()
    weights = counts.sum() / (len(classes) * counts.clamp(min=1.0))
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, label_smoothing=0.05)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    steps = max(1, config.epochs * ((len(train) + config.batch_size - 1) // config.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=config.learning_rate, total_steps=steps, pct_start=0.15
    )
    best: tuple[float, float, int, dict[str, Any]] | None = None
    history: list[dict[str, float]] = []
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(train), generator=generator)
        total = 0.0
        for start in range(0, len(train), config.batch_size):
            idx = order[start : start + config.batch_size]
            batch = config.augment(x_train[idx], generator)
            optimiser.zero_grad()
            loss = loss_fn(model(network_input(batch)), y_train[idx])
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
        probs = predict(model, x_val)
        val_acc = float((probs.argmax(1) == y_val.numpy()).mean()) if len(val) else 0.0
        val_loss = float(loss_fn(torch.log(torch.from_numpy(probs).clamp(min=1e-7)), y_val))
        history.append(
            {
                "epoch": epoch,
                "train_loss": total / len(train),
                "val_acc": val_acc,
                "val_loss": val_loss,
            }
        )
        say(
            f"epoch {epoch}/{config.epochs}  train loss {total / len(train):.4f}  "
            f"val acc {val_acc:.4f}  ({time.perf_counter() - started:.0f} s)"
        )
        key = (val_acc, -val_loss)
        if best is None or key > (best[0], best[1]):
            best = (val_acc, -val_loss, epoch, copy.deepcopy(model.state_dict()))
    assert best is not None
    model.load_state_dict(best[3])
    model.eval()
    return TrainResult(model, tuple(classes), history, best[2], time.perf_counter() - started)
