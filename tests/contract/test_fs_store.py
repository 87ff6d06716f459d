"""The filesystem store: originals kept byte for byte, job files published whole or not at all."""

import json
from pathlib import Path

import numpy as np
import pytest

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
