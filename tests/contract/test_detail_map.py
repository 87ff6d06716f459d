"""Where the eye goes: the detail map is high on faces, on what is near and sharp, low elsewhere."""

import cv2
import numpy as np
import skimage.data

from rilievo.adapters.detail_map import SCENE_DETAIL, SUBJECT_DETAIL, detail_map
from rilievo.adapters.faces import find_faces


def texture(size=192, cell=3):
    small = np.random.default_rng(0).random((size // cell, size // cell, 3), dtype=np.float32)
    return cv2.resize(small, (size, size), interpolation=cv2.INTER_NEAREST)


def test_a_face_gets_full_detail_and_the_wall_behind_it_little():
    photo = skimage.data.astronaut().astype(np.float32) / 255.0
    detail = detail_map(photo, np.zeros(photo.shape[:2], np.float32), depth_influence=0.6)
    face = find_faces(photo)[0]
    row, col = (round(v) for v in face.centre)
    assert detail[row, col] == 1.0
    assert detail[20:120, 400:500].mean() < 0.2  # the grey wall right of the rocket


def test_depth_influence_moves_the_detail_to_the_near_half():
    image = texture()
    depth = np.zeros(image.shape[:2], np.float32)
    depth[:, 96:] = 0.9
    influenced = detail_map(image, depth, depth_influence=1.0)
    assert influenced[:, 16:80].mean() > 4 * influenced[:, 112:176].mean()
    plain = detail_map(image, depth, depth_influence=0.0)
    assert abs(plain[:, 16:80].mean() - plain[:, 112:176].mean()) < 0.05
    assert plain.max() <= SUBJECT_DETAIL  # no face: the scene's detail only, its centre at most a subject's


def test_a_flat_picture_without_faces_has_no_detail():
    image = np.full((64, 80, 3), 0.4, np.float32)
    detail = detail_map(image, np.zeros((64, 80), np.float32), depth_influence=0.6)
    assert detail.shape == (64, 80) and detail.dtype == np.float32
    assert not detail.any()


def test_the_segmenters_subject_gets_more_detail_than_the_scene_around_it():
    image = texture()
    subject = np.zeros(image.shape[:2], np.float32)
    subject[:, :96] = 1.0
    detail = detail_map(image, np.zeros(image.shape[:2], np.float32), depth_influence=0.6, subject=subject)
    assert (detail[:, :96] >= SUBJECT_DETAIL).all()
    assert detail[:, 96:].max() <= SCENE_DETAIL


def test_without_a_subject_the_sharp_structured_middle_of_the_scene_gets_finer_brushes_and_the_sky_none():
    """A street with no one on it: a flat sky far away, a busy mid-depth middle, a smooth near road."""
    image = np.zeros((192, 192, 3), np.float32)
    image[:64] = (0.55, 0.7, 0.9)
    image[64:128] = texture()[64:128]
    image[128:] = np.linspace(0.3, 0.5, 64, dtype=np.float32)[:, None, None]
    depth = np.zeros((192, 192), np.float32)
    depth[:64], depth[64:128] = 1.0, 0.5
    detail = detail_map(image, depth, depth_influence=0.6)
    first_finer_brush = 1 / 3  # paint_classical's first detail level paints from here on
    assert np.median(detail[80:112, 16:176]) > first_finer_brush
    assert detail[80:112, 16:176].max() <= SUBJECT_DETAIL
    assert detail[:48].max() < 0.1 and np.median(detail[144:]) < 0.1
