import numpy as np
import pytest
from PIL import Image

from rilievo.adapters.depth_supplied import SuppliedDepthReader
from rilievo.domain.errors import ImageRejected, InvalidParameter


def ramp(width=64, height=32):
    """8-bit gray, dark on the left, bright on the right."""
    return np.tile(np.linspace(0, 255, width).round().astype(np.uint8), (height, 1))


def save(tmp_path, name, pixels, **params):
    path = tmp_path / name
    Image.fromarray(pixels).save(path, **params)
    return path


def read(path, width=64, height=32, near="white"):
    return SuppliedDepthReader().read(path, width, height, near).depth


def test_reader_is_named_supplied():
    assert SuppliedDepthReader.name == "supplied"


def test_white_near_puts_bright_pixels_at_depth_zero(tmp_path):
    depth = read(save(tmp_path, "depth.png", ramp()), near="white")
    assert depth.shape == (32, 64) and depth.dtype == np.float32
    assert depth[:, -1].max() == 0.0 and depth[:, 0].min() == 1.0


def test_black_near_is_the_inverse_of_white_near(tmp_path):
    path = save(tmp_path, "depth.png", ramp())
    assert np.allclose(read(path, near="black"), 1.0 - read(path, near="white"), atol=1e-6)


def test_depth_is_stretched_to_span_zero_to_one(tmp_path):
    narrow = (100 + ramp() // 8).astype(np.uint8)
    depth = read(save(tmp_path, "depth.png", narrow), near="black")
    assert depth.min() == 0.0 and depth.max() == 1.0


def test_constant_depth_map_is_one_plane_at_zero(tmp_path):
    depth = read(save(tmp_path, "flat.png", np.full((8, 8), 77, np.uint8)), width=10, height=10)
    assert depth.shape == (10, 10) and not depth.any()


@pytest.mark.parametrize(("width", "height"), [(16, 8), (256, 128), (101, 50)])
def test_depth_is_resized_to_the_photo_size(tmp_path, width, height):
    depth = read(save(tmp_path, "depth.png", ramp()), width=width, height=height, near="black")
    assert depth.shape == (height, width)
    assert 0.0 <= depth.min() and depth.max() <= 1.0
    assert np.all(np.diff(depth[height // 2]) >= -1e-6)  # still a left-to-right ramp


def test_16_bit_gray_depth_keeps_its_precision(tmp_path):
    values = np.tile(np.arange(1000, 1016, dtype=np.uint16), (8, 1))  # steps far below 8-bit resolution
    depth = read(save(tmp_path, "depth16.png", values), width=16, height=8, near="black")
    assert np.allclose(depth[0], np.arange(16) / 15, atol=1e-5)


def test_rgb_depth_uses_its_luminance(tmp_path):
    rgb = np.dstack([ramp()] * 3)
    rgb[:, :, 0] = 0  # colour channels disagree; brightness still rises left to right
    depth = read(save(tmp_path, "depth.jpg", rgb, quality=95), near="white")
    assert depth[:, :4].mean() > 0.95 and depth[:, -4:].mean() < 0.05


def test_exif_rotated_depth_map_lines_up_with_the_photo(tmp_path):
    stored = np.zeros((20, 40), np.uint8)
    stored[:4, :4] = 255  # near blob in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed rotated 90 degrees clockwise: 20 wide, 40 high
    depth = read(save(tmp_path, "depth.jpg", stored, exif=exif, quality=95), width=20, height=40)
    assert depth[0, -1] < 0.1 and depth[-1, 0] > 0.9


def test_not_an_image_is_refused(tmp_path):
    path = tmp_path / "depth.png"
    path.write_text("depth: far\n")
    with pytest.raises(ImageRejected, match="not an image"):
        read(path)


@pytest.mark.parametrize("near", ["White", "near", ""])
def test_unknown_near_convention_is_refused(tmp_path, near):
    with pytest.raises(InvalidParameter, match="near"):
        read(save(tmp_path, "depth.png", ramp()), near=near)


def test_a_depth_map_of_another_shape_is_refused_with_both_sizes(tmp_path):
    portrait = np.zeros((60, 40), np.uint8)
    with pytest.raises(ImageRejected, match=r"depth map is 40x60 px and the photo 60x40 px.*quarter turn"):
        read(save(tmp_path, "depth.png", portrait), width=60, height=40)


@pytest.mark.parametrize(("depth_size", "photo_size"), [((32, 16), (64, 32)), ((33, 16), (64, 32)),
                                                        ((300, 200), (601, 401)), ((518, 392), (4032, 3024))])
def test_a_depth_map_of_the_photos_shape_at_another_size_is_accepted(tmp_path, depth_size, photo_size):
    """Half size, a pixel off from rounding, or a depth tool's multiple of 14 px (under 1 % off)."""
    depth = read(save(tmp_path, "depth.png", ramp(*depth_size)), *photo_size)
    assert depth.shape == photo_size[::-1]


def test_float_depth_with_unknown_values_is_read_and_reported(tmp_path):
    import tifffile

    metres = np.tile(np.linspace(0.5, 10.0, 64, dtype=np.float32), (32, 1))
    metres[:, :8] = np.nan  # no depth where the sensor saw nothing
    tifffile.imwrite(tmp_path / "depth.tif", metres)
    reader = SuppliedDepthReader()
    supplied = reader.read(tmp_path / "depth.tif", 64, 32, "black")  # metres: small is near
    depth = supplied.depth
    assert depth.min() == 0.0 and depth.max() == 1.0 and np.all(np.diff(depth[0, 8:]) > 0)
    assert np.allclose(depth[:, :8], depth[:, 8:9])  # the unknowns took their neighbour's depth
    assert supplied.warnings == ("the depth map has 256 unknown values (NaN or infinite, 12.5% of it): they took "
                                 "the depth of the nearest known pixel",)
    assert reader.read(save(tmp_path, "plain.png", ramp()), 64, 32, "white").warnings == ()
