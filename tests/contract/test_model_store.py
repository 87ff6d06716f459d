"""The model catalogue and the local model store, with a fake downloader (no network here)."""

import hashlib
import json
import os
import urllib.error
from pathlib import Path

import pytest

from rilievo.adapters import model_store
from rilievo.adapters.model_store import (
    CATALOGUE,
    DEFAULT_PULL,
    KINDS,
    ModelDownloadFailed,
    ModelsOffline,
    ModelStore,
    ModelStoreError,
    UnknownModel,
    hub_cache_of,
)

WEIGHTS = b"pretend weights " * 64


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fake_files(spec, folder, weights=WEIGHTS):
    """What a download of spec would leave in folder: every required pattern satisfied."""
    for pattern in spec.required:
        name = pattern.split("|")[0].replace("*", "model")
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith((".safetensors", ".bin", ".pth")):
            path.write_bytes(weights)
        else:
            path.write_text("{}")


class FakeDownloader:
    """Writes the files of a model, reporting progress; optionally fails halfway through."""

    def __init__(self, fail_with=None, weights=WEIGHTS, etag=None):
        self.fail_with, self.weights, self.etag = fail_with, weights, etag
        self.calls = []

    def __call__(self, spec, destination, progress):
        self.calls.append((spec.key, destination))
        assert destination.is_dir() and not any(destination.iterdir())
        progress(0, len(self.weights))
        fake_files(spec, destination, self.weights)
        if self.etag is not None:
            meta = destination / ".cache/huggingface/download/model.safetensors.metadata"
            meta.parent.mkdir(parents=True)
            meta.write_text(f"0123abcd\n{self.etag}\n1700000000.0\n")
        if self.fail_with is not None:
            raise self.fail_with
        progress(len(self.weights), len(self.weights))


def pinned(store, key, data):
    """A store whose catalogue pins key's release file to data's hash."""
    import attrs

    catalogue = tuple(attrs.evolve(spec, sha256=sha(data)) if spec.key == key else spec for spec in CATALOGUE)
    return ModelStore(store.models_dir, downloader=store._downloader, catalogue=catalogue)


def hub_snapshot(hub, spec, *, revision="1" * 40, weights=WEIGHTS, main=True, damaged=False, links=True):
    """spec's files in the Hugging Face cache hub, as huggingface_hub leaves them (see in_hub_cache)."""
    snapshot = hub / ("models--" + spec.source.replace("/", "--")) / "snapshots" / revision
    fake_files(spec, snapshot, weights)
    return in_hub_cache(snapshot, main=main, damaged=damaged, links=links)


def in_hub_cache(snapshot, *, main=True, damaged=False, links=True):
    """Turn the files in snapshot (models--org--name/snapshots/<revision>/) into what huggingface_hub
    leaves: links to blobs/, a weight file's blob named by its sha256 (LFS), a small file's by a git
    hash; refs/main names the revision. damaged: the weight blobs' bytes no longer match their names.
    links=False: plain copies, as where links are not available."""
    repo = snapshot.parents[1]
    blobs = repo / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    for path in sorted(path for path in snapshot.rglob("*") if path.is_file()):
        data = path.read_bytes()
        weight = path.suffix in model_store.WEIGHT_SUFFIXES
        blob = blobs / (sha(data) if weight else hashlib.sha1(data).hexdigest())
        blob.write_bytes(b"bit rot " + data if weight and damaged else data)
        if links:
            path.unlink()
            path.symlink_to(os.path.relpath(blob, path.parent))
    if main:
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / "main").write_text(snapshot.name)
    return snapshot


def tree(folder):
    return sorted((str(path.relative_to(folder)), path.is_symlink()) for path in folder.rglob("*"))


# --- catalogue ------------------------------------------------------------------------------------


def test_catalogue_keys_are_unique_and_kinds_known():
    keys = [spec.key for spec in CATALOGUE]
    assert len(keys) == len(set(keys))
    assert all(spec.kind in KINDS for spec in CATALOGUE)
    assert all(spec.required and spec.download_bytes > 0 and spec.licence for spec in CATALOGUE)


def test_the_default_depth_model_is_depth_anything_small_and_commercially_usable():
    defaults = [spec for spec in CATALOGUE if spec.default and spec.kind == "depth"]
    assert [spec.key for spec in defaults] == ["depth-anything-v2-small"]
    assert defaults[0].source == "depth-anything/Depth-Anything-V2-Small-hf"
    assert defaults[0].licence == "Apache-2.0"
    assert not any("base" in spec.source.lower() or "large" in spec.source.lower() for spec in CATALOGUE)


def test_default_pull_set():
    assert DEFAULT_PULL == (
        "depth-anything-v2-small", "eomt-small-coco-panoptic", "sd15", "controlnet-depth", "controlnet-canny",
        "realesr-general-x4v3",
    )


def test_the_segmentation_model_is_eomt_small_panoptic_and_commercially_usable():
    segmentation = [spec for spec in CATALOGUE if spec.kind == "segmentation"]
    assert [spec.key for spec in segmentation] == ["eomt-small-coco-panoptic"]
    assert segmentation[0].source == "tue-mps/coco_panoptic_eomt_small_640_2x"
    assert segmentation[0].licence == "MIT" and segmentation[0].default
    assert not any("mask2former" in spec.source.lower() for spec in CATALOGUE)  # CC-BY-NC-4.0 weights


def test_the_segmentation_repos_original_pytorch_checkpoint_does_not_count_as_installed(tmp_path):
    """The hub repo also holds the original EoMT code's pytorch_model.bin, which transformers cannot load."""
    store = ModelStore(tmp_path)
    folder = store.folder("eomt-small-coco-panoptic")
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "pytorch_model.bin").write_bytes(WEIGHTS)
    assert not store.is_installed("eomt-small-coco-panoptic")
    (folder / "model.safetensors").write_bytes(WEIGHTS)
    assert store.is_installed("eomt-small-coco-panoptic")


def test_release_files_are_pinned_and_hub_repos_fetch_only_what_is_needed():
    for spec in CATALOGUE:
        if spec.from_hub:
            assert spec.patterns and spec.sha256 is None
            assert not any("fp16" in p or "onnx" in p or "flax" in p or p.endswith(".bin") for p in spec.patterns)
        else:
            assert spec.source.startswith("https://github.com/xinntao/Real-ESRGAN/releases/download/")
            assert len(spec.sha256) == 64 and spec.required == (spec.filename,)


def test_unknown_key_names_the_known_ones(tmp_path):
    with pytest.raises(UnknownModel, match="depth-anything-v2-small"):
        ModelStore(tmp_path).spec("depth-anything-v2-large")


# --- what is installed ----------------------------------------------------------------------------


def test_nothing_is_installed_in_an_empty_folder(tmp_path):
    store = ModelStore(tmp_path / "models")
    assert store.installed() == []
    assert store.disk_bytes("sd15") == 0 and store.weight_hashes("sd15") == {}


def test_a_complete_folder_is_installed_and_an_incomplete_one_is_not(tmp_path):
    store = ModelStore(tmp_path)
    for spec in CATALOGUE:
        fake_files(spec, store.folder(spec.key))
    assert store.installed() == [spec.key for spec in CATALOGUE]
    (store.folder("sd15") / "unet/model.safetensors").unlink()  # the name fake_files gives it
    assert not store.is_installed("sd15")
    assert store.missing("sd15") == ["unet/*.safetensors|unet/*.bin"]
    (store.folder("depth-anything-v2-small") / "config.json").unlink()
    assert not store.is_installed("depth-anything-v2-small")


def test_a_transformers_folder_with_bin_weights_counts_as_installed(tmp_path):
    store = ModelStore(tmp_path)
    folder = store.folder("dpt-hybrid-midas")
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "pytorch_model.bin").write_bytes(WEIGHTS)
    assert store.is_installed("dpt-hybrid-midas")


def test_locations(tmp_path):
    store = ModelStore(tmp_path)
    assert store.location("sd15") == tmp_path / "sd15"
    assert store.location("realesr-general-x4v3") == tmp_path / "realesr-general-x4v3/realesr-general-x4v3.pth"


def test_disk_size_counts_the_model_files(tmp_path):
    store = ModelStore(tmp_path)
    fake_files(store.spec("controlnet-canny"), store.folder("controlnet-canny"))
    assert store.disk_bytes("controlnet-canny") == len(WEIGHTS) + len("{}")


def test_weight_hashes_are_sha256_and_cached_by_size_and_mtime(tmp_path, monkeypatch):
    store = ModelStore(tmp_path)
    fake_files(store.spec("sd15"), store.folder("sd15"))
    hashes = store.weight_hashes("sd15")
    assert hashes == {
        "text_encoder/model.safetensors": sha(WEIGHTS),
        "unet/model.safetensors": sha(WEIGHTS),
        "vae/model.safetensors": sha(WEIGHTS),
    }
    assert json.loads((store.folder("sd15") / ".rilievo-sha256.json").read_text()).keys() == hashes.keys()

    hashed = []
    real = model_store.sha256_of
    monkeypatch.setattr(model_store, "sha256_of", lambda path: hashed.append(path) or real(path))
    assert store.weight_hashes("sd15") == hashes
    assert hashed == []  # all from the cache

    unet = store.folder("sd15") / "unet/model.safetensors"
    unet.write_bytes(b"other")
    os.utime(unet, ns=(1, 1))
    assert store.weight_hashes("sd15")["unet/model.safetensors"] == sha(b"other")
    assert hashed == [unet]


# --- the Hugging Face cache -----------------------------------------------------------------------


def test_the_hub_cache_is_where_huggingface_hub_keeps_it(tmp_path):
    assert hub_cache_of({"HF_HUB_CACHE": "/a/hub", "HF_HOME": "/b"}) == Path("/a/hub")
    assert hub_cache_of({"HF_HOME": "/b"}) == Path("/b/hub")
    assert hub_cache_of({"XDG_CACHE_HOME": "/c"}) == Path("/c/huggingface/hub")
    assert hub_cache_of({}) == Path("~/.cache/huggingface/hub").expanduser()


def test_a_model_complete_in_the_hub_cache_is_installed_from_there(tmp_path):
    spec = model_store.ModelStore(tmp_path).spec("depth-anything-v2-small")
    snapshot = hub_snapshot(tmp_path / "hub", spec)
    store = ModelStore(tmp_path / "models", hub_cache=tmp_path / "hub")
    assert store.installed() == ["depth-anything-v2-small"]
    assert store.installed_from("depth-anything-v2-small") == "hub-cache"
    assert store.folder("depth-anything-v2-small") == store.location("depth-anything-v2-small") == snapshot
    assert store.disk_bytes("depth-anything-v2-small") == len(WEIGHTS) + len("{}")
    assert store.installed_from("dpt-hybrid-midas") is None


def test_the_hub_cache_is_not_looked_at_unless_given(tmp_path):
    hub_snapshot(tmp_path / "hub", ModelStore(tmp_path).spec("depth-anything-v2-small"))
    assert ModelStore(tmp_path / "models").installed() == []


def test_an_incomplete_snapshot_is_not_installed(tmp_path):
    spec = ModelStore(tmp_path).spec("sd15")
    snapshot = hub_snapshot(tmp_path / "hub", spec)
    (snapshot / "unet/model.safetensors").resolve().unlink()  # a blob still downloading: the link is dangling
    store = ModelStore(tmp_path / "models", hub_cache=tmp_path / "hub")
    assert not store.is_installed("sd15") and store.folder("sd15") == tmp_path / "models" / "sd15"


def test_the_revision_of_refs_main_is_preferred_to_a_newer_one(tmp_path):
    spec = ModelStore(tmp_path).spec("dpt-hybrid-midas")
    main = hub_snapshot(tmp_path / "hub", spec, revision="a" * 40)
    hub_snapshot(tmp_path / "hub", spec, revision="b" * 40, main=False)
    assert ModelStore(tmp_path / "models", hub_cache=tmp_path / "hub").folder("dpt-hybrid-midas") == main


def test_a_copy_in_the_models_folder_wins_over_the_hub_cache(tmp_path):
    store = ModelStore(tmp_path / "models", hub_cache=tmp_path / "hub")
    hub_snapshot(tmp_path / "hub", store.spec("controlnet-canny"))
    fake_files(store.spec("controlnet-canny"), tmp_path / "models" / "controlnet-canny")
    assert store.installed_from("controlnet-canny") == "models"
    assert store.folder("controlnet-canny") == tmp_path / "models" / "controlnet-canny"


def test_release_files_are_never_looked_for_in_the_hub_cache(tmp_path):
    store = ModelStore(tmp_path / "models", hub_cache=tmp_path / "hub")
    assert store.cached_snapshot("realesr-general-x4v3") is None


def test_pull_of_a_cached_model_verifies_it_and_downloads_nothing(tmp_path):
    downloader = FakeDownloader()
    store = ModelStore(tmp_path / "models", hub_cache=tmp_path / "hub", downloader=downloader)
    snapshot = hub_snapshot(tmp_path / "hub", store.spec("sd15"))
    before = tree(tmp_path / "hub")
    assert store.pull("sd15") == snapshot
    assert downloader.calls == []
    assert tree(tmp_path / "hub") == before  # nothing written into the user's cache
    assert store.weight_hashes("sd15") == {name: sha(WEIGHTS) for name in (
        "text_encoder/model.safetensors", "unet/model.safetensors", "vae/model.safetensors")}
    assert not (tmp_path / "models" / "sd15").exists()


def test_pull_downloads_a_good_copy_when_the_cached_one_is_damaged(tmp_path):
    downloader = FakeDownloader()
    store = ModelStore(tmp_path / "models", hub_cache=tmp_path / "hub", downloader=downloader)
    hub_snapshot(tmp_path / "hub", store.spec("controlnet-depth"), damaged=True)
    assert store.installed_from("controlnet-depth") == "hub-cache"
    with pytest.raises(ModelStoreError, match="controlnet-depth in the Hugging Face cache .* is damaged"):
        store.weight_hashes("controlnet-depth")  # a job's record refuses it too
    assert store.pull("controlnet-depth") == tmp_path / "models" / "controlnet-depth"
    assert [key for key, _ in downloader.calls] == ["controlnet-depth"]
    assert store.installed_from("controlnet-depth") == "models"


def test_pull_downloads_when_the_cached_weights_cannot_be_checked(tmp_path):
    downloader = FakeDownloader()
    store = ModelStore(tmp_path / "models", hub_cache=tmp_path / "hub", downloader=downloader)
    hub_snapshot(tmp_path / "hub", store.spec("dpt-hybrid-midas"), links=False)  # plain copies: no blob names
    store.pull("dpt-hybrid-midas")
    assert [key for key, _ in downloader.calls] == ["dpt-hybrid-midas"]


# --- pull -----------------------------------------------------------------------------------------


def test_pull_installs_the_model_and_reports_progress(tmp_path):
    downloader = FakeDownloader()
    store = ModelStore(tmp_path / "models", downloader=downloader)
    seen = []
    path = store.pull("depth-anything-v2-small", progress=lambda *event: seen.append(event))
    assert path == tmp_path / "models/depth-anything-v2-small"
    assert store.is_installed("depth-anything-v2-small")
    assert seen == [("depth-anything-v2-small", 0, len(WEIGHTS)),
                    ("depth-anything-v2-small", len(WEIGHTS), len(WEIGHTS))]
    assert store.weight_hashes("depth-anything-v2-small") == {"model.safetensors": sha(WEIGHTS)}
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["depth-anything-v2-small"]
    assert downloader.calls[0][1].parent.name == ".partial"  # written aside, then renamed


def test_pull_of_a_release_file_checks_the_pinned_sha256(tmp_path):
    store = pinned(ModelStore(tmp_path, downloader=FakeDownloader()), "realesr-general-x4v3", WEIGHTS)
    path = store.pull("realesr-general-x4v3")
    assert path.read_bytes() == WEIGHTS


def test_a_release_file_with_the_wrong_hash_is_refused_and_leaves_nothing(tmp_path):
    store = ModelStore(tmp_path, downloader=FakeDownloader())  # the real pins: fake bytes differ
    with pytest.raises(ModelDownloadFailed, match="sha256"):
        store.pull("realesr-general-x4v3")
    assert list(tmp_path.iterdir()) == []


def test_hub_weights_that_differ_from_the_hub_etag_are_refused(tmp_path):
    store = ModelStore(tmp_path, downloader=FakeDownloader(etag="0" * 64))
    with pytest.raises(ModelDownloadFailed, match="hub says"):
        store.pull("depth-anything-v2-small")
    assert list(tmp_path.iterdir()) == []


def test_hub_weights_matching_the_etag_pass(tmp_path):
    store = ModelStore(tmp_path, downloader=FakeDownloader(etag=f'"{sha(WEIGHTS)}"'))
    store.pull("depth-anything-v2-small")
    assert store.is_installed("depth-anything-v2-small")


def test_a_failed_download_leaves_nothing_and_keeps_the_old_copy(tmp_path):
    ModelStore(tmp_path, downloader=FakeDownloader(weights=b"old")).pull("controlnet-depth")
    store = ModelStore(tmp_path, downloader=FakeDownloader(fail_with=RuntimeError("disk on fire")))
    with pytest.raises(ModelDownloadFailed, match="disk on fire"):
        store.pull("controlnet-depth")
    assert [p.name for p in tmp_path.iterdir()] == ["controlnet-depth"]
    assert (tmp_path / "controlnet-depth/model.safetensors").read_bytes() == b"old"


def test_an_interrupted_download_leaves_nothing(tmp_path):
    store = ModelStore(tmp_path, downloader=FakeDownloader(fail_with=KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        store.pull("sd15")
    assert list(tmp_path.iterdir()) == []


def test_an_incomplete_download_is_refused(tmp_path):
    def half(spec, destination, progress):
        (destination / "config.json").write_text("{}")

    store = ModelStore(tmp_path, downloader=half)
    with pytest.raises(ModelDownloadFailed, match="incomplete"):
        store.pull("depth-anything-v2-small")
    assert list(tmp_path.iterdir()) == []


def test_pull_replaces_an_installed_copy(tmp_path):
    ModelStore(tmp_path, downloader=FakeDownloader(weights=b"old")).pull("controlnet-canny")
    ModelStore(tmp_path, downloader=FakeDownloader(weights=b"new")).pull("controlnet-canny")
    assert (tmp_path / "controlnet-canny/model.safetensors").read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["controlnet-canny"]


@pytest.mark.parametrize("error", [
    urllib.error.URLError(OSError(-2, "Name or service not known")),
    ConnectionRefusedError(),
    type("LocalEntryNotFoundError", (OSError,), {})("check your internet connection"),
])
def test_network_failures_are_reported_as_offline(tmp_path, error):
    store = ModelStore(tmp_path, downloader=FakeDownloader(fail_with=error))
    with pytest.raises(ModelsOffline, match="cannot reach"):
        store.pull("depth-anything-v2-small")
    assert list(tmp_path.iterdir()) == []


def test_an_http_error_is_not_offline(tmp_path):
    error = urllib.error.HTTPError("https://x", 404, "Not Found", {}, None)
    store = ModelStore(tmp_path, downloader=FakeDownloader(fail_with=error))
    with pytest.raises(ModelDownloadFailed) as caught:
        store.pull("realesrgan-x4plus")
    assert not isinstance(caught.value, ModelsOffline)


def test_the_real_downloader_reports_offline_here(tmp_path, monkeypatch):
    """urllib with no route to the host: the real download path, without the network."""
    def no_network(*args, **kwargs):
        raise urllib.error.URLError(OSError(-2, "Name or service not known"))

    monkeypatch.setattr(model_store.urllib.request, "urlopen", no_network)
    with pytest.raises(ModelsOffline, match="github.com"):
        ModelStore(tmp_path).pull("realesr-general-x4v3")
    assert list(tmp_path.iterdir()) == []


def test_the_real_downloader_asks_the_hub_for_the_needed_files_only(tmp_path, monkeypatch):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    asked = {}

    def snapshot_download(repo_id, *, local_dir, allow_patterns, **kwargs):
        asked.update(repo_id=repo_id, allow_patterns=allow_patterns)
        fake_files(ModelStore(tmp_path).spec("sd15"), local_dir)
        return str(local_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    seen = []
    ModelStore(tmp_path).pull("sd15", progress=lambda *event: seen.append(event))
    assert asked["repo_id"] == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    assert "unet/diffusion_pytorch_model.safetensors" in asked["allow_patterns"]
    assert not any("safety_checker" in p or "fp16" in p for p in asked["allow_patterns"])
    assert seen[-1][0] == "sd15" and seen[-1][2] == ModelStore(tmp_path).spec("sd15").download_bytes
    assert ModelStore(tmp_path).is_installed("sd15")


def test_the_real_downloader_reports_the_hub_unreachable_as_offline(tmp_path, monkeypatch):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    from huggingface_hub.errors import LocalEntryNotFoundError

    def snapshot_download(repo_id, *, local_dir, allow_patterns, **kwargs):
        (local_dir / "config.json").write_text("{}")  # something written before the failure
        raise LocalEntryNotFoundError("Please check your internet connection and try again.")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    with pytest.raises(ModelsOffline, match="cannot reach huggingface.co"):
        ModelStore(tmp_path).pull("depth-anything-v2-small")
    assert list(tmp_path.iterdir()) == []
