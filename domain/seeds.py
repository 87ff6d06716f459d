"""Seeds that every run and every machine derives the same way from one base seed."""

import hashlib

SEED_LIMIT = 2**32  # what every RNG we use accepts (numpy, torch, cv2)


def derive_seed(base: int, *purpose: str | int) -> int:
    """Stable across runs and machines: a hash of the base seed and the purpose, never hash() or random."""
    if base < 0:
        raise ValueError(f"seed must be a non-negative integer, got {base}")
    if not purpose:
        return base % SEED_LIMIT
    text = "/".join([str(base), *(f"{type(p).__name__}:{p}" for p in purpose)])
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % SEED_LIMIT


def variation_seed(base: int, variation: int) -> int:
    """Variations of one request run with sequential seeds (base + 0, + 1, + 2) so users can name them."""
    return (base + variation) % SEED_LIMIT
