"""Where scripts/make_subject_masks.py takes its photos from: an npm package's tarball and a Debian
package, read without npm or apt where they were fetched before."""

import io
import tarfile

import cv2
import numpy as np
import pytest

from scripts.make_subject_masks import from_deb, from_npm


def add_members(archive: tarfile.TarFile, members: dict[str, bytes]) -> None:
    for name, data in members.items():
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))


def packed(folder, members: dict[str, bytes]) -> None:
    with tarfile.open(folder / "vladmandic-face-api-1.7.15.tgz", "w:gz") as archive:
        add_members(archive, members)


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


def debian_package(folder, members: dict[str, bytes]) -> None:
    """A Debian package as apt-get downloads it: an ar archive of debian-binary, control and data tarballs."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as archive:
        add_members(archive, members)
    parts = {"debian-binary": b"2.0\n", "control.tar.xz": b"odd", "data.tar.xz": data.getvalue()}
    deb = b"!<arch>\n"
    for name, content in parts.items():
        deb += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(content):<10}`\n".encode() + content
        deb += b"\n" * (len(content) % 2)  # members start on even offsets
    (folder / "opencv-doc_4.6.0+dfsg-12_all.deb").write_bytes(deb)


def test_a_photo_inside_a_debian_package_fetched_before_is_read_as_rgb(tmp_path):
    photo = np.zeros((5, 3, 3), np.uint8)
    photo[..., 2] = 180  # blue
    member = "./usr/share/doc/opencv-doc/examples/data/orange.png"
    debian_package(tmp_path, {member: cv2.imencode(".png", cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))[1].tobytes()})
    read = from_deb("opencv-doc=4.6.0+dfsg-12", member, tmp_path)
    assert read.shape == (5, 3, 3) and (read == photo).all()


def test_a_member_missing_from_the_debian_package_is_a_clear_error(tmp_path):
    debian_package(tmp_path, {"./usr/share/doc/opencv-doc/README": b"no photos here"})
    with pytest.raises(KeyError):
        from_deb("opencv-doc=4.6.0+dfsg-12", "./usr/share/doc/opencv-doc/examples/data/orange.png", tmp_path)
