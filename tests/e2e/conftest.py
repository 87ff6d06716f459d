"""What the end-to-end tests share."""

from pathlib import Path

import pytest
import skimage.data
from PIL import Image


@pytest.fixture
def coffee(tmp_path) -> Path:
    """A real photograph, as a JPEG."""
    path = tmp_path / "coffee.jpg"
    Image.fromarray(skimage.data.coffee()).save(path, quality=92)
    return path
