"""The diffusion painterly engine: Stable Diffusion 1.5 img2img steered by a depth and a canny ControlNet.

1. The photo is resized (cv2 INTER_AREA) to a working size: long side `working_long_side` (768 by
   default, 768-1024 for real weights), both sides multiples of 8 as the VAE needs. The painting is
   made there and enlarged back to the photo's size with Lanczos at the end, clipped to [0, 1].
2. Two control images at the working size: the depth map inverted to the ControlNet convention (near
   is bright; ours is 0 = near) and canny edges (thresholds 100/200) of the working-size luminance,
   each as a 3-channel image.
3. img2img from the photo, with:
   - strength (the share of the noise schedule that is re-run) = painterliness (0.2-0.8);
   - depth ControlNet scale = depth_influence (0-1);
   - canny ControlNet scale = CANNY_SCALE * (1 - painterliness / 2): the more painterly, the looser
     the drawing follows the photo's edges (0.54 at 0.2, 0.36 at 0.8);
   - guidance scale = 7 + 5 * painterliness, clipped to 7-12: painterly requests lean harder on the
     style prompt;
   - steps: the scheduler gets about steps / strength steps so that `steps` of them run;
   - prompt = request.prompt, negative prompt = the style's.
   The scheduler is UniPC (multistep), whatever the folder names.
4. Progress: each denoising step reports its share of STEPS_SHARE (callback_on_step_end); 1.0 comes
   once the painting is decoded and resized.
5. Noise: the starting noise is the noise plan's field at the latent size (each depth layer's noise
   from its own seed; a numbered edition mixes in its own seeds far away), and the plan's
   depth-weighted strength holds each latent pixel at the photo, re-noised, for the share of the
   steps its strength leaves out (paint_diffusion_pipeline.py): at full depth influence the subject
   is repainted for half the steps the background is. The classical painter's detail map
   (detail_map.py: 1 on faces, 0.8 on the subject the render passes, up to 0.5 where the photo is sharp
   and near; with neither, up to 0.8 on the scene's sharpest, nearest tenth) lowers that strength
   further, by up to DETAIL_CALM, so a face is held at the photo for longer and keeps its features
   while the background is repainted freely. The VAE's sampling draws from a CPU
   torch.Generator seeded with the plan's seed, so the same inputs and plan give the same painting
   on the same device.

The pipeline loads once, on the first paint, and is kept; paintings run one at a time. Attention
slicing and VAE tiling are on for mps, the CPU (where they were also faster: 18.6 against 32.6 s per
step at 512 px, scripts/bench_diffusion.py) and CUDA cards under 10 GB. A preset's LoRA (a file under
loras_dir) is loaded when it exists (diffusers needs the peft package for that); a named but missing
or unloadable one is left out and said in the painting's warnings.

depth_influence weights the depth ControlNet and the depth-weighted strength; brush_scale is the
stroke painter's and ignored here.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
import structlog

from rilievo.adapters.detail_map import detail_map
from rilievo.application.ports import PaintResult
from rilievo.domain.errors import InvalidParameter
from rilievo.domain.noise import NoisePlan, steps_held
from rilievo.domain.styles import PaintRequest

from .torch_device import pick_device, pick_dtype

log = structlog.get_logger(__name__)

NAME = "stable-diffusion"
DEFAULT_LONG_SIDE = 768
DEFAULT_STEPS = 30  # denoising steps actually run (the scheduler gets steps / strength)
CANNY_SCALE = 0.6  # canny ControlNet scale at painterliness 0, halved at painterliness 1
CANNY_THRESHOLDS = (100, 200)
GUIDANCE = (7.0, 12.0)  # 7 + 5 * painterliness, clipped to this range
LATENT_FACTOR, LATENT_CHANNELS = 8, 4  # SD 1.5's VAE
STEPS_SHARE = 0.9  # of the progress; the VAE decode after them is worth one to two steps
DETAIL_CALM = 0.5  # where the detail map is 1 (a face) a pixel is repainted for half the steps it would be
SMALL_GPU_BYTES = 10 * 1024**3  # below this a CUDA device gets attention slicing and VAE tiling


def saves_memory(device: str) -> bool:
    """Whether to slice attention and tile the VAE: always on mps (shared memory) and the CPU (slicing
    costs little there), on cuda below SMALL_GPU_BYTES."""
    import torch

    kind = device.split(":")[0]
    if kind == "cuda":
        index = torch.device(device).index or 0
        return torch.cuda.get_device_properties(index).total_memory < SMALL_GPU_BYTES
    return True


def working_size(height: int, width: int, long_side: int) -> tuple[int, int]:
    """(height, width) with the long side at long_side, the aspect kept, both multiples of 8."""
    scale = long_side / max(height, width)
    return (max(8, round(height * scale / 8) * 8), max(8, round(width * scale / 8) * 8))


def depth_control(depth: np.ndarray) -> np.ndarray:
    """HxWx3 float32 in [0, 1], near bright (ControlNet depth maps are inverse depth; ours is 0 = near)."""
    inverted = 1.0 - np.clip(depth.astype(np.float32), 0.0, 1.0)
    return np.repeat(inverted[..., None], 3, axis=2)


def canny_control(image: np.ndarray) -> np.ndarray:
    """HxWx3 float32 of 0 and 1: canny edges of the image's luminance."""
    gray = cv2.cvtColor((np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(gray, *CANNY_THRESHOLDS).astype(np.float32) / 255.0
    return np.repeat(edges[..., None], 3, axis=2)


def scheduled_steps(steps: int, strength: float) -> int:
    """The num_inference_steps that makes img2img run `steps` steps: diffusers runs
    int(num_inference_steps * strength) of them (none at all when that rounds to 0)."""
    scheduled = max(steps, math.ceil(steps / strength - 1e-6))
    while int(scheduled * strength) < steps:
        scheduled += 1
    return scheduled


def guidance_scale(painterliness: float) -> float:
    return float(np.clip(GUIDANCE[0] + 5.0 * painterliness, *GUIDANCE))


def canny_scale(painterliness: float) -> float:
    return CANNY_SCALE * (1.0 - painterliness / 2.0)


class DiffusionPainter:
    name = NAME

    def __init__(
        self,
        base_dir: Path,
        depth_controlnet_dir: Path,
        canny_controlnet_dir: Path,
        *,
        device: str | None = None,
        dtype: Any = None,
        loras_dir: Path | None = None,
        working_long_side: int = DEFAULT_LONG_SIDE,
        steps: int = DEFAULT_STEPS,
        memory_saving: bool | None = None,
    ) -> None:
        """Checks the folders now (FileNotFoundError names the missing one); loads on the first paint.
        working_long_side below 768 is meant for tests on tiny models. memory_saving (attention
        slicing and VAE tiling): None decides by the device, see saves_memory."""
        self.base_dir = Path(base_dir)
        self.depth_controlnet_dir = Path(depth_controlnet_dir)
        self.canny_controlnet_dir = Path(canny_controlnet_dir)
        for folder in (self.base_dir, self.depth_controlnet_dir, self.canny_controlnet_dir):
            if not (folder / ("model_index.json" if folder == self.base_dir else "config.json")).is_file():
                raise FileNotFoundError(f"diffusion model folder missing or incomplete: {folder}")
        if working_long_side % 8 or not 8 <= working_long_side <= 1024:
            raise InvalidParameter(f"working_long_side must be a multiple of 8 up to 1024, got {working_long_side}")
        if steps < 1:
            raise InvalidParameter(f"steps must be at least 1, got {steps}")
        self.loras_dir = Path(loras_dir) if loras_dir is not None else None
        self.device = pick_device(device)
        self.dtype = dtype if dtype is not None else pick_dtype(self.device)
        self.working_long_side = working_long_side
        self.steps = steps
        self.memory_saving = memory_saving
        self._pipe = None
        self._lora: str | None = None  # the LoRA file now fused into the pipeline's adapters
        self._lock = threading.Lock()

    # -- loading -------------------------------------------------------------------------------
    def _pipeline(self):
        if self._pipe is None:
            self._pipe = self._load()
        return self._pipe

    def _load(self):
        from diffusers import ControlNetModel, MultiControlNetModel, UniPCMultistepScheduler

        from .paint_diffusion_pipeline import PlannedNoisePipeline

        controlnets = [
            ControlNetModel.from_pretrained(folder, dtype=self.dtype, local_files_only=True)
            for folder in (self.depth_controlnet_dir, self.canny_controlnet_dir)
        ]
        pipe = PlannedNoisePipeline.from_pretrained(
            self.base_dir,
            controlnet=MultiControlNetModel(controlnets),
            safety_checker=None,  # not downloaded (models/sd15 lists it in model_index.json nonetheless)
            feature_extractor=None,  # the safety checker's; a transformers image processor wants torchvision
            requires_safety_checker=False,
            dtype=self.dtype,
            local_files_only=True,
        )
        # the folder's PNDM is SD 1.5's text-to-image default; UniPC is the usual ControlNet choice at 20-30 steps
        pipe.scheduler = UniPCMultistepScheduler.from_config(pipe.scheduler.config)
        pipe = pipe.to(self.device)
        if self.memory_saving if self.memory_saving is not None else saves_memory(self.device):
            pipe.enable_attention_slicing()
            pipe.vae.enable_tiling()
        pipe.set_progress_bar_config(disable=True)
        log.info("painter.loaded", engine=NAME, device=self.device, dtype=str(self.dtype),
                 memory_saving=pipe.vae.use_tiling)
        return pipe

    def _use_lora(self, pipe, lora: str | None) -> list[str]:
        """Load the preset's LoRA, or unload the previous one; returns the warnings (a missing file)."""
        path = self.loras_dir / lora if (lora and self.loras_dir is not None) else None
        warnings = []
        if path is not None and not path.is_file():
            warnings.append(f"LoRA {lora!r} not found in {self.loras_dir}; painting without it")
            log.warning("painter.lora_missing", lora=lora, loras_dir=str(self.loras_dir))
            path = None
        wanted = str(path) if path is not None else None
        if wanted == self._lora:
            return warnings
        if self._lora is not None:
            pipe.unload_lora_weights()
            self._lora = None
        if path is not None:
            try:
                pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name="style")
            except Exception as e:  # no peft installed, or a LoRA for another base model
                warnings.append(f"LoRA {lora!r} could not be loaded ({e}); painting without it")
                log.warning("painter.lora_failed", lora=lora, error=str(e))
                try:
                    pipe.unload_lora_weights()
                except Exception:  # nothing was half-loaded
                    pass
                return warnings
            self._lora = wanted
        return warnings

    # -- painting ------------------------------------------------------------------------------
    def paint(
        self,
        image: np.ndarray,
        depth: np.ndarray,
        request: PaintRequest,
        noise: NoisePlan,
        on_progress: Callable[[float], None] | None = None,
        subject: np.ndarray | None = None,
    ) -> PaintResult:
        if image.ndim != 3 or image.shape[2] != 3:
            raise InvalidParameter(f"image must be HxWx3, got shape {image.shape}")
        if depth.shape != image.shape[:2]:
            raise InvalidParameter(f"depth must be {image.shape[:2]}, got {depth.shape}")
        if subject is not None and np.shape(subject) != image.shape[:2]:
            raise InvalidParameter(f"the subject mask must be {image.shape[:2]}, got {np.shape(subject)}")
        import torch

        height, width = image.shape[:2]
        work_h, work_w = working_size(height, width, self.working_long_side)
        photo = cv2.resize(np.clip(image, 0.0, 1.0).astype(np.float32), (work_w, work_h), interpolation=cv2.INTER_AREA)
        near = cv2.resize(depth.astype(np.float32), (work_w, work_h), interpolation=cv2.INTER_AREA)
        controls = [depth_control(near), canny_control(photo)]
        latent_size = (work_w // LATENT_FACTOR, work_h // LATENT_FACTOR)
        latent_depth = cv2.resize(near, latent_size, interpolation=cv2.INTER_AREA)
        if subject is not None:
            subject = cv2.resize(np.asarray(subject, np.float32), (work_w, work_h), interpolation=cv2.INTER_AREA)
        detail = cv2.resize(detail_map(photo, near, request.depth_influence, subject), latent_size,
                            interpolation=cv2.INTER_AREA)

        strength = float(np.clip(request.painterliness, 0.05, 1.0))
        scheduled = scheduled_steps(self.steps, strength)
        to_tensor = lambda array: torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))[None]  # noqa: E731

        with self._lock:  # one pipeline, one scheduler state: paintings run one at a time
            pipe = self._pipeline()
            warnings = self._use_lora(pipe, request.style.lora)
            pipe.planned_noise = torch.from_numpy(noise.field(latent_depth, LATENT_CHANNELS))[None]
            strength_map = noise.strength(latent_depth) * (1.0 - DETAIL_CALM * detail)
            held = torch.from_numpy(steps_held(strength_map, self.steps))[None, None]

            def step_end(pipe_, step: int, timestep, kwargs: dict) -> dict:
                total = max(1, pipe_.num_timesteps)  # what runs, once strength has cut the schedule
                kwargs["latents"] = pipe_.hold_at_photo(kwargs["latents"], held > step + 1, step + 1)
                if on_progress is not None:
                    on_progress(STEPS_SHARE * min(1.0, (step + 1) / total))
                return kwargs

            result = pipe(
                prompt=request.prompt,
                negative_prompt=request.style.negative_prompt,
                image=to_tensor(photo),
                control_image=[to_tensor(c) for c in controls],
                height=work_h,
                width=work_w,
                strength=strength,
                num_inference_steps=scheduled,
                guidance_scale=guidance_scale(request.painterliness),
                controlnet_conditioning_scale=[float(request.depth_influence), canny_scale(request.painterliness)],
                generator=torch.Generator(device="cpu").manual_seed(int(noise.seed)),
                output_type="np",
                callback_on_step_end=step_end,
            )
        painted = np.asarray(result.images[0], dtype=np.float32)
        painted = cv2.resize(painted, (width, height), interpolation=cv2.INTER_LANCZOS4)
        if on_progress is not None:
            on_progress(1.0)
        return PaintResult(np.clip(painted, 0.0, 1.0).astype(np.float32), tuple(warnings), str(self.device))
