"""What a person looking at the photo would take for its subject: U²-Net's small model (u2netp, 4.6 MB,
Apache-2.0), shipped with Rilievo in adapters/weights/ and run on the CPU by OpenCV's DNN module. No
download.

Trained on DUTS (10,553 photos with their salient objects outlined by hand), it outlines an animal, a
fruit, a motorcycle or a rocket whole, however its parts differ in colour, where colour contrast and
connection to the frame (the built-in saliency, see segment_classical.saliency) split it or join it to
its background. It answers for what stands out: a face filling the frame is only its eyes to it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

WEIGHTS = Path(__file__).with_name("weights") / "u2netp.onnx"
INPUT_SIDE = 320
IMAGENET_MEAN = np.float32([0.485, 0.456, 0.406])
IMAGENET_STD = np.float32([0.229, 0.224, 0.225])

# One forward pass at a time: each takes about 250 MB of layer buffers. The network is read for each
# answer (0.1 s) and let go of after it: a cv2.dnn.Net keeps those buffers as long as it lives, and kept
# for the next answer it held them through the rest of every render (its peak 715 -> 960 MiB at 12 MP).
_lock = threading.Lock()


def salient_chance(image: np.ndarray) -> np.ndarray:
    """HxWx3 float RGB in [0, 1] -> HxW float32 in [0, 1]: how surely each pixel is part of the salient
    object. The model sees the picture squeezed to 320 x 320, scaled by its brightest value and
    normalised with ImageNet's statistics, as it was trained; its fused output is brought back."""
    height, width = image.shape[:2]
    squeezed = cv2.resize(np.clip(np.asarray(image, np.float32), 0.0, 1.0), (INPUT_SIDE, INPUT_SIDE),
                          interpolation=cv2.INTER_AREA)
    squeezed = (squeezed / max(float(squeezed.max()), 1e-6) - IMAGENET_MEAN) / IMAGENET_STD
    blob = np.ascontiguousarray(squeezed.transpose(2, 0, 1)[None], np.float32)
    with _lock:
        net = cv2.dnn.readNetFromONNX(str(WEIGHTS))
        net.setInput(blob)
        fused = net.forward(net.getUnconnectedOutLayersNames()[0])[0, 0].copy()  # d0, the fused map
        del net
    # bilinear enlargement of values in 0..1 stays in 0..1
    return cv2.resize(np.clip(fused, 0.0, 1.0).astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
