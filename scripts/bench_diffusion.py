"""Times the diffusion painter (SD 1.5 img2img + depth and canny ControlNets) on full-size random weights.

    .venv/bin/python scripts/bench_diffusion.py [--device cuda] [--sizes 512 768] [--steps 4]
        [--dtype auto|float16|float32] [--memory-saving auto|on|off] [--repeats 1]
        [--models-dir DIR]

No downloads: the UNet, the two ControlNets, the VAE and the CLIP text encoder are built from the real
SD 1.5 / ViT-L/14 configs (written below) with random weights, saved in the diffusers folder layout
(to --models-dir, or a temporary folder removed afterwards) and loaded through DiffusionPainter as real
weights would be, so the figures include everything the adapter does. Random weights run exactly as
fast as trained ones; the paintings are noise.

Per size it prints: the median seconds per denoising step (from the painter's progress callbacks;
classifier-free guidance doubles the batch, and both ControlNets run every step), the VAE decode, the
whole paint call, and the peak memory: torch.cuda.max_memory_allocated on CUDA (reset per size), the
process's peak RSS elsewhere (a high-water mark: it only grows down the table, sizes run smallest
first). painterliness 0.5 → strength 0.5, guidance 9.5; --steps is the number of steps that run.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

# SD 1.5 (runwayml/stable-diffusion-v1-5) component configs.
UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32,
)
VAE = dict(
    in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512), layers_per_block=2,
    down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, norm_num_groups=32,
    sample_size=512,
)
CLIP_TEXT = dict(  # openai/clip-vit-large-patch14, text tower
    hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, vocab_size=49408,
    max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768, bos_token_id=0, eos_token_id=1,
    pad_token_id=1,
)
SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True,
                 set_alpha_to_one=False, steps_offset=1)


def in_memory_tokenizer():
    """A byte-level CLIP tokenizer with no merges: every character is a token. The text encoder's
    vocabulary stays at CLIP's 49,408, so the embedding table has its real size."""
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPTokenizer

    alphabet = sorted(ByteLevel.alphabet())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for token in alphabet + [a + "</w>" for a in alphabet]:
        vocab.setdefault(token, len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def save_random_models(root: Path, dtype) -> tuple[Path, Path, Path]:
    import torch
    from diffusers import AutoencoderKL, ControlNetModel, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    started = time.perf_counter()
    unet = UNet2DConditionModel(**UNET)
    controlnets = [ControlNetModel.from_unet(unet).to(dtype=dtype) for _ in range(2)]
    StableDiffusionPipeline(  # the layout of models/sd15: a text-to-image pipeline, no ControlNet in it
        vae=AutoencoderKL(**VAE), text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_TEXT)),
        tokenizer=in_memory_tokenizer(), unet=unet, scheduler=PNDMScheduler(**SCHEDULER), safety_checker=None,
        feature_extractor=None, requires_safety_checker=False,
    ).to(dtype=dtype).save_pretrained(root / "sd15")
    controlnets[0].save_pretrained(root / "controlnet-depth")
    controlnets[1].save_pretrained(root / "controlnet-canny")
    print(f"built and saved random SD 1.5 + 2 ControlNets ({dtype}) in {time.perf_counter() - started:.1f} s",
          flush=True)
    return root / "sd15", root / "controlnet-depth", root / "controlnet-canny"


def sample_photo(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Gradients, discs and noise: edges for canny; a depth ramp, near at the bottom."""
    import cv2

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([xx / width, yy / height, 0.5 + 0.5 * np.sin(xx / 17.0)], axis=2)
    rng = np.random.default_rng(0)
    for _ in range(12):
        centre = (int(rng.integers(width)), int(rng.integers(height)))
        cv2.circle(image, centre, int(rng.integers(height // 16, height // 4)), rng.random(3).tolist(), -1)
    image += rng.normal(0, 0.03, image.shape).astype(np.float32)
    depth = np.repeat(np.linspace(1.0, 0.0, height, dtype=np.float32)[:, None], width, axis=1)
    return np.clip(image, 0.0, 1.0), depth


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 768], help="working long sides, px")
    parser.add_argument("--steps", type=int, default=4, help="denoising steps that run per painting")
    parser.add_argument("--dtype", choices=["auto", "float16", "float32"], default="auto")
    parser.add_argument("--memory-saving", choices=["auto", "on", "off"], default="auto",
                        help="attention slicing + VAE tiling (auto: the adapter's choice for the device)")
    parser.add_argument("--repeats", type=int, default=1, help="paintings per size; the step median is over all of them")
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="keep the random models here (reused when present) instead of a temp folder")
    args = parser.parse_args()

    import torch

    from rilievo.adapters.paint_diffusion import DiffusionPainter
    from rilievo.adapters.torch_device import pick_device, pick_dtype
    from rilievo.domain.noise import NoisePlan
    from rilievo.domain.styles import STYLE_PRESETS, PaintRequest

    device = args.device or pick_device()
    dtype = pick_dtype(device) if args.dtype == "auto" else getattr(torch, args.dtype)
    cuda = device.startswith("cuda")
    print(f"torch {torch.__version__}, device {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if cuda else f", {torch.get_num_threads()} threads")
          + f", dtype {dtype}", flush=True)

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(device)

    temporary = args.models_dir is None
    root = Path(tempfile.mkdtemp(prefix="bench-diffusion-")) if temporary else args.models_dir
    try:
        if (root / "sd15" / "model_index.json").is_file():
            folders = (root / "sd15", root / "controlnet-depth", root / "controlnet-canny")
        else:
            folders = save_random_models(root, dtype)
        painter = DiffusionPainter(*folders, device=device, dtype=dtype, steps=args.steps,
                                   memory_saving={"auto": None, "on": True, "off": False}[args.memory_saving])
        started = time.perf_counter()
        pipe = painter._pipeline()  # what the first paint would do
        print(f"loaded in {time.perf_counter() - started:.1f} s; attention slicing and VAE tiling "
              f"{'on' if pipe.vae.use_tiling else 'off'}", flush=True)
        decodes: list[float] = []
        decode = pipe.vae.decode

        def timed_decode(*a, **k):
            sync()
            start = time.perf_counter()
            out = decode(*a, **k)
            sync()
            decodes.append(time.perf_counter() - start)
            return out

        pipe.vae.decode = timed_decode
        request = PaintRequest(style=STYLE_PRESETS["oil-impressionist"], painterliness=0.5, depth_influence=0.6,
                               brush_scale=3, prompt="a house by a lake, impressionist oil painting")
        print(f"{'size':>10}{'s/step':>9}{'VAE decode s':>14}{'paint s':>9}{'peak MiB':>10}", flush=True)
        for size in sorted(args.sizes):
            painter.working_long_side = size  # one loaded pipeline for every size
            height, width = size * 2 // 3, size
            image, depth = sample_photo(height, width)
            if cuda:
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(device)
            step_times: list[float] = []
            for repeat in range(args.repeats):
                marks: list[float] = []

                def progress(fraction: float) -> None:
                    sync()
                    marks.append(time.perf_counter())

                decodes.clear()
                started = time.perf_counter()
                painter.paint(image, depth, request, NoisePlan.single(repeat), on_progress=progress).image
                total = time.perf_counter() - started
                # one mark per step, then 1.0 after the decode; the first step also paid for the text
                # encoder and the VAE encode, so the gaps between step marks are the clean figure
                step_times += np.diff(marks[: args.steps]).tolist() or [marks[0] - started]
            peak = torch.cuda.max_memory_allocated(device) / 2**20 if cuda else peak_rss_mib()
            print(f"{f'{width}x{height}':>10}{statistics.median(step_times):>9.2f}{sum(decodes):>14.2f}"
                  f"{total:>9.1f}{peak:>10.0f}", flush=True)
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
