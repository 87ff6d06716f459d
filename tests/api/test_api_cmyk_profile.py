"""A CMYK job's print profile is checked when the job is submitted, not minutes into its run."""

from pathlib import Path

import pytest
from PIL import ImageCms

from tests.api.api_helpers import assert_refused, submit, upload


def bad_profiles(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (a profile that cannot make CMYK, what the refusal says about it)."""
    srgb = folder / "screen.icc"
    srgb.write_bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    text = folder / "notes.icc"
    text.write_text("not a profile\n")
    missing = folder / "gone.icc"
    return {
        "missing": (missing, f"cannot read the CMYK profile {missing}"),
        "rgb": (srgb, "screen.icc describes RGB colour, not CMYK"),
        "not-icc": (text, "is not an ICC profile Rilievo can read"),
    }


@pytest.mark.parametrize("kind", ["missing", "rgb", "not-icc"])
def test_a_bad_cmyk_profile_is_refused_at_submit_and_no_job_is_made(client, web, tmp_path, kind):
    profile, reason = bad_profiles(tmp_path)[kind]
    upload_id = upload(client)

    response = client.post("/api/jobs", json={"upload_id": upload_id, "mode": "photo",
                                              "params": {"format": "cmyk-tiff", "cmyk_profile": str(profile)}})

    assert_refused(response, 422, reason)
    assert web.jobs.page()[1] == 0


def test_a_profile_is_not_needed_unless_the_job_writes_cmyk(client, tmp_path):
    profile, _ = bad_profiles(tmp_path)["missing"]
    (job,) = submit(client, upload(client), params={"format": "tiff", "cmyk_profile": str(profile)})["jobs"]
    assert client.get(f"/api/jobs/{job['job_id']}").json()["status"] == "completed"
