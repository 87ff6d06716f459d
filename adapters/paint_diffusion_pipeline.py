"""Stable Diffusion 1.5 ControlNet img2img that follows Rilievo's noise plan.

Two changes to diffusers' pipeline, both through its own extension points:
- the starting noise is the plan's field (per-layer seeds, a numbered edition's own seeds) instead of
  a draw from the generator (prepare_latents);
- pixels can be held at the photo, re-noised to the current step's level, during the first steps
  (hold_at_photo, called from the step callback): they are painted for fewer steps, so they change
  less. This is how the depth-weighted strength reaches a sampler with one strength for the image
  (the "differential diffusion" idea of Levin and Fried, 2023).

Imported only when the painter loads its pipeline: importing diffusers takes seconds.
"""

from __future__ import annotations

import torch
from diffusers import StableDiffusionControlNetImg2ImgPipeline
from diffusers.pipelines.controlnet.pipeline_controlnet_img2img import retrieve_latents


class PlannedNoisePipeline(StableDiffusionControlNetImg2ImgPipeline):
    planned_noise: torch.Tensor | None = None  # 1 x 4 x h x w, set before each call

    def prepare_latents(self, image, timestep, batch_size, num_images_per_prompt, dtype, device, generator=None):
        if self.planned_noise is None or batch_size * num_images_per_prompt != 1:
            raise ValueError("PlannedNoisePipeline paints one image at a time, from planned_noise")
        image = image.to(device=device, dtype=dtype)
        self._photo_latents = self.vae.config.scaling_factor * retrieve_latents(
            self.vae.encode(image), generator=generator)
        self._noise = self.planned_noise.to(device=device, dtype=dtype)
        if self._noise.shape != self._photo_latents.shape:
            raise ValueError(f"planned noise {tuple(self._noise.shape)} does not fit the latents "
                             f"{tuple(self._photo_latents.shape)}")
        return self.scheduler.add_noise(self._photo_latents, self._noise, timestep)

    def hold_at_photo(self, latents: torch.Tensor, held: torch.Tensor, index: int) -> torch.Tensor:
        """latents with the held pixels (1 x 1 x h x w bool) set to the photo noised to the level of
        the run's step `index` (the next one: diffusers' schedulers add noise at their current step
        once stepping has begun, as the inpainting pipelines rely on)."""
        if index >= self.num_timesteps or not bool(held.any()):
            return latents
        timestep = self.scheduler.timesteps[-self.num_timesteps:][index : index + 1]
        photo_now = self.scheduler.add_noise(self._photo_latents, self._noise, timestep)
        return torch.where(held.to(latents.device), photo_now.to(latents.dtype), latents)
