"""Where scripts/make_subject_masks.py takes its photos from: an npm package's tarball, read without npm
where it was fetched before."""

import io
import tarfile

import cv2
import numpy as np
import pytest

from scripts.make_subject_masks import from_npm


def packed(folder, members: dict[str, bytes]) -> None:
    with tarfile.open(folder / "vladmandic-face-api-1.7.15.tgz", "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_a_photo_inside_an_npm_tarball_fetched_before_is_read_as_rgb(tmp_path):
    photo = np.zeros((4, 6, 3), np.uint8)
    photo[..., 0] = 200  # red
    packed(tmp_path, {"package/demo/sample5.png": cv2.imencode(".png", cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))[1].tobytes()})
    read = from_npm("@vladmandic/face-api@1.7.15", "package/demo/sample5.png", tmp_path)
    assert read.shape == (4, 6, 3) and (read == photo).all()


def test_a_member_missing_from_the_tarball_is_a_clear_error(tmp_path):
    packed(tmp_path, {"package/README.md": b"no photos here"})
    with pytest.raises(KeyError):
        from_npm("@vladmandic/face-api@1.7.15", "package/demo/sample5.png", tmp_path)
