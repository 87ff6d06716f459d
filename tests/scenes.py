"""Drawn scenes several adapters' tests share."""

import cv2
import numpy as np


def cloudy_sky(height=300, width=450, horizon=170, peak=False):
    """A blue sky, lighter towards the horizon, with soft white clouds low in it that do not touch
    the top of the frame (one higher up unless there is a peak), over textured ground; with `peak`,
    a snowy peak with a hard outline rising into the sky. The image and the masks of the clouds, the
    snow and the ground."""
    rows, cols = np.indices((height, width))
    image = np.linspace(0.75, 0.95, height)[:, None, None] * np.float32([0.55, 0.7, 1.0])
    clouds = ((120, 90, 22, 60), (135, 360, 20, 60), *(() if peak else ((60, 220, 14, 50),)))
    cloud = np.zeros((height, width), np.float32)
    for row, col, half_height, half_width in clouds:
        inside = ((rows - row) / half_height) ** 2 + ((cols - col) / half_width) ** 2 < 1
        cloud = np.maximum(cloud, inside.astype(np.float32))
    cloud = cv2.GaussianBlur(cloud, (0, 0), 6)
    image = (image * (1 - cloud[..., None]) + 0.96 * cloud[..., None]).astype(np.float32)
    texture = np.random.default_rng(5).random((height // 4, width // 4, 3)).astype(np.float32)
    texture = cv2.GaussianBlur(cv2.resize(texture, (width, height), interpolation=cv2.INTER_NEAREST), (0, 0), 1)
    ground = rows >= horizon
    image[ground] = (0.3 * np.float32([0.5, 0.45, 0.25]) + 0.15 * texture)[ground]
    snow = (rows < horizon) & (rows > 60 + np.abs(cols - width / 2) * 1.4) if peak else np.zeros_like(ground)
    image[snow] = 0.94
    return image, cloud > 0.5, snow, ground
