"""Contract of the learned depth estimator, on tiny random Depth Anything and DPT models built offline."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from rilievo.adapters.depth_learned import DEFAULT_PREPROCESS, LearnedDepth, input_size  # noqa: E402
from rilievo.adapters.model_store import ModelStore  # noqa: E402
from rilievo.adapters.torch_device import pick_device, pick_dtype  # noqa: E402
from rilievo.domain.errors import DepthEstimationFailed  # noqa: E402
from tests.contract.test_model_store import in_hub_cache  # noqa: E402


def tiny_depth_anything(folder):
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    torch.manual_seed(0)
    backbone = Dinov2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        patch_size=14, image_size=56, out_features=["stage1", "stage2"], reshape_hidden_states=False,
    )
    config = DepthAnythingConfig(
        backbone_config=backbone, neck_hidden_sizes=[16, 32], reassemble_hidden_size=32,
        reassemble_factors=[2, 1], fusion_hidden_size=16, head_hidden_size=8, patch_size=14,
    )
    DepthAnythingForDepthEstimation(config).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "do_resize": True, "size": {"height": 56, "width": 56}, "keep_aspect_ratio": True,
        "ensure_multiple_of": 14, "do_normalize": True, "image_mean": [0.485, 0.456, 0.406],
        "image_std": [0.229, 0.224, 0.225], "do_pad": False,
    }))
    return folder


def tiny_dpt(folder):
    from transformers import DPTConfig, DPTForDepthEstimation

    torch.manual_seed(1)
    config = DPTConfig(
        hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64, image_size=64,
        patch_size=16, backbone_out_indices=[0, 1, 2, 3], neck_hidden_sizes=[8, 16, 32, 32],
        fusion_hidden_size=16, reassemble_factors=[4, 2, 1, 0.5],
    )
    DPTForDepthEstimation(config).save_pretrained(folder)
    # MiDaS DPT resizes to a fixed square, like Intel/dpt-hybrid-midas's processor.
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "size": {"height": 64, "width": 64}, "keep_aspect_ratio": False, "ensure_multiple_of": 1,
        "do_normalize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
    }))
    return folder


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {
        "depth-anything": tiny_depth_anything(root / "depth-anything-v2-small"),
        "dpt": tiny_dpt(root / "dpt-hybrid-midas"),
    }


@pytest.fixture(scope="module", params=["depth-anything", "dpt"])
def estimator(request, model_dirs):
    return LearnedDepth(model_dirs[request.param], device="cpu")


def photo(height, width, seed=0):
    return np.random.default_rng(seed).random((height, width, 3), dtype=np.float32)


def test_name_is_the_model_folder(model_dirs):
    assert LearnedDepth(model_dirs["depth-anything"]).name == "depth-anything-v2-small"
    assert LearnedDepth(model_dirs["dpt"]).name == "dpt-hybrid-midas"


def test_a_model_in_the_hugging_face_cache_loads_in_place_named_by_its_key(tmp_path):
    """A hub snapshot folder is named by a revision and its files are links to blobs."""
    source = ModelStore(tmp_path).spec("dpt-hybrid-midas").source
    snapshot = tmp_path / "hub" / f"models--{source.replace('/', '--')}" / "snapshots" / ("c" * 40)
    in_hub_cache(tiny_dpt(snapshot))
    store = ModelStore(tmp_path / "models", hub_cache=tmp_path / "hub")
    estimator = LearnedDepth(store.folder("dpt-hybrid-midas"), device="cpu", key="dpt-hybrid-midas")
    assert store.folder("dpt-hybrid-midas") == snapshot and (snapshot / "config.json").is_symlink()
    assert estimator.name == "dpt-hybrid-midas"
    depth = estimator.estimate(photo(40, 60))
    assert depth.shape == (40, 60) and 0.0 <= depth.min() < depth.max() <= 1.0


@pytest.mark.parametrize("shape", [(90, 130), (130, 90), (8, 8), (9, 31), (300, 200)])
def test_output_is_hxw_float32_spanning_0_to_1(estimator, shape):
    depth = estimator.estimate(photo(*shape))
    assert depth.shape == shape
    assert depth.dtype == np.float32
    assert np.isfinite(depth).all()
    assert depth.min() >= 0.0 and depth.max() <= 1.0
    assert depth.max() - depth.min() > 0.5  # stretched, not a constant


def test_same_photo_gives_the_same_depth_across_instances(estimator):
    image = photo(120, 160, seed=3)
    first = estimator.estimate(image)
    assert np.array_equal(first, estimator.estimate(image))
    again = LearnedDepth(estimator.model_dir, device="cpu").estimate(image)
    assert np.array_equal(first, again)


def test_uses_the_cpu_in_float32_when_asked(estimator):
    estimator.load()
    assert estimator.device == "cpu"
    assert next(estimator._model.parameters()).dtype == torch.float32


class ForgedDisparity(torch.nn.Module):
    """Stands in for a depth model: disparity large on the left half (near), small on the right."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.seen = []

    def forward(self, pixel_values):
        self.seen.append(tuple(pixel_values.shape))
        _, _, height, width = pixel_values.shape
        disparity = torch.full((1, height, width), 1.0)
        disparity[..., : width // 2] = 10.0
        return SimpleNamespace(predicted_depth=disparity)


@pytest.fixture
def loads(monkeypatch):
    """Counts from_pretrained calls; the model it returns is whatever the test sets."""
    calls = SimpleNamespace(count=0, model=None, kwargs=None)
    real = transformers.AutoModelForDepthEstimation.from_pretrained

    def counting(*args, **kwargs):
        calls.count += 1
        calls.kwargs = kwargs
        return calls.model if calls.model is not None else real(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForDepthEstimation, "from_pretrained", counting)
    return calls


def test_larger_disparity_is_nearer_so_smaller_depth(model_dirs, loads):
    loads.model = ForgedDisparity()
    depth = LearnedDepth(model_dirs["depth-anything"], device="cpu").estimate(photo(100, 200))
    left, right = depth[:, :90], depth[:, 110:]
    assert left.max() < 0.05 and right.min() > 0.95


def test_model_sees_the_preprocessed_size(model_dirs, loads):
    loads.model = ForgedDisparity()
    LearnedDepth(model_dirs["depth-anything"], device="cpu").estimate(photo(100, 200))
    assert loads.model.seen == [(1, 3, 56, 112)]  # short side 56, multiples of 14


def test_the_model_loads_once_per_instance(model_dirs, loads):
    estimator = LearnedDepth(model_dirs["depth-anything"], device="cpu")
    assert loads.count == 0  # nothing heavy at construction
    for seed in range(3):
        estimator.estimate(photo(40, 60, seed))
    assert loads.count == 1
    assert loads.kwargs["local_files_only"] is True
    assert loads.kwargs["dtype"] == torch.float32


def test_a_missing_folder_is_refused_with_the_pull_command(tmp_path):
    with pytest.raises(DepthEstimationFailed, match="models pull depth-anything-v2-small"):
        LearnedDepth(tmp_path / "depth-anything-v2-small")


def test_a_folder_without_weights_fails_clearly(model_dirs, tmp_path):
    broken = tmp_path / "depth-anything-v2-small"
    broken.mkdir()
    (broken / "config.json").write_text((model_dirs["depth-anything"] / "config.json").read_text())
    estimator = LearnedDepth(broken)
    with pytest.raises(DepthEstimationFailed, match="cannot load the depth model"):
        estimator.estimate(photo(32, 32))


def test_a_garbled_config_fails_clearly(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(DepthEstimationFailed, match="cannot load the depth model"):
        LearnedDepth(tmp_path).load()


def test_a_model_output_of_the_wrong_shape_fails_clearly(model_dirs, loads):
    class Wrong(ForgedDisparity):
        def forward(self, pixel_values):
            return SimpleNamespace(predicted_depth=torch.ones(2, 3, 4, 5))

    loads.model = Wrong()
    with pytest.raises(DepthEstimationFailed, match="shape"):
        LearnedDepth(model_dirs["depth-anything"]).estimate(photo(32, 32))


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.float32), np.zeros((10, 10, 4), np.float32),
                                 np.zeros((4, 40, 3), np.float32), np.zeros((10, 10, 3), np.uint8)])
def test_bad_images_are_refused(model_dirs, bad):
    with pytest.raises(DepthEstimationFailed):
        LearnedDepth(model_dirs["depth-anything"]).estimate(bad)


@pytest.mark.parametrize("shape", [(1000, 1500), (1500, 1000), (518, 518), (300, 200), (9, 31), (4000, 100)])
def test_input_size_matches_the_transformers_processor(shape):
    from transformers.models.dpt.image_processing_dpt import get_resize_output_image_size

    expected = get_resize_output_image_size(
        np.zeros((3, *shape)), output_size=(518, 518), keep_aspect_ratio=True, multiple=14
    )
    ours = input_size(*shape, DEFAULT_PREPROCESS)
    # transformers lets a side round down to 0; ours keeps at least one multiple
    assert ours == (max(expected.height, 14), max(expected.width, 14))


def test_an_asked_device_wins_over_any_gpu_present(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("cpu") == "cpu"
    assert pick_device("cuda:1") == "cuda:1"


def test_half_precision_on_a_gpu_and_float32_on_the_cpu():
    assert pick_dtype("cpu") == torch.float32
    assert pick_dtype("cuda:0") == torch.float16 and pick_dtype("mps") == torch.float16


def test_device_preference_mps_then_cuda_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device() == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == "cuda"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device() == "mps"
