"""The built-in segmenter: SLIC superpixels merged by colour (scikit-image), no downloads.

A first version: regions of similar colour. Faces, people and texture-aware merging come next."""

from __future__ import annotations

import numpy as np
from skimage import graph
from skimage.segmentation import relabel_sequential, slic

from rilievo.domain.regions import Regions

WORK_LONG_SIDE = 640  # segment at most this size; the labels are enlarged to the photo's
SUPERPIXELS = 400
MERGE_COLOUR_DISTANCE = 0.08  # mean-colour distance (RGB in [0, 1]) under which neighbours merge


class ClassicalSegmenter:
    name = "classical-regions"
    device = None

    def segment(self, image: np.ndarray) -> Regions:
        height, width = image.shape[:2]
        step = max(1, int(np.ceil(max(height, width) / WORK_LONG_SIDE)))
        small = np.ascontiguousarray(image[::step, ::step], dtype=np.float64)
        superpixels, _, _ = relabel_sequential(slic(small, n_segments=SUPERPIXELS, compactness=10, start_label=0))
        if superpixels.max() == 0:  # a region graph needs two nodes
            return Regions.whole(height, width)
        rag = graph.rag_mean_color(small, superpixels)
        merged = graph.cut_threshold(superpixels, rag, MERGE_COLOUR_DISTANCE)
        _, compact = np.unique(merged, return_inverse=True)
        labels = np.repeat(np.repeat(compact.reshape(merged.shape), step, 0), step, 1)[:height, :width]
        labels = np.ascontiguousarray(labels, dtype=np.int32)
        return Regions(labels, ("",) * (int(labels.max()) + 1))
