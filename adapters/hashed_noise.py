"""Noise that is a function of each pixel's row and column and a seed alone (counter-based hashing),
so that a band of rows made on its own equals the same rows of the whole: for textures made at print
size band by band."""

from __future__ import annotations

import numpy as np

INDEX_OFFSET = 1 << 20  # added to row and column indices before hashing: a texture reads rows above the first


def hashed_uniform(counter: np.ndarray, seed: int) -> np.ndarray:
    """float32 in [-0.5, 0.5), a function of each uint64 counter and the seed alone (SplitMix64)."""
    # in place, with one array to shift into: a print band's counters are 15 MB at 300 DPI
    with np.errstate(over="ignore"):
        z = counter + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        shifted = np.empty_like(z)
        for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
            np.right_shift(z, np.uint64(shift), out=shifted)
            z ^= shifted
            z *= np.uint64(factor)
        np.right_shift(z, np.uint64(31), out=shifted)
        z ^= shifted
    np.right_shift(z, np.uint64(40), out=shifted)
    del z
    uniform = shifted.astype(np.float32)
    uniform *= np.float32(1.0 / (1 << 24))
    uniform -= np.float32(0.5)
    return uniform


def lattice_noise(top: int, height: int, width: int, cell: float, seed: int) -> np.ndarray:
    """Smooth noise with features about cell (>= 1) pixels across at rows [top, top + height) and
    columns [0, width): unit-variance values at the corners of a lattice cell pixels apart (a hash of
    their indices and the seed), interpolated by Catmull-Rom splines, so a pixel's value does not
    depend on which rows are made with it."""

    def spline(coordinates: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        position = coordinates / cell
        base = np.floor(position).astype(np.int64)
        t = (position - base).astype(np.float32)
        t2, t3 = t * t, t * t * t
        # the weights of the lattice points base - 1, base, base + 1 and base + 2
        return base - 1, (0.5 * (2 * t2 - t3 - t), 0.5 * (3 * t3 - 5 * t2 + 2), 0.5 * (4 * t2 - 3 * t3 + t),
                          0.5 * (t3 - t2))

    row_first, row_weights = spline(np.arange(top, top + height, dtype=np.float64))
    col_first, col_weights = spline(np.arange(width, dtype=np.float64))
    lattice_rows = np.arange(row_first[0], row_first[-1] + 4)
    lattice_cols = np.arange(col_first[0], col_first[-1] + 4)
    counter = ((lattice_rows + INDEX_OFFSET).astype(np.uint64)[:, None] * np.uint64(1 << 32)
               + (lattice_cols + INDEX_OFFSET).astype(np.uint64)[None, :])
    values = hashed_uniform(counter, seed) * np.float32(np.sqrt(12.0))
    columns = col_first - lattice_cols[0]
    across = sum(weight * values[:, columns + k] for k, weight in enumerate(col_weights))  # a few rows only
    rows = row_first - lattice_rows[0]
    # the rows' interpolation in place: each band's arrays are the print's width, tens of MB a few times over
    out = np.take(across, rows, axis=0)
    out *= row_weights[0][:, None]
    term = np.empty_like(out)
    for k in range(1, 4):
        np.take(across, rows + k, axis=0, out=term)
        term *= row_weights[k][:, None]
        out += term
    return out
