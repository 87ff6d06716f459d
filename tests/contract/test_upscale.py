"""Contract of the upscalers: Real-ESRGAN through spandrel on tiny random models built offline (saved
in the release files' layouts), and the Lanczos fallback. One set of assertions runs on all of them.

Tolerances, as measured when these tests were written (CPU, float32):
- a window vs the same window of the whole image: 0.0 (bit-identical) for every upscaler;
  asserted <= 1e-6 for Real-ESRGAN, exact for Lanczos.
- tiled (32 px tiles) vs untiled, within 4 px of a tile border, on a model that reaches 16 px
  (long_reach_compact): 3e-7 (float rounding) with the default 16 px pad, 2e-4 with a 4 px pad,
  0.007 with none; on the random tiny models, 2e-7 with the default pad.
"""

import re

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
spandrel = pytest.importorskip("spandrel")

from spandrel.architectures.Compact import Compact  # noqa: E402
from spandrel.architectures.ESRGAN import ESRGAN  # noqa: E402

from rilievo.adapters import upscale_tiles  # noqa: E402
from rilievo.adapters.upscale import LanczosUpscaler, UpscaleFailed  # noqa: E402
from rilievo.adapters.upscale_resample import to_array  # noqa: E402
from rilievo.adapters.upscale_esrgan import RealEsrganUpscaler  # noqa: E402
from rilievo.domain.errors import InvalidParameter  # noqa: E402

WINDOW_TOLERANCE = 1e-6
TILING = {"tile": 16, "overlap": 4, "pad": 4}  # several tiles on the small test images


def release_rrdb(module):
    """An old-arch RRDBNet state dict renamed to the release files' layout (basicsr names in params_ema)."""
    fixed = {"model.0": "conv_first", "model.3": "conv_up1", "model.6": "conv_up2", "model.8": "conv_hr",
             "model.10": "conv_last"}
    blocks = module.model[1].sub
    renamed = {}
    for key, value in module.state_dict().items():
        prefix, kind = key.rsplit(".", 1)
        if prefix in fixed:
            renamed[f"{fixed[prefix]}.{kind}"] = value
        elif prefix == f"model.1.sub.{len(blocks) - 1}":
            renamed[f"conv_body.{kind}"] = value
        else:
            block, rdb, conv = re.fullmatch(r"model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0", prefix).groups()
            renamed[f"body.{block}.rdb{rdb}.conv{conv}.{kind}"] = value
    return {"params_ema": renamed}


def long_reach_compact():
    """A Compact model whose output at a pixel depends on input 16 px away (a random one barely
    reaches 4): every layer box-blurs, the last subtracts the blur. Tile borders show unless handled."""
    torch.manual_seed(0)
    model = Compact(num_feat=6, num_conv=16, upscale=4)
    with torch.no_grad():
        for index, layer in enumerate(model.body):
            if isinstance(layer, torch.nn.PReLU):
                layer.weight.fill_(1.0)
                continue
            layer.weight.zero_()
            layer.bias.zero_()
            for out in range(layer.weight.shape[0]):
                if index == len(model.body) - 1:
                    layer.weight[out, (out // 16) % layer.weight.shape[1], 1, 1] = -0.3
                    layer.bias[out] = 0.15
                else:
                    layer.weight[out, out % layer.weight.shape[1]] = 1 / 9
            layer.weight.add_(torch.randn_like(layer.weight) * 0.01)
    return model


def save(folder, state):
    folder.mkdir(parents=True)
    if folder.name.endswith("x2plus"):
        from safetensors.torch import save_file

        path = folder / "RealESRGAN_x2plus.safetensors"
        save_file({k: v.contiguous() for k, v in state["params_ema"].items()}, path)
    else:
        path = folder / f"{folder.name}.pth"
        torch.save(state, path)
    return path


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    return {
        "realesr-general-x4v3": save(root / "realesr-general-x4v3",
                                     {"params": Compact(num_feat=8, num_conv=4, upscale=4).state_dict()}),
        "realesrgan-x4plus": save(root / "realesrgan-x4plus",
                                  release_rrdb(ESRGAN(num_filters=8, num_blocks=1, scale=4))),
        "realesrgan-x2plus": save(root / "realesrgan-x2plus", release_rrdb(
            ESRGAN(in_nc=12, num_filters=8, num_blocks=1, scale=4, shuffle_factor=2))),
        "long-reach": save(root / "long-reach", {"params": long_reach_compact().state_dict()}),
    }


UPSCALERS = ["lanczos", "realesr-general-x4v3", "realesrgan-x4plus", "realesrgan-x2plus"]


@pytest.fixture(scope="module", params=UPSCALERS)
def upscaler(request, weights):
    if request.param == "lanczos":
        return LanczosUpscaler()
    return RealEsrganUpscaler(weights[request.param], device="cpu", **TILING)


def photo(width, height):
    """The astronaut, shrunk: a photo with faces, edges and flat areas."""
    from skimage import data

    return cv2.resize(data.astronaut().astype(np.float32) / 255, (width, height), interpolation=cv2.INTER_AREA)


def gradient(width, height):
    x, y = np.meshgrid(np.linspace(0, 1, width), np.linspace(0, 1, height))
    return np.dstack([x, y, np.full_like(x, 0.5)]).astype(np.float32)


def strips(upscaler, source, out_size, band):
    """The output assembled band by band, each from only the source rows it needs."""
    out_w, out_h = out_size
    parts = []
    for top in range(0, out_h, band):
        window = (0, top, out_w, min(out_h, top + band))
        first, stop = upscaler.needed_source_rows(source.shape[1::-1], out_size, window)
        parts.append(upscaler.upscale_region(source[first:stop], out_size, window,
                                             source_top=first, source_height=source.shape[0]))
    return np.concatenate(parts)


SOURCE = (40, 30)
SIZES = {"x1.3": (52, 39), "x4": (160, 120), "x6.7": (268, 201), "x4.3 by x1.6": (171, 47), "x0.8": (32, 24)}


def test_names_go_into_the_job_record(weights):
    assert LanczosUpscaler().name == "lanczos"
    assert RealEsrganUpscaler(weights["realesrgan-x4plus"]).name == "realesrgan:realesrgan-x4plus"
    assert RealEsrganUpscaler(weights["long-reach"], key="custom").name == "realesrgan:custom"


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_output_has_exactly_the_requested_size(upscaler, size):
    out = upscaler.upscale_region(photo(*SOURCE), size)
    assert out.shape == (size[1], size[0], 3)
    assert out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("size", [SIZES["x6.7"], SIZES["x4.3 by x1.6"], SIZES["x0.8"]], ids=["x6.7", "x4.3-x1.6", "x0.8"])
@pytest.mark.parametrize("band", [1, 7, 50])
def test_a_band_equals_the_same_rows_of_the_whole_image(upscaler, size, band):
    source = photo(*SOURCE)
    whole = upscaler.upscale_region(source, size)
    banded = strips(upscaler, source, size, band)
    if isinstance(upscaler, LanczosUpscaler):
        assert np.array_equal(banded, whole)
    else:
        assert np.abs(banded - whole).max() <= WINDOW_TOLERANCE


def test_any_window_equals_the_same_window_of_the_whole_image(upscaler):
    source, size, window = photo(*SOURCE), SIZES["x6.7"], (37, 101, 190, 140)
    whole = upscaler.upscale_region(source, size)
    part = upscaler.upscale_region(source, size, window)
    left, top, right, bottom = window
    assert np.abs(part - whole[top:bottom, left:right]).max() <= WINDOW_TOLERANCE


def test_same_input_gives_identical_output(upscaler, weights):
    source = photo(*SOURCE)
    first = upscaler.upscale_region(source, SIZES["x4.3 by x1.6"])
    assert np.array_equal(first, upscaler.upscale_region(source.copy(), SIZES["x4.3 by x1.6"]))
    if isinstance(upscaler, RealEsrganUpscaler):  # a fresh instance: nothing cached, loaded again
        again = RealEsrganUpscaler(upscaler.weights, device="cpu", cache_bytes=0, **TILING)
        assert np.array_equal(first, again.upscale_region(source, SIZES["x4.3 by x1.6"]))


def test_progress_rises_to_one(upscaler):
    seen = []
    upscaler.upscale_region(photo(*SOURCE), SIZES["x4"], on_progress=seen.append)
    assert seen and seen[-1] == 1.0
    assert all(0.0 <= a <= b <= 1.0 for a, b in zip(seen, seen[1:]))


def test_progress_is_reported_per_tile(weights):
    upscaler = RealEsrganUpscaler(weights["realesrgan-x4plus"], device="cpu", cache_bytes=0, **TILING)
    seen = []
    upscaler.upscale_region(photo(40, 30), (160, 120), on_progress=seen.append)
    assert len(seen) == 3 * 3 + 1  # 3 x 3 tiles of 16 px (stride 12) on 40 x 30, then the end
    assert seen[:-1] == pytest.approx([i / 10 for i in range(1, 10)])


def test_a_band_missing_rows_it_needs_is_refused(upscaler):
    source, size = photo(*SOURCE), SIZES["x4"]
    window = (0, 60, 160, 80)
    first, stop = upscaler.needed_source_rows(SOURCE, size, window)
    with pytest.raises(InvalidParameter, match="need source rows"):
        upscaler.upscale_region(source[first + 1:stop], size, window, source_top=first + 1, source_height=30)


@pytest.mark.parametrize("window", [(0, 0, 0, 10), (0, 5, 10, 4), (-1, 0, 10, 10), (0, 0, 161, 10)])
def test_a_window_outside_the_output_is_refused(upscaler, window):
    with pytest.raises(InvalidParameter, match="outside"):
        upscaler.upscale_region(photo(*SOURCE), SIZES["x4"], window)


# --- Real-ESRGAN ----------------------------------------------------------------------------------


@pytest.mark.parametrize("image", [gradient, photo], ids=["gradient", "photo"])
@pytest.mark.parametrize("pad, bound", [(16, 1e-5), (4, 1e-3), (0, 0.012)])
def test_tiles_leave_no_seams(weights, image, pad, bound):
    source = image(96, 80)
    untiled = RealEsrganUpscaler(weights["long-reach"], device="cpu", tile=4096).upscale_region(source, (384, 320))
    tiled_upscaler = RealEsrganUpscaler(weights["long-reach"], device="cpu", tile=32, overlap=16, pad=pad)
    tiled = tiled_upscaler.upscale_region(source, (384, 320))
    # Output pixels within 4 px of a tile border (where a tile's missing context shows).
    near = np.zeros((320, 384), bool)
    for span in upscale_tiles.grid(96, 32, 16):
        for edge in span:
            near[:, max(0, edge * 4 - 4): edge * 4 + 4] = True
    for span in upscale_tiles.grid(80, 32, 16):
        for edge in span:
            near[max(0, edge * 4 - 4): edge * 4 + 4, :] = True
    error = np.abs(tiled - untiled).max(axis=2)
    assert error[near].max() <= bound
    assert error.max() <= bound


@given(n=st.integers(1, 400), tile=st.integers(16, 128), overlap=st.integers(1, 64), align=st.sampled_from([1, 2, 4]),
       scale=st.sampled_from([2, 4]))
def test_tile_blend_weights_sum_to_one_everywhere(n, tile, overlap, align, scale):
    """Tiles cover every sample, no sample lies in more than two, the blend weights sum to 1, and
    they cross-fade (a sin^2 over the overlap's middle half: no step steeper than its slope)."""
    overlap = min(overlap, tile // 2)
    tiles = upscale_tiles.grid(n, tile, overlap, align)
    total, count = np.zeros(n * scale), np.zeros(n * scale)
    for i, (start, stop) in enumerate(tiles):
        assert start % align == 0 and stop - start <= max(tile, align)
        weights = upscale_tiles.ramp(tiles, i, scale)
        total[start * scale: stop * scale] += weights
        count[start * scale: stop * scale] += 1
        if len(tiles) > 1:
            blend = upscale_tiles.BLEND_FRACTION * (tiles[0][1] - tiles[1][0]) * scale
            assert np.abs(np.diff(weights)).max() <= np.pi / 2 / blend + 1e-6
    assert count.min() >= 1 and count.max() <= 2
    assert np.allclose(total, 1.0, atol=1e-6)


class Recorder:
    """Wraps a loaded model: records the shape of every batch it runs."""

    def __init__(self, upscaler):
        self.shapes = []
        model = upscaler._loaded()
        real_call = type(model).__call__

        def recording(image):
            self.shapes.append(tuple(image.shape[2:]))
            return real_call(model, image)

        upscaler._model = _Calling(model, recording)


class _Calling:
    def __init__(self, model, call):
        self._inner, self._call = model, call

    def __call__(self, image):
        return self._call(image)

    def __getattr__(self, name):
        return getattr(self._inner, name)


@pytest.mark.parametrize("key, size, shapes", [
    ("realesrgan-x2plus", (160, 120), [(30, 40)]),                # x4 = 2 x the model's x2: one pass
    ("realesrgan-x2plus", (192, 144), [(30, 40), (60, 80)]),      # x4.8: two passes, then Lanczos
    ("realesrgan-x4plus", (320, 240), [(30, 40)]),                # x8: one pass, then Lanczos x2
    ("realesrgan-x4plus", (328, 246), [(30, 40), (120, 160)]),    # x8.2: two passes, then shrink
])
def test_the_model_runs_once_or_twice_by_the_enlargement(weights, key, size, shapes):
    upscaler = RealEsrganUpscaler(weights[key], device="cpu", tile=4096)
    recorder = Recorder(upscaler)
    out = upscaler.upscale_region(photo(40, 30), size)
    assert recorder.shapes == shapes
    assert out.shape == (size[1], size[0], 3)


def test_bands_reuse_the_tiles_they_share(weights):
    cached = RealEsrganUpscaler(weights["realesrgan-x4plus"], device="cpu", **TILING)
    uncached = RealEsrganUpscaler(weights["realesrgan-x4plus"], device="cpu", cache_bytes=0, **TILING)
    calls = {}
    for name, upscaler in [("cached", cached), ("uncached", uncached)]:
        recorder = Recorder(upscaler)
        banded = strips(upscaler, photo(40, 30), (160, 120), 10)
        calls[name] = len(recorder.shapes)
        assert np.array_equal(banded, uncached.upscale_region(photo(40, 30), (160, 120)))
    assert calls["cached"] == 9  # each of the 3 x 3 tiles once
    assert calls["uncached"] > 2 * calls["cached"]


def test_loads_once_on_the_cpu_in_float32(weights, monkeypatch):
    loads = []
    real = spandrel.ModelLoader.load_from_file
    monkeypatch.setattr(spandrel.ModelLoader, "load_from_file", lambda self, path: loads.append(path) or real(self, path))
    upscaler = RealEsrganUpscaler(weights["realesr-general-x4v3"], device="cpu")
    assert loads == []  # nothing heavy at construction
    for _ in range(2):
        upscaler.upscale_region(photo(20, 16), (80, 64))
    assert len(loads) == 1
    assert upscaler.device == "cpu" and upscaler._model.dtype == torch.float32


def test_the_full_size_general_x4v3_architecture_loads(tmp_path):
    torch.manual_seed(0)
    path = save(tmp_path / "realesr-general-x4v3", {"params": Compact(num_feat=64, num_conv=32, upscale=4).state_dict()})
    upscaler = RealEsrganUpscaler(path, device="cpu")
    out = upscaler.upscale_region(photo(24, 20), (100, 83))
    assert out.shape == (83, 100, 3)
    assert upscaler.scale == 4 and set(upscaler._model.tags) >= {"64nf", "32nc"}


def test_missing_weights_say_how_to_get_them(tmp_path):
    with pytest.raises(UpscaleFailed, match="rilievo models pull realesrgan-x4plus"):
        RealEsrganUpscaler(tmp_path / "realesrgan-x4plus" / "RealESRGAN_x4plus.pth")


def test_a_file_that_is_no_model_fails_cleanly(tmp_path):
    path = tmp_path / "broken" / "weights.pth"
    path.parent.mkdir()
    torch.save({"something.else": torch.zeros(3)}, path)
    with pytest.raises(UpscaleFailed, match="cannot load"):
        RealEsrganUpscaler(path, device="cpu").upscale_region(photo(20, 16), (80, 64))


# --- Lanczos ---------------------------------------------------------------------------------------


def test_lanczos_at_one_to_one_returns_the_image_unchanged():
    source = photo(*SOURCE)
    assert np.array_equal(LanczosUpscaler().upscale_region(source, SOURCE), source)


def test_lanczos_shrinking_antialiases():
    checker = np.indices((64, 64)).sum(axis=0) % 2
    source = np.repeat(checker[..., None], 3, axis=2).astype(np.float32)
    out = LanczosUpscaler().upscale_region(source, (16, 16))
    assert np.abs(out - 0.5).max() < 0.02  # a pixel-wide pattern cannot survive a 4x shrink


def high_frequency_energy(image):
    luma = image.mean(axis=2)
    return float(np.mean((luma - cv2.GaussianBlur(luma, (0, 0), 2.0)) ** 2))


def test_lanczos_sharpening_adds_detail():
    source = photo(64, 64)
    plain = LanczosUpscaler(sharpening=0).upscale_region(source, (256, 256))
    sharp = LanczosUpscaler().upscale_region(source, (256, 256))
    assert high_frequency_energy(sharp) > 1.3 * high_frequency_energy(plain)
    assert np.abs(sharp.mean() - plain.mean()) < 0.01  # detail, not a change of brightness


@pytest.mark.parametrize("low, high", [(0.2, 0.8), (0.0, 1.0)])
def test_lanczos_sharpening_makes_no_halos(low, high):
    source = np.full((24, 24, 3), low, np.float32)
    source[:, 12:] = high
    source[6:10, 4:8] = high  # a small bright square too
    plain = LanczosUpscaler(sharpening=0).upscale_region(source, (96, 96))
    sharp = LanczosUpscaler(sharpening=2).upscale_region(source, (96, 96))
    assert np.abs(np.diff(sharp[48], axis=0)).max() > np.abs(np.diff(plain[48], axis=0)).max()  # steeper edge
    assert sharp.min() >= plain.min() - 1e-6 and sharp.max() <= plain.max() + 1e-6  # no ring beyond the plain one
    assert sharp.min() >= 0.0 and sharp.max() <= 1.0


@pytest.mark.parametrize("in_size, out_size", [((160, 120), (171, 47)), ((160, 120), (20, 300)),
                                               ((200, 90), (28, 180)), ((37, 53), (112, 263)),
                                               ((64, 64), (128, 9)), ((64, 64), (32, 64))])
def test_the_resample_reads_no_more_than_the_source_it_asks_for(in_size, out_size):
    """libvips' reach, shrinking on one axis while enlarging on the other included: a window made from
    only resample_source's rectangle equals the same window of the whole resample."""
    from rilievo.adapters.upscale_resample import resample_region, resample_source

    source = np.random.default_rng(0).random((in_size[1], in_size[0], 3), dtype=np.float32)
    whole = resample_region(source, (0, 0), in_size, out_size, (0, 0, *out_size))
    for region in [(0, 3, out_size[0], 5), (4, 0, 6, out_size[1]), (1, 1, 3, 4)]:
        x0, y0, x1, y1 = resample_source(in_size, out_size, region)
        part = resample_region(source[y0:y1, x0:x1], (x0, y0), in_size, out_size, region)
        assert np.array_equal(part, whole[region[1]:region[3], region[0]:region[2]])


@pytest.mark.parametrize("channels", [1, 2, 4])
def test_the_resampler_resizes_any_number_of_channels_like_three(channels):
    """A pane's alpha and fill mask go through as two channels: each channel comes out as it would in
    an RGB resize, and the sharpening upscaler (an unsharp mask on luminance) still takes RGB only."""
    source = np.random.default_rng(1).random((40, 30, channels), dtype=np.float32)
    padded = np.concatenate([source, np.zeros((40, 30, 3), np.float32)], axis=2)
    resampler = LanczosUpscaler(sharpening=0)
    out = resampler.upscale_region(source, (90, 120), (5, 10, 60, 50))
    as_rgb = [resampler.upscale_region(padded[..., c : c + 3], (90, 120), (5, 10, 60, 50))[..., 0]
              for c in range(channels)]
    np.testing.assert_array_equal(out, np.stack(as_rgb, axis=-1))
    with pytest.raises(InvalidParameter, match="HxWx3"):
        LanczosUpscaler().upscale_region(source, (90, 120))


def test_the_output_is_a_writable_array_of_its_own():
    out = LanczosUpscaler().upscale_region(photo(*SOURCE), (SOURCE[0] * 2, SOURCE[1] * 2))
    out[0, 0] = 0.5  # the print export fills bands in place
    assert out.flags.writeable and out[0, 0, 0] == 0.5


@pytest.mark.parametrize("in_size, out_size", [((60, 40), (900, 600)), ((120, 40), (50, 90)), ((60, 40), (60, 40))])
def test_the_resampler_computes_only_columns_with_input_and_still_equals_the_whole_resize(in_size, out_size,
                                                                                          monkeypatch):
    """A pane's alpha is zero over much of the print: those columns come out as exact zeros without being
    resized, and every pixel equals the same pixel of the plain resize of the whole."""
    from rilievo.adapters import upscale
    from rilievo.adapters.upscale_resample import resample_region

    source = np.zeros((in_size[1], in_size[0], 2), np.float32)
    source[5:30, 20:31] = np.random.default_rng(2).random((25, 11, 2), dtype=np.float32)
    whole_resize = resample_region(source, (0, 0), in_size, out_size, (0, 0, *out_size))
    widths = []
    monkeypatch.setattr(upscale, "to_array", lambda image: widths.append(image.width) or to_array(image))
    resampler = LanczosUpscaler(sharpening=0)
    for band in [(0, 0, out_size[0], out_size[1] // 3), (3, out_size[1] // 3, out_size[0] - 2, out_size[1])]:
        first, last = resampler.needed_source_rows(in_size, out_size, band)
        out = resampler.upscale_region(source[first:last], out_size, band, source_top=first,
                                       source_height=in_size[1])
        np.testing.assert_array_equal(out, whole_resize[band[1] : band[3], band[0] : band[2]])
    assert max(widths) < 0.75 * out_size[0]  # the zero columns were not resized
