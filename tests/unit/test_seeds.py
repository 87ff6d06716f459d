import pytest
from hypothesis import given
from hypothesis import strategies as st

from rilievo.domain.seeds import SEED_LIMIT, derive_seed, variation_seed

seeds = st.integers(0, 2**63 - 1)
purposes = st.lists(st.one_of(st.text(max_size=12), st.integers(-5, 5)), min_size=1, max_size=3)


@given(seeds, purposes)
def test_the_same_base_and_purpose_give_the_same_seed(base, purpose):
    """Derivation is a pure function: no process state, no hash randomisation."""
    assert derive_seed(base, *purpose) == derive_seed(base, *purpose)
    assert 0 <= derive_seed(base, *purpose) < SEED_LIMIT


@given(seeds, purposes, purposes)
def test_different_purposes_give_different_seeds(base, first, second):
    """Distinct offsets never collide in practice (64-bit hash folded to 32 bits)."""
    if first != second:
        assert derive_seed(base, *first) != derive_seed(base, *second)


@given(seeds, purposes)
def test_different_bases_give_different_seeds(base, purpose):
    assert derive_seed(base, *purpose) != derive_seed(base + 1, *purpose)


def test_derived_seeds_are_stable_across_releases():
    # Fixed values: if this changes, every stored job stops being reproducible.
    assert derive_seed(42, "depth") == 704783410
    assert derive_seed(42, "layer", 1) == 3583276008
    assert derive_seed(42) == 42
    assert derive_seed(42, "layer", 1) != derive_seed(42, "layer", "1")


def test_variations_run_with_sequential_seeds():
    assert [variation_seed(42, i) for i in range(3)] == [42, 43, 44]


def test_a_negative_base_seed_is_refused():
    with pytest.raises(ValueError):
        derive_seed(-1, "x")
