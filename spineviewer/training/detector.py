"""A small CenterNet-style detector of vertebral bodies on sagittal MR (torch, imported lazily).

Why this and not torchvision's Faster R-CNN: on a 2-core CPU a Faster R-CNN
(``fasterrcnn_mobilenet_v3_large_320_fpn``, random initialisation, about 19 M parameters)
trains far too slowly to converge in half an hour, its 320-pixel input loses the precision the
3 mm localisation target needs, and its exported graph (RoIAlign, NMS, dynamic shapes) is large.
The bodies are few, alike and never overlap, which is exactly what a centre heatmap handles
best: one peak per body, no anchors, no NMS in the network.

Network (:func:`build_detector`, ~0.3 M parameters): a tiny U-Net. Encoder of 3x3 conv + batch
norm + ReLU blocks at strides 2, 4, 8, 16 and 32 (widths ``w``, ``2w``, ``4w``, ``6w``,
``8w``; the stride-32 block sees about 400 input pixels, enough to tell the sacrum from a
lumbar body); decoder upsampling (nearest) with skip connections back to stride 4; three
heads at stride 4 (64 x 64 cells for a 256 x 256 input): a centre heatmap per class
(``vertebra``, ``S1``), the sub-cell offset of the centre and the log size of the box.

Outputs: the network decodes itself into YOLO-style rows, so the manifest can describe it
(``style: yolo``, ``box_format: cxcywh``, ``coordinates: input_pixels``): ``predictions``
(N, cells, 4 + C) = one row per cell ``cx, cy, w, h, score_0 .. score_C-1`` with the sigmoid
heatmap as the class scores. The runner thresholds the scores and runs NMS
(:func:`~spineviewer.ai.detection.decode_predictions`), which keeps the best cell
of each body: the heatmap peak, as CenterNet's 3 x 3 max-pool would (that max-pool is left out
of the graph on purpose: its equality test flips between torch and onnxruntime on near ties).

``oriented`` networks (vertebral bodies on AP radiographs, whose tilts give the Cobb angle) have
three more heads: the body's tilt ``theta = 45 deg * tanh(v)`` and the log half width and
half height of the tilted body. They append the four corners of the tilted body to each row
as keypoints (``task: keypoints``): ``upper_left, upper_right, lower_left, lower_right``, each
``x, y, score`` (12 values), so the upper and lower endplates are the lines between them. The
corners are sums and products of well-conditioned terms (no division, no normalisation), so
onnxruntime reproduces them as closely as the boxes.

Training (:func:`train_detector`): penalty-reduced focal loss on Gaussian heatmaps (CenterNet),
L1 on offsets and log sizes at the true centre cells, AdamW + one-cycle, intensity and small
geometric augmentation (scale, shift, rotation of axis-aligned boxes; no flips:
anterior-posterior and up-down are anatomy);
the epoch with the best validation score (mean of recall and precision at IoU 0.5 with the
manifest's threshold, then the lowest centre error) is kept.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from spineviewer.ai.cobb import endplate_tilts
from spineviewer.ai.detection import box_iou, decode_predictions
from spineviewer.ai.preprocessing import resample_axis
from spineviewer.ai.vertebra_labels import CLASS_NAMES
from spineviewer.training.augment import gaussian_blur
from spineviewer.training.detection_data import DetectionSample

#: Output stride of the heads (input pixels per heatmap cell).
STRIDE = 4
#: Network input normalisation after the 0..1 percentile scaling.
CHANNEL_MEAN = 0.5
CHANNEL_STD = 0.25
#: Decoding written into the manifest (and used for validation).
SCORE_THRESHOLD = 0.3
NMS_IOU = 0.3
#: Box sizes are predicted as ``exp(v) * SIZE_UNIT`` input pixels.
SIZE_UNIT = 16.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DetectorConfig:
    width: int = 16
    epochs: int = 8
    batch_size: int = 16
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int = 2
    #: Augmentation: zoom range (+/-), shift in input pixels (+/-), intensity changes.
    zoom: float = 0.1
    shift_px: float = 16.0
    intensity: float = 0.15
    gamma: float = 0.25
    noise: float = 0.03
    #: Largest Gaussian blur sigma (input pixels), drawn per image.
    blur: float = 0.0
    #: Largest rotation (degrees, +/-) of images with axis-aligned boxes (no tilts to keep).
    rotation: float = 0.0
    #: Weight of the L1 loss on the tilt in radians (oriented networks).
    angle_weight: float = 10.0
    #: Stop after the epoch that passes this many minutes (a shared CPU); None: never.
    max_minutes: float | None = None


@dataclass
class DetectorResult:
    model: Any
    history: list[dict[str, float]]
    best_epoch: int
    seconds: float
    epochs_run: int = 0


@cache
def _network_class() -> Any:
    import torch
    from torch import nn
    from torch.nn import functional

    def block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )

    class CenterNet(nn.Module):
        """Tiny U-Net with CenterNet heads; ``forward`` returns YOLO rows (N, K, 4 + C), with
        12 keypoint values more when ``oriented``."""

        def __init__(self, num_classes: int, width: int, oriented: bool) -> None:
            super().__init__()
            w = width
            self.num_classes = num_classes
            self.oriented = oriented
            self.enc1 = block(1, w, 2)  # /2
            self.enc2 = nn.Sequential(block(w, 2 * w, 2), block(2 * w, 2 * w))  # /4
            self.enc3 = nn.Sequential(block(2 * w, 4 * w, 2), block(4 * w, 4 * w))  # /8
            self.enc4 = nn.Sequential(block(4 * w, 6 * w, 2), block(6 * w, 6 * w))  # /16
            self.enc5 = nn.Sequential(block(6 * w, 8 * w, 2), block(8 * w, 8 * w))  # /32
            f = 2 * w
            self.lat5 = nn.Conv2d(8 * w, f, 1)
            self.lat4 = nn.Conv2d(6 * w, f, 1)
            self.lat3 = nn.Conv2d(4 * w, f, 1)
            self.lat2 = nn.Conv2d(2 * w, f, 1)
            self.smooth4 = block(f, f)
            self.smooth3 = block(f, f)
            last = nn.Conv2d(f, num_classes + (7 if oriented else 4), 1)
            self.head = nn.Sequential(block(f, f), last)
            bias = last.bias
            assert bias is not None
            with torch.no_grad():
                bias[:num_classes].fill_(-2.19)  # initial heatmap ~0.1 (CenterNet)

        def raw(self, x: Any) -> Any:
            """(N, C + 4 (+ 3), H/4, W/4): heatmap logits, offset (x, y), log size (w, h)
            (and the tilt's pre-activation, the log half sizes of the tilted body)."""
            e2 = self.enc2(self.enc1(x))
            e3 = self.enc3(e2)
            e4 = self.enc4(e3)
            e5 = self.enc5(e4)
            p = self.lat5(e5)
            p = self.smooth4(functional.interpolate(p, scale_factor=2.0) + self.lat4(e4))
            p = self.smooth3(functional.interpolate(p, scale_factor=2.0) + self.lat3(e3))
            p = functional.interpolate(p, scale_factor=2.0) + self.lat2(e2)
            return self.head(p)

        def forward(self, x: Any) -> Any:
            out = self.raw(x)
            c = self.num_classes
            scores = torch.sigmoid(out[:, :c])
            _, _, h, w = out.shape
            gy = torch.arange(h, dtype=out.dtype).view(1, h, 1).expand(1, h, w)
            gx = torch.arange(w, dtype=out.dtype).view(1, 1, w).expand(1, h, w)
            cx = (gx + out[:, c]) * STRIDE
            cy = (gy + out[:, c + 1]) * STRIDE
            bw = torch.exp(out[:, c + 2].clamp(-4.0, 4.0)) * SIZE_UNIT
            bh = torch.exp(out[:, c + 3].clamp(-4.0, 4.0)) * SIZE_UNIT
            parts = [torch.stack([cx, cy, bw, bh], 1), scores]
            if self.oriented:
                best = scores.max(dim=1).values
                theta = tilt_radians(out[:, c + 4])
                half_a = torch.exp(out[:, c + 5].clamp(-4.0, 4.0)) * SIZE_UNIT
                half_b = torch.exp(out[:, c + 6].clamp(-4.0, 4.0)) * SIZE_UNIT
                parts.append(_corners(cx, cy, theta, half_a, half_b, best))
            rows = torch.cat(parts, 1)
            return rows.flatten(2).transpose(1, 2)

    def tilt_radians(raw: Any) -> Any:
        return torch.tanh(raw) * (math.pi / 4)

    def _corners(cx: Any, cy: Any, theta: Any, half_a: Any, half_b: Any, score: Any) -> Any:
        """(N, 12, h, w): x, y, score of the corners UL, UR, LL, LR of the body centred on
        (cx, cy) with half sizes (a, b), tilted by theta (counter-clockwise as displayed)."""
        s, c = torch.sin(theta), torch.cos(theta)
        points = []
        for along, up in ((-1, 1), (1, 1), (-1, -1), (1, -1)):
            x = cx + along * half_a * c - up * half_b * s
            y = cy - along * half_a * s - up * half_b * c
            points += [x, y, score]
        return torch.stack(points, 1)

    return CenterNet


def build_detector(
    num_classes: int = len(CLASS_NAMES), width: int = 16, oriented: bool = False
) -> Any:
    """The network (random initialisation)."""
    return _network_class()(num_classes, width, oriented)


def network_input(images: Any) -> Any:
    """Grey (N, 1, H, W) in [0, 1] -> the normalised network input."""
    return (images - CHANNEL_MEAN) / CHANNEL_STD


def tilted_half_sizes(half_w: float, half_h: float, tilt: float) -> tuple[float, float]:
    """Half sizes (along, across) of a rectangle tilted by ``tilt`` radians whose axis-aligned
    box has half sizes ``half_w``, ``half_h`` (at least 1 input pixel)."""
    c, s = abs(math.cos(tilt)), abs(math.sin(tilt))
    det = max(c * c - s * s, 0.2)
    return max(1.0, (half_w * c - half_h * s) / det), max(1.0, (half_h * c - half_w * s) / det)


def _targets(
    sample: tuple[np.ndarray, np.ndarray, np.ndarray | None],
    size: tuple[int, int],
    num_classes: int,
    oriented: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heatmaps (C, h, w), regression targets (4 or 6, h, w) and their mask (h, w) for one
    image's ``(boxes, classes, angles)``."""
    boxes, classes, angles = sample
    h, w = size[0] // STRIDE, size[1] // STRIDE
    heat = np.zeros((num_classes, h, w), dtype=np.float32)
    reg = np.zeros((7 if oriented else 4, h, w), dtype=np.float32)
    mask = np.zeros((h, w), dtype=np.float32)
    ys, xs = np.mgrid[0:h, 0:w]
    for k, (box, cls) in enumerate(zip(boxes, classes, strict=True)):
        bw, bh = float(box[2] - box[0]), float(box[3] - box[1])
        if bw <= 1 or bh <= 1:
            continue
        cx, cy = (box[0] + box[2]) / 2 / STRIDE, (box[1] + box[3]) / 2 / STRIDE
        ix, iy = int(np.clip(math.floor(cx), 0, w - 1)), int(np.clip(math.floor(cy), 0, h - 1))
        sigma_x = max(0.7, bw / STRIDE / 6.0)
        sigma_y = max(0.7, bh / STRIDE / 6.0)
        g = np.exp(-((xs - ix) ** 2) / (2 * sigma_x**2) - ((ys - iy) ** 2) / (2 * sigma_y**2))
        heat[cls] = np.maximum(heat[cls], g)
        reg[:4, iy, ix] = (cx - ix, cy - iy, math.log(bw / SIZE_UNIT), math.log(bh / SIZE_UNIT))
        if oriented:
            if angles is None:
                raise ValueError("an oriented detector needs the angle of every box")
            tilt = math.radians(float(angles[k]))
            half_a, half_b = tilted_half_sizes(bw / 2, bh / 2, tilt)
            reg[4:, iy, ix] = (tilt, math.log(half_a / SIZE_UNIT), math.log(half_b / SIZE_UNIT))
        mask[iy, ix] = 1.0
    return heat, reg, mask


def _bilinear(image: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``image`` sampled at fractional indices (edge values outside)."""
    h, w = image.shape
    r = np.clip(rows, 0, h - 1)
    c = np.clip(cols, 0, w - 1)
    r0 = np.minimum(np.floor(r).astype(np.intp), h - 2 if h > 1 else 0)
    c0 = np.minimum(np.floor(c).astype(np.intp), w - 2 if w > 1 else 0)
    fr, fc = r - r0, c - c0
    r1, c1 = np.minimum(r0 + 1, h - 1), np.minimum(c0 + 1, w - 1)
    top = image[r0, c0] * (1 - fc) + image[r0, c1] * fc
    bottom = image[r1, c0] * (1 - fc) + image[r1, c1] * fc
    return np.asarray(top * (1 - fr) + bottom * fr, dtype=np.float32)


def rotated_boxes(boxes: np.ndarray, angle: float, size: tuple[int, int]) -> np.ndarray:
    """Axis-aligned ``boxes`` (xyxy) of an image of ``size`` (h, w) turned by ``angle``
    radians about its centre: the centres turn; the half sizes are those of the box of the
    inscribed ellipse turned (a vertebral body is closer to a rounded block than to a sharp
    rectangle, so the box of the turned corners would be too big)."""
    h, w = size
    c, s = math.cos(angle), math.sin(angle)
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2 - w / 2, (boxes[:, 1] + boxes[:, 3]) / 2 - h / 2
    hw, hh = (boxes[:, 2] - boxes[:, 0]) / 2, (boxes[:, 3] - boxes[:, 1]) / 2
    nx, ny = c * cx - s * cy + w / 2, s * cx + c * cy + h / 2
    half_w = np.hypot(hw * c, hh * s)
    half_h = np.hypot(hw * s, hh * c)
    return np.stack([nx - half_w, ny - half_h, nx + half_w, ny + half_h], axis=1)


def _augment(
    samples: Sequence[DetectionSample], config: DetectorConfig, rng: np.random.Generator
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]]:
    """Zoomed / shifted (and, for axis-aligned boxes, turned) images (bilinear) with their
    boxes, intensity changes; zoom and shift keep every angle."""
    images, targets = [], []
    for s in samples:
        h, w = s.image.shape
        zoom = 1.0 + rng.uniform(-config.zoom, config.zoom)
        tx, ty = rng.uniform(-config.shift_px, config.shift_px, 2)
        turn = 0.0
        if config.rotation and s.angles is None:
            turn = math.radians(rng.uniform(-config.rotation, config.rotation))
        b = s.boxes.astype(np.float64).copy()
        if turn:
            # output edge point q comes from source p = R^T (q - c - t) / zoom + c
            ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
            qx, qy = (xs + 0.5 - w / 2 - tx) / zoom, (ys + 0.5 - h / 2 - ty) / zoom
            c, sn = math.cos(turn), math.sin(turn)
            px, py = c * qx + sn * qy + w / 2 - 0.5, -sn * qx + c * qy + h / 2 - 0.5
            img = _bilinear(s.image, py, px)
            b = rotated_boxes(b, turn, (h, w))
        else:
            # output edge coordinate u comes from source u' = (u - c - t) / zoom + c
            ry = ((np.arange(h) + 0.5) - h / 2 - ty) / zoom + h / 2 - 0.5
            rx = ((np.arange(w) + 0.5) - w / 2 - tx) / zoom + w / 2 - 0.5
            img = resample_axis(resample_axis(s.image, ry, 0), rx, 1)
        b[:, [0, 2]] = (b[:, [0, 2]] - w / 2) * zoom + w / 2 + tx
        b[:, [1, 3]] = (b[:, [1, 3]] - h / 2) * zoom + h / 2 + ty
        cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        inside = (cx > 0) & (cx < w) & (cy > 0) & (cy < h)
        b = np.clip(b[inside], 0, [w, h, w, h])
        img = gaussian_blur(img.astype(np.float32), float(rng.uniform(0.0, config.blur)))
        img = img * rng.uniform(1 - config.intensity, 1 + config.intensity)
        img = np.clip(img, 0, None) ** math.exp(rng.uniform(-config.gamma, config.gamma))
        img = img + rng.normal(0, rng.uniform(0, config.noise), img.shape)
        images.append(np.clip(img, 0, 1).astype(np.float32))
        angles = s.angles[inside] if s.angles is not None else None
        targets.append((b, s.classes[inside], angles))
    return np.stack(images), targets


def _loss(out: Any, heat: Any, reg: Any, mask: Any, num_classes: int, angle_weight: float) -> Any:
    import torch

    logits = out[:, :num_classes]
    pred = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = (heat >= 1.0).float()
    neg_weight = (1 - heat) ** 4
    pos_loss = torch.log(pred) * (1 - pred) ** 2 * pos
    neg_loss = torch.log(1 - pred) * pred**2 * neg_weight * (1 - pos)
    n_pos = pos.sum().clamp(min=1.0)
    focal = -(pos_loss.sum() + neg_loss.sum()) / n_pos
    m = mask.unsqueeze(1)
    n_obj = mask.sum().clamp(min=1.0)
    c = num_classes
    offset = (torch.abs(out[:, c : c + 2] - reg[:, :2]) * m).sum() / n_obj
    size = (torch.abs(out[:, c + 2 : c + 4] - reg[:, 2:4]) * m).sum() / n_obj
    loss = focal + offset + size
    if reg.shape[1] > 4:
        theta = torch.tanh(out[:, c + 4 : c + 5]) * (math.pi / 4)
        angle = (torch.abs(theta - reg[:, 4:5]) * m).sum() / n_obj
        halves = (torch.abs(out[:, c + 5 : c + 7] - reg[:, 5:7]) * m).sum() / n_obj
        loss = loss + angle_weight * angle + halves
    return loss


def predict_rows(model: Any, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """YOLO rows (N, K, 4 + C) for grey images (N, H, W) in [0, 1]."""
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = torch.from_numpy(images[start : start + batch_size, None].astype(np.float32))
            out.append(model(network_input(x)).numpy())
    return np.concatenate(out)


def detection_scores(
    rows: np.ndarray,
    samples: Sequence[DetectionSample],
    num_classes: int,
    per_class: bool = False,
) -> dict[str, float]:
    """Recall, precision (IoU >= 0.5, right class), mean centre error (input px) and, for
    oriented networks, mean tilt error (degrees) of thresholded, NMS-ed detections."""
    tp = n_det = n_truth = 0
    errors, tilt_errors = [], []
    for r, s in zip(rows, samples, strict=True):
        found = decode_predictions(
            r, SCORE_THRESHOLD, NMS_IOU, num_classes=num_classes, per_class=per_class
        )
        n_det += len(found)
        n_truth += len(s.boxes)
        if not len(found) or not len(s.boxes):
            continue
        iou = box_iou(s.boxes, found.boxes)
        free = np.ones(len(found), dtype=bool)
        for t in range(len(s.boxes)):
            candidates = np.where(free, iou[t], -1.0)
            j = int(np.argmax(candidates))
            if candidates[j] >= 0.5 and found.classes[j] == s.classes[t]:
                free[j] = False
                tp += 1
                truth_centre = (s.boxes[t, :2] + s.boxes[t, 2:]) / 2
                errors.append(float(np.linalg.norm(found.centres[j] - truth_centre)))
                if found.keypoints is not None and s.angles is not None:
                    tilt = float(np.mean(endplate_tilts(found.keypoints[j])))
                    tilt_errors.append(abs(tilt - float(s.angles[t])))
    recall = tp / n_truth if n_truth else 1.0
    precision = tp / n_det if n_det else 1.0
    scores = {
        "recall": recall,
        "precision": precision,
        "f": (recall + precision) / 2,
        "centre_error_px": float(np.mean(errors)) if errors else float("inf"),
    }
    if tilt_errors:
        scores["tilt_error_deg"] = float(np.mean(tilt_errors))
    return scores


def train_detector(
    train: Sequence[DetectionSample],
    val: Sequence[DetectionSample],
    config: DetectorConfig,
    progress: Progress | None = None,
    classes: Sequence[str] = CLASS_NAMES,
    oriented: bool = False,
    per_class_nms: bool = False,
) -> DetectorResult:
    """Train on ``train``; keep the weights of the best ``val`` epoch (detection score, then
    the tilt error of oriented networks, then the centre error)."""
    import torch

    from spineviewer.training.classifier import seed_everything

    say = progress or (lambda text: None)
    generator = seed_everything(config.seed, config.threads)
    torch.set_flush_denormal(True)
    rng = np.random.default_rng(config.seed)
    num_classes = len(classes)
    model = build_detector(num_classes, config.width, oriented)
    size = train[0].image.shape
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    per_epoch = (len(train) + config.batch_size - 1) // config.batch_size
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser,
        max_lr=config.learning_rate,
        total_steps=max(1, config.epochs * per_epoch),
        pct_start=0.1,
    )
    val_images = np.stack([s.image for s in val])
    best: tuple[tuple[float, float, float], int, dict[str, Any]] | None = None
    history: list[dict[str, float]] = []
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(train), generator=generator).numpy()
        total = 0.0
        for start in range(0, len(train), config.batch_size):
            batch = [train[int(i)] for i in order[start : start + config.batch_size]]
            images, truths = _augment(batch, config, rng)
            targets = [_targets(t, (size[0], size[1]), num_classes, oriented) for t in truths]
            heat = torch.from_numpy(np.stack([t[0] for t in targets]))
            reg = torch.from_numpy(np.stack([t[1] for t in targets]))
            mask = torch.from_numpy(np.stack([t[2] for t in targets]))
            x = network_input(torch.from_numpy(images[:, None]))
            optimiser.zero_grad()
            loss = _loss(model.raw(x), heat, reg, mask, num_classes, config.angle_weight)
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(batch)
        scores = detection_scores(predict_rows(model, val_images), val, num_classes, per_class_nms)
        tilt = scores.get("tilt_error_deg", math.inf if oriented else 0.0)
        history.append({"epoch": epoch, "train_loss": total / len(train), **scores})
        say(
            f"epoch {epoch}/{config.epochs}  loss {total / len(train):.4f}  val recall "
            f"{scores['recall']:.4f} precision {scores['precision']:.4f} centre error "
            f"{scores['centre_error_px']:.2f} px"
            + (f" tilt error {tilt:.2f} deg" if oriented else "")
            + f"  ({time.perf_counter() - started:.0f} s)"
        )
        key = (
            round(scores["f"], 4),
            -tilt,
            -scores["centre_error_px"],
        )
        if best is None or key > best[0]:
            best = (key, epoch, copy.deepcopy(model.state_dict()))
        elapsed = time.perf_counter() - started
        if config.max_minutes is not None and elapsed > config.max_minutes * 60:
            say(f"stopping after epoch {epoch}: {elapsed / 60:.1f} min > {config.max_minutes} min")
            break
    assert best is not None
    model.load_state_dict(best[2])
    model.eval()
    return DetectorResult(model, history, best[1], time.perf_counter() - started, len(history))
