"""The filesystem store: originals kept byte for byte, job files published whole or not at all."""

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rilievo.adapters.fs_store import FilesystemJobFiles, FilesystemUploads, StorageFailed
from rilievo.adapters.image_io import read_png
from rilievo.domain.errors import UploadNotFound
from tests.fakes import decoded


def listing(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def test_an_upload_keeps_the_original_bytes_and_its_record(tmp_path):
    source = tmp_path / "holiday photo.png"
    source.write_bytes(b"\x89PNG pretend bytes")
    uploads = FilesystemUploads(tmp_path / "storage")
    upload = uploads.save(source, decoded(np.zeros((4, 6, 3), np.float32)))
    assert uploads.original_path(upload.id).read_bytes() == source.read_bytes()
    assert uploads.original_path(upload.id).name == "original.png"
    assert uploads.get(upload.id) == upload
    assert (upload.width, upload.height, upload.original_name) == (6, 4, "holiday photo.png")
    assert listing(tmp_path / "storage") == ["uploads", f"uploads/{upload.id}",
                                             f"uploads/{upload.id}/original.png",
                                             f"uploads/{upload.id}/upload.json"]


def test_a_failed_upload_leaves_nothing_behind(tmp_path):
    uploads = FilesystemUploads(tmp_path / "storage")
    with pytest.raises(FileNotFoundError):
        uploads.save(tmp_path / "missing.png", decoded(np.zeros((4, 6, 3), np.float32)))
    assert listing(tmp_path / "storage" / "uploads") == []


@pytest.mark.parametrize("upload_id", ["missing", "../../etc", ""])
def test_unknown_or_malformed_upload_ids_are_not_found(tmp_path, upload_id):
    with pytest.raises(UploadNotFound):
        FilesystemUploads(tmp_path).get(upload_id)


def test_job_files_appear_in_the_destination_only_when_published(tmp_path):
    files = FilesystemJobFiles(tmp_path / "storage")
    rgba = np.random.default_rng(0).random((5, 7, 4)).astype(np.float32)
    files.write_image("job1", "Layer_1_front.png", rgba, 16)
    files.write_json("job1", "layer_manifest.json", {"layer_count": 1})
    assert not (tmp_path / "storage" / "outputs").exists()
    folder = files.publish("job1")
    assert folder == (tmp_path / "storage" / "outputs" / "job1").resolve()
    assert sorted(p.name for p in folder.iterdir()) == ["Layer_1_front.png", "layer_manifest.json"]
    np.testing.assert_allclose(read_png(folder / "Layer_1_front.png"), rgba, atol=1 / 65535)
    assert json.loads((folder / "layer_manifest.json").read_text()) == {"layer_count": 1}
    assert not (tmp_path / "storage" / "jobs" / "job1").exists()


def test_publishing_to_a_chosen_folder(tmp_path):
    files = FilesystemJobFiles(tmp_path / "storage")
    files.write_json("job2", "params.json", {})
    assert files.publish("job2", tmp_path / "prints") == (tmp_path / "prints" / "job2").resolve()


def test_publishing_never_overwrites_an_existing_folder(tmp_path):
    files = FilesystemJobFiles(tmp_path / "storage")
    (tmp_path / "prints" / "job3").mkdir(parents=True)
    files.write_json("job3", "params.json", {})
    with pytest.raises(StorageFailed):
        files.publish("job3", tmp_path / "prints")


def test_discarding_removes_an_unfinished_job(tmp_path):
    files = FilesystemJobFiles(tmp_path / "storage")
    files.write_json("job4", "params.json", {})
    files.discard("job4")
    assert not (tmp_path / "storage" / "jobs" / "job4").exists()


def test_text_files_are_written_whole_in_utf8(tmp_path):
    files = FilesystemJobFiles(tmp_path / "storage")
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><title>Étage 1 – front</title></svg>\n'
    files.write_text("job5", "Layer_1_front.svg", svg)
    folder = tmp_path / "storage" / "jobs" / "job5"
    assert (folder / "Layer_1_front.svg").read_bytes() == svg.encode("utf-8")
    assert listing(folder) == ["Layer_1_front.svg"]


def sway_frames(count=6, size=(40, 64)):
    """Distinct frames: a bright bar moving across a gradient."""
    frames = []
    for index in range(count):
        frame = np.repeat(np.linspace(0.1, 0.6, size[1], dtype=np.float32)[None, :, None], size[0], 0)
        frame = np.repeat(frame, 3, axis=2)
        frame[:, 5 + 8 * index : 11 + 8 * index] = (1.0, 0.8, 0.2)
        frames.append(frame)
    return frames


@pytest.mark.parametrize("name", ["parallax_preview.gif", "parallax_preview.webp"])
def test_animations_loop_forever_with_every_frame(tmp_path, name):
    files = FilesystemJobFiles(tmp_path / "storage")
    files.write_animation("job6", name, sway_frames(), frame_ms=80)
    folder = tmp_path / "storage" / "jobs" / "job6"
    assert listing(folder) == [name]
    with Image.open(folder / name) as animation:
        assert animation.format == ("GIF" if name.endswith(".gif") else "WEBP")
        assert animation.n_frames == 6 and animation.is_animated
        assert animation.info["loop"] == 0
        assert animation.size == (64, 40)
        animation.seek(3)
        pixels = np.asarray(animation.convert("RGB"), dtype=np.float32) / 255
    # The frame itself, as far as a palette (GIF) or lossy compression (WebP) keeps it.
    assert np.abs(pixels - sway_frames()[3]).mean() < 0.03


@pytest.mark.parametrize("name", ["preview.png", "preview.mp4", "preview"])
def test_only_gif_and_webp_animations_are_written(tmp_path, name):
    files = FilesystemJobFiles(tmp_path / "storage")
    with pytest.raises(ValueError, match=".gif or .webp"):
        files.write_animation("job7", name, sway_frames(), frame_ms=80)
    assert not (tmp_path / "storage" / "jobs" / "job7").exists()


@pytest.mark.parametrize("name", ["parallax_preview.gif", "parallax_preview.webp"])
def test_a_failed_animation_leaves_the_previous_file_and_no_debris(tmp_path, name):
    files = FilesystemJobFiles(tmp_path / "storage")
    files.write_animation("job8", name, sway_frames(), frame_ms=80)
    folder = tmp_path / "storage" / "jobs" / "job8"
    before = (folder / name).read_bytes()
    frames = sway_frames()
    frames[4] = frames[4][:, :32]  # one frame of another size
    with pytest.raises(ValueError):
        files.write_animation("job8", name, frames, frame_ms=80)
    with pytest.raises(ValueError):
        files.write_animation("job8", name, [], frame_ms=80)
    assert listing(folder) == [name]
    assert (folder / name).read_bytes() == before


class FramesOnDemand(Sequence):
    """Frames made when asked for (as the parallax preview's are), recording the order asked in."""

    def __init__(self, frames):
        self.frames, self.asked = frames, []

    def __len__(self):
        return len(self.frames)

    def __getitem__(self, index):
        self.asked.append(index)
        return self.frames[index].copy()


@pytest.mark.parametrize("count", [1, 3, 6, 24])
def test_frames_made_on_demand_are_asked_for_once_each_and_give_the_same_file_as_a_list(tmp_path, count):
    files = FilesystemJobFiles(tmp_path / "storage")
    frames = sway_frames(count, size=(40, 8 * count + 16))
    on_demand = FramesOnDemand(frames)
    files.write_animation("job9", "listed.gif", frames, frame_ms=80)
    files.write_animation("job9", "on_demand.gif", on_demand, frame_ms=80)
    folder = tmp_path / "storage" / "jobs" / "job9"
    assert (folder / "on_demand.gif").read_bytes() == (folder / "listed.gif").read_bytes()
    assert sorted(on_demand.asked) == list(range(count))


GIF_MEMORY_PROBE = r"""
import resource, sys
import numpy as np
from rilievo.adapters.fs_store import _encode_animation

class Frames:  # 48 frames of 1,000 x 1,000, made when asked for: 144 MB as 8-bit RGB, 4 MB each as PIL holds them
    def __len__(self):
        return 48
    def __getitem__(self, index):
        if index >= 48:
            raise IndexError(index)
        frame = np.empty((1000, 1000, 3), np.float32)
        frame[:] = np.linspace(0, 1, 1000, dtype=np.float32)[None, :, None]
        frame[:, 10 * index : 10 * index + 100] = (1.0, 0.8, 0.2)
        return frame

_encode_animation([Frames()[0]], 80, ".gif")  # everything imported and warm
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
_encode_animation(Frames(), 80, ".gif")
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_a_gif_holds_only_its_palettes_frames_in_rgb(tmp_path):
    """The other frames take the palette as they come (a third of RGB's size as PIL holds them): 48
    frames of 1,000 x 1,000 held in RGB grew the peak by 250 MiB, taking the palette as they come 77."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", GIF_MEMORY_PROBE], capture_output=True, text=True, check=True)
    growth_mib = int(done.stdout.strip())
    assert growth_mib < 120, f"a GIF of 48 frames of 1,000 x 1,000 grew the peak memory by {growth_mib} MiB"


def gif_frames(path: Path) -> np.ndarray:
    with Image.open(path) as animation:
        frames = []
        for index in range(animation.n_frames):
            animation.seek(index)
            frames.append(np.asarray(animation.convert("RGB"), dtype=np.int16))
    return np.stack(frames)


def test_a_large_gifs_palette_from_every_other_pixel_keeps_its_colours_and_its_still_parts(tmp_path):
    """Frames over PALETTE_SUBSAMPLED_PX give the palette every other pixel across and down: the colours
    stay as near as a palette from every pixel keeps them (2.88 levels on average, 20 at most, here),
    and what does not move is the same in every frame."""
    rows, columns = np.mgrid[0:300, 0:400].astype(np.float32)
    still = np.stack([rows / 300, columns / 400, np.full_like(rows, 0.5)], axis=-1)
    frames = []
    for index in range(8):
        frame = still.copy()
        frame[100:160, 20 + 30 * index : 60 + 30 * index] = (1.0, 0.8, 0.2)  # a patch sliding right
        frames.append(frame)
    files = FilesystemJobFiles(tmp_path / "storage")
    files.write_animation("job10", "parallax_preview.gif", frames, frame_ms=80)
    written = gif_frames(tmp_path / "storage" / "jobs" / "job10" / "parallax_preview.gif")
    wanted = np.rint(np.stack(frames) * 255).astype(np.int16)
    assert np.abs(written - wanted).mean() < 3.0
    assert np.abs(written - wanted).max() <= 20
    assert (written[:, 200:] == written[0, 200:]).all()  # below the patch nothing shimmers
    for index, frame in enumerate(written):  # the patch's colour wherever it is
        assert (np.abs(frame[100:160, 20 + 30 * index : 60 + 30 * index] - (255, 204, 51)) <= 8).all()


def test_a_small_gifs_palette_keeps_every_colour_of_its_frames(tmp_path):
    """A colour on every other pixel alone is not lost: small frames give the palette every pixel."""
    frame = np.full((40, 64, 3), 0.2, np.float32)
    frame[1::2, 1::2] = (0.9, 0.1, 0.3)
    files = FilesystemJobFiles(tmp_path / "storage")
    files.write_animation("job11", "parallax_preview.gif", [frame, frame], frame_ms=80)
    written = gif_frames(tmp_path / "storage" / "jobs" / "job11" / "parallax_preview.gif")
    assert (written == np.rint(frame * 255).astype(np.int16)).all()
