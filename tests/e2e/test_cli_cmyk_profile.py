"""`rilievo render --format cmyk-tiff` refuses a bad --cmyk-profile before it reads the photo."""

import pytest

from tests.api.test_api_cmyk_profile import bad_profiles
from tests.e2e.test_cli_render import rilievo, storage_entries

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind", ["missing", "rgb", "not-icc"])
def test_a_bad_cmyk_profile_is_one_line_exit_2_and_nothing_stored(tmp_path, coffee, kind):  # noqa: F811
    profile, reason = bad_profiles(tmp_path)[kind]
    storage = tmp_path / "storage"

    result = rilievo(storage, coffee, "--format", "cmyk-tiff", "--cmyk-profile", profile)

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("rilievo: error: ") and reason in result.stderr
    assert result.stderr.count("\n") == 1
    assert not storage.exists() or storage_entries(storage) == []  # no upload, no job folder
