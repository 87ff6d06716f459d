"""Contract of the diffusion painter, on a tiny random Stable Diffusion + two ControlNets built offline.

The tiny models are saved in the diffusers folder layout (models/sd15/, models/controlnet-depth/,
models/controlnet-canny/) and loaded through DiffusionPainter exactly as real weights are. Their
paintings are noise; what is checked is the plumbing: sizes, range, determinism, progress, loading
once, the control images and the device choice.
"""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

import diffusers
import torch
import transformers

from rilievo.adapters import paint_diffusion  # noqa: E402
from rilievo.adapters.paint_diffusion import DiffusionPainter, canny_control, depth_control, working_size  # noqa: E402
from rilievo.domain.errors import InvalidParameter  # noqa: E402
from rilievo.domain.noise import NoisePlan  # noqa: E402
from rilievo.domain.styles import STYLE_PRESETS, PaintRequest  # noqa: E402

# diffusers' UniPC builds a numpy array from a torch tensor the numpy-2 way warns about
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
STEPS = 4
LONG_SIDE = 128


def tiny_tokenizer():
    from tokenizers.pre_tokenizers import ByteLevel

    alphabet = sorted(ByteLevel.alphabet())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for token in alphabet + [a + "</w>" for a in alphabet]:
        vocab.setdefault(token, len(vocab))
    return transformers.CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def build_tiny_models(root):
    from diffusers import AutoencoderKL, ControlNetModel, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel

    torch.manual_seed(0)
    tokenizer = tiny_tokenizer()
    text_encoder = transformers.CLIPTextModel(transformers.CLIPTextConfig(
        hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2,
        vocab_size=len(tokenizer), max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1))
    unet = UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(8, 16),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32, attention_head_dim=2, norm_num_groups=4)
    # four VAE blocks: the real 8x latent factor, which the ControlNets' conditioning embedding assumes
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 8, 8, 8), layers_per_block=1,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, norm_num_groups=4,
        sample_size=64)
    controlnets = [ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 4, 4, 4)) for _ in range(2)]
    for net in controlnets:  # from_unet zeroes the output convolutions; random ones make the scales matter
        for module in [*net.controlnet_down_blocks, net.controlnet_mid_block, net.controlnet_cond_embedding.conv_out]:
            torch.nn.init.normal_(module.weight, std=0.1)
    scheduler = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True,
                              set_alpha_to_one=False, steps_offset=1)
    StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    ).save_pretrained(root / "sd15")
    # like `rilievo models pull sd15`: model_index.json names the safety checker and its feature
    # extractor, whose folders are not downloaded
    index_path = root / "sd15" / "model_index.json"
    index = json.loads(index_path.read_text())
    index.update(safety_checker=["stable_diffusion", "StableDiffusionSafetyChecker"],
                 feature_extractor=["transformers", "CLIPImageProcessor"], requires_safety_checker=True)
    index_path.write_text(json.dumps(index))
    # the hub's SD 1.5 tokenizer folder holds the slow tokenizer's files, which transformers 5 no longer writes
    (root / "sd15" / "tokenizer" / "vocab.json").write_text(json.dumps(tokenizer.get_vocab()))
    (root / "sd15" / "tokenizer" / "merges.txt").write_text("#version: 0.2\n")
    controlnets[0].save_pretrained(root / "controlnet-depth")
    controlnets[1].save_pretrained(root / "controlnet-canny")
    return root / "sd15", root / "controlnet-depth", root / "controlnet-canny"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return build_tiny_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def painter(folders):
    return DiffusionPainter(*folders, device="cpu", working_long_side=LONG_SIDE, steps=STEPS)


def request(style="oil-impressionist", painterliness=0.5, depth_influence=0.6):
    return PaintRequest(style=STYLE_PRESETS[style], painterliness=painterliness,
                        depth_influence=depth_influence, brush_scale=3, prompt="a house by a lake")


def scene(height=48, width=80, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.random((height, width, 3), dtype=np.float32)
    image[: height // 2] *= 0.3  # a hard edge for canny
    depth = np.tile(np.linspace(0.0, 1.0, width, dtype=np.float32), (height, 1))
    return image, depth


@pytest.fixture(scope="module")
def painted(painter):
    image, depth = scene()
    return painter.paint(image, depth, request(), NoisePlan.single(7)).image


def test_paints_a_new_image_at_the_input_size_as_float32_in_unit_range(painted):
    image, _ = scene()
    assert painted.shape == image.shape
    assert painted.dtype == np.float32
    assert 0.0 <= painted.min() and painted.max() <= 1.0
    assert np.abs(painted - image).mean() > 0.05  # repainted, not the photo passed through


def test_same_seed_gives_the_identical_painting(painter, painted):
    image, depth = scene()
    assert np.array_equal(painter.paint(image, depth, request(), NoisePlan.single(7)).image, painted)


def test_another_seed_gives_another_painting(painter, painted):
    image, depth = scene()
    assert not np.allclose(painter.paint(image, depth, request(), NoisePlan.single(8)).image, painted, atol=1e-4)


def test_depth_influence_reaches_the_depth_controlnet(painter, painted):
    image, depth = scene()
    assert not np.allclose(painter.paint(image, depth, request(depth_influence=0.0), NoisePlan.single(7)).image, painted, atol=1e-4)


def test_rejects_a_depth_map_of_another_size(painter):
    image, depth = scene()
    with pytest.raises(InvalidParameter, match="depth"):
        painter.paint(image, depth[:-1], request(), NoisePlan.single(0)).image


def test_reports_progress_per_step_rising_to_one(painter):
    image, depth = scene()
    seen = []
    painter.paint(image, depth, request(painterliness=0.5), NoisePlan.single(1), on_progress=seen.append).image
    assert seen[-1] == 1.0
    assert all(b >= a for a, b in zip(seen, seen[1:]))
    assert 0.0 < seen[0] and seen[-2] < 1.0  # 1.0 waits for the decode
    # one report per denoising step, then the final 1.0 after the decode
    assert len(seen) == STEPS + 1


def test_loads_the_pipeline_once_across_paintings(folders, monkeypatch):
    from diffusers import ControlNetModel, StableDiffusionControlNetImg2ImgPipeline

    loads = []
    original = StableDiffusionControlNetImg2ImgPipeline.from_pretrained.__func__
    monkeypatch.setattr(StableDiffusionControlNetImg2ImgPipeline, "from_pretrained",
                        classmethod(lambda cls, *a, **k: loads.append(a) or original(cls, *a, **k)))
    fresh = DiffusionPainter(*folders, device="cpu", working_long_side=64, steps=1)
    assert loads == []  # nothing loads before the first paint
    image, depth = scene(32, 32)
    fresh.paint(image, depth, request(painterliness=0.8), NoisePlan.single(0)).image
    pipe = fresh._pipe
    fresh.paint(image, depth, request(painterliness=0.8), NoisePlan.single(1)).image
    assert len(loads) == 1 and fresh._pipe is pipe
    assert isinstance(pipe.controlnet, diffusers.MultiControlNetModel)
    assert len(pipe.controlnet.nets) == 2 and all(isinstance(n, ControlNetModel) for n in pipe.controlnet.nets)
    assert pipe.safety_checker is None and pipe.feature_extractor is None
    assert isinstance(pipe.scheduler, diffusers.UniPCMultistepScheduler)


@pytest.mark.parametrize("lora, content", [("nowhere.safetensors", None),
                                           ("broken.safetensors", b"not a safetensors file")])
def test_a_missing_or_unloadable_lora_is_a_warning_not_a_failure(folders, tmp_path, lora, content):
    import attrs

    if content is not None:
        (tmp_path / lora).write_bytes(content)
    style = attrs.evolve(STYLE_PRESETS["custom"], lora=lora)
    fresh = DiffusionPainter(*folders, device="cpu", working_long_side=64, steps=1, loras_dir=tmp_path)
    image, depth = scene(32, 32)
    req = attrs.evolve(request(painterliness=0.8), style=style)
    painting = fresh.paint(image, depth, req, NoisePlan.single(0))
    assert painting.image.shape == (32, 32, 3) and painting.device == "cpu"
    assert any(lora in warning for warning in painting.warnings)
    assert fresh.paint(image, depth, request(painterliness=0.8), NoisePlan.single(0)).warnings == ()


def test_a_preset_lora_is_loaded_and_changes_the_painting(folders, tmp_path):
    import attrs
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet = UNet2DConditionModel.from_pretrained(folders[0] / "unet")
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights="gaussian",
                                target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    for name, weight in unet.named_parameters():  # peft starts B at zero: a LoRA that changes nothing
        if "lora_B" in name:
            torch.nn.init.normal_(weight, std=0.5)
    StableDiffusionPipeline.save_lora_weights(tmp_path, unet_lora_layers=get_peft_model_state_dict(unet),
                                              weight_name="style.safetensors", safe_serialization=True)
    styled = attrs.evolve(STYLE_PRESETS["custom"], lora="style.safetensors")
    fresh = DiffusionPainter(*folders, device="cpu", working_long_side=64, steps=2, loras_dir=tmp_path)
    image, depth = scene(32, 32)
    plain_request = request(style="custom", painterliness=0.8)
    plain = fresh.paint(image, depth, plain_request, NoisePlan.single(0)).image
    styled_painting = fresh.paint(image, depth, attrs.evolve(plain_request, style=styled), NoisePlan.single(0))
    with_lora = styled_painting.image
    assert styled_painting.warnings == ()
    assert not np.allclose(with_lora, plain, atol=1e-4)
    assert np.array_equal(fresh.paint(image, depth, plain_request, NoisePlan.single(0)).image, plain)  # unloaded again


@pytest.mark.parametrize("missing", ["sd15", "controlnet-depth", "controlnet-canny"])
def test_a_missing_model_folder_is_a_clear_error(folders, tmp_path, missing):
    args = [tmp_path / "absent" if f.name == missing else f for f in folders]
    with pytest.raises(FileNotFoundError, match="absent"):
        DiffusionPainter(*args, device="cpu")


def test_an_unreadable_model_folder_fails_on_first_paint(folders, tmp_path):
    broken = tmp_path / "controlnet-depth"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"_class_name": "ControlNetModel"}))
    fresh = DiffusionPainter(folders[0], broken, folders[2], device="cpu", working_long_side=64, steps=1)
    image, depth = scene(32, 32)
    with pytest.raises(OSError, match=re.escape(str(broken))):  # it names the folder at fault
        fresh.paint(image, depth, request(), NoisePlan.single(0)).image


# -- helpers ---------------------------------------------------------------------------------------

def test_importing_the_adapter_loads_no_torch():
    code = "import sys, rilievo.adapters.paint_diffusion; print('torch' in sys.modules or 'diffusers' in sys.modules)"
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "False"


def test_depth_control_makes_near_bright():
    depth = np.array([[0.0, 0.25, 1.0]], np.float32)
    control = depth_control(depth)
    assert control.shape == (1, 3, 3)
    assert np.allclose(control[..., 0], [[1.0, 0.75, 0.0]])
    assert np.array_equal(control[..., 0], control[..., 2])


def test_canny_control_marks_the_edges_only():
    image = np.zeros((32, 32, 3), np.float32)
    image[:, 16:] = 1.0
    edges = canny_control(image)
    assert edges.shape == (32, 32, 3) and set(np.unique(edges)) <= {0.0, 1.0}
    columns = np.nonzero(edges[..., 0].any(axis=0))[0]
    assert set(columns) <= {15, 16}
    assert edges[..., 0].sum() >= 32


@pytest.mark.parametrize(("h", "w", "long", "expected"), [(48, 80, 128, (80, 128)), (1000, 1500, 768, (512, 768)),
                                                           (3000, 2000, 1024, (1024, 680)), (10, 10, 768, (768, 768))])
def test_working_size_keeps_the_aspect_in_multiples_of_eight(h, w, long, expected):
    assert working_size(h, w, long) == expected


@pytest.mark.parametrize("steps", [1, 4, 30])
@pytest.mark.parametrize("strength", [0.2, 0.3, 0.35, 0.5, 0.6, 0.7, 0.8])
def test_the_schedule_runs_the_asked_steps_whatever_the_strength(steps, strength):
    scheduled = paint_diffusion.scheduled_steps(steps, strength)
    assert min(int(scheduled * strength), scheduled) == steps  # what diffusers' img2img runs


def test_parameter_mapping():
    assert paint_diffusion.guidance_scale(0.2) == pytest.approx(8.0)
    assert paint_diffusion.guidance_scale(0.8) == pytest.approx(11.0)
    assert paint_diffusion.guidance_scale(2.0) == 12.0
    assert paint_diffusion.canny_scale(0.2) > paint_diffusion.canny_scale(0.8)


def test_device_choice_follows_the_shared_torch_helpers(folders, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    chosen = DiffusionPainter(*folders)
    assert chosen.device == "cuda" and chosen.dtype == torch.float16
    assert DiffusionPainter(*folders, device="cpu").dtype == torch.float32


def test_memory_saving_choice(monkeypatch):
    class Props:
        total_memory = 8 * 1024**3

    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: Props)
    assert paint_diffusion.saves_memory("cuda")
    Props.total_memory = 24 * 1024**3
    assert not paint_diffusion.saves_memory("cuda:0")
    assert paint_diffusion.saves_memory("mps") and paint_diffusion.saves_memory("cpu")


def test_the_constructor_picks_float32_on_the_cpu(folders):
    chosen = DiffusionPainter(*folders, device="cpu")
    assert chosen.dtype == torch.float32 and chosen.name == "stable-diffusion"


def two_layer_plan(seed, back_seed, **kwargs):
    return NoisePlan(seed=seed, layer_seeds=(101, back_seed), layer_starts=(128,), **kwargs)


def test_the_starting_noise_is_the_noise_plans(painter):
    image, depth = scene()
    first = painter.paint(image, depth, request(), two_layer_plan(7, 202)).image
    assert np.array_equal(first, painter.paint(image, depth, request(), two_layer_plan(7, 202)).image)
    assert not np.allclose(first, painter.paint(image, depth, request(), two_layer_plan(7, 203)).image, atol=1e-4)


def near_and_far(height=64, width=128):
    image, _ = scene(height, width)
    depth = np.zeros((height, width), np.float32)
    depth[:, width // 2:] = 1.0
    return image, depth


def test_held_pixels_follow_the_photo_noised_to_each_step(folders, monkeypatch):
    from rilievo.adapters.paint_diffusion_pipeline import PlannedNoisePipeline

    seen = []
    original = PlannedNoisePipeline.hold_at_photo

    def spy(self, latents, held, index):
        result = original(self, latents, held, index)
        # the photo noised to the level of the step the sampler runs next: the DDPM forward process
        # sqrt(a) * photo + sqrt(1 - a) * noise, with a the schedule's cumulative alpha at that timestep
        timestep = self.scheduler.timesteps[-self.num_timesteps:][min(index, self.num_timesteps - 1)]
        alpha = self.scheduler.alphas_cumprod[int(timestep)]
        expected = alpha.sqrt() * self._photo_latents + (1 - alpha).sqrt() * self.planned_noise
        seen.append((held.clone(), index, latents.clone(), result.clone(), expected))
        return result

    monkeypatch.setattr(PlannedNoisePipeline, "hold_at_photo", spy)
    painter = DiffusionPainter(*folders, device="cpu", working_long_side=128, steps=4)
    image, depth = near_and_far()
    painter.paint(image, depth, request(), NoisePlan(seed=1, layer_seeds=(3,), subject_calm=0.5)).image
    assert [index for _, index, *_ in seen] == [1, 2, 3, 4]
    # strength 0.5 on the near half: held through the first 2 of the 4 steps, free after
    assert [bool(held.any()) for held, *_ in seen] == [True, False, False, False]
    held, _, before, after, expected = seen[0]
    near = held[0, 0]
    assert near[:, :6].all() and not near[:, 10:].any()  # near = left, at 1/8 size
    assert torch.allclose(after[..., near], expected[..., near], atol=1e-5)  # the near half: the noised photo
    assert torch.equal(after[..., ~near], before[..., ~near])  # the far half: untouched
    assert not torch.allclose(before[..., near], expected[..., near], atol=1e-3)  # which it was not before


def test_the_subject_is_held_at_the_photo_for_longer_than_the_rest_at_the_same_depth(folders, monkeypatch):
    """The classical painter's detail map calms the strength: the subject the render passes (0.8) is
    repainted for fewer steps than the background beside it, at one depth and without depth calm."""
    from rilievo.adapters.paint_diffusion_pipeline import PlannedNoisePipeline

    seen = []
    original = PlannedNoisePipeline.hold_at_photo

    def spy(self, latents, held, index):
        seen.append(held[0, 0].clone())
        return original(self, latents, held, index)

    monkeypatch.setattr(PlannedNoisePipeline, "hold_at_photo", spy)
    painter = DiffusionPainter(*folders, device="cpu", working_long_side=128, steps=8)
    image, _ = scene(64, 128)
    depth = np.full((64, 128), 0.5, np.float32)
    subject = np.zeros((64, 128), bool)
    subject[:, :32] = True  # the left quarter: latent columns 0-3
    painter.paint(image, depth, request(), NoisePlan.single(1), subject=subject)
    # strength 1 - 0.5 * 0.8 = 0.6 on the subject: held through the first 3 of the 8 steps
    assert [bool(held[:, :4].all()) for held in seen[:4]] == [True, True, False, False]
    assert not any(held[:, 6:].any() for held in seen)
    seen.clear()
    # without a subject the scene's centre of interest stands in for one: the busy lower half (latent
    # rows 4-7) is held at the photo for the first step at least, the dim upper half never
    painter.paint(image, depth, request(), NoisePlan.single(1))
    assert seen[0][4:].all() and not any(held[:4].any() for held in seen)


def test_a_subject_mask_of_another_size_is_refused(painter):
    image, depth = scene()
    with pytest.raises(InvalidParameter, match="subject mask"):
        painter.paint(image, depth, request(), NoisePlan.single(1), subject=np.zeros((3, 3), bool))
