"""RILIEVO_* settings: read from the environment, and a bad one refused in one line before anything starts."""

import subprocess
import sys

import pytest

from rilievo.domain.errors import InvalidParameter
from rilievo.entrypoints.settings import DEFAULT_MAX_UPLOAD_MB, upload_limit_of
from tests.subprocess_env import rilievo_env


@pytest.mark.parametrize("environ, megabytes", [
    ({}, DEFAULT_MAX_UPLOAD_MB),
    ({"RILIEVO_MAX_UPLOAD_MB": " "}, DEFAULT_MAX_UPLOAD_MB),
    ({"RILIEVO_MAX_UPLOAD_MB": "1024"}, 1024.0),
    ({"RILIEVO_MAX_UPLOAD_MB": "0.5"}, 0.5),
])
def test_the_upload_limit_comes_from_the_environment(environ, megabytes):
    assert upload_limit_of(environ) == megabytes


@pytest.mark.parametrize("text", ["0", "-5", "lots", "nan", "inf"])
def test_a_bad_upload_limit_names_its_variable(text):
    with pytest.raises(InvalidParameter, match="RILIEVO_MAX_UPLOAD_MB"):
        upload_limit_of({"RILIEVO_MAX_UPLOAD_MB": text})


@pytest.mark.parametrize("command, variable, value", [
    (["serve"], "RILIEVO_MAX_UPLOAD_MB", "huge"),
    (["worker"], "RILIEVO_KEEP_DAYS", "a month"),
    (["models", "list"], "RILIEVO_STORAGE_BUDGET", "50 gallons"),
    (["worker"], "RILIEVO_MAX_PIXELS", "lots"),
    (["cleanup", "--older-than", "1"], "RILIEVO_DIFFUSION_STEPS", "0"),
    (["serve"], "RILIEVO_DIFFUSION_SIZE", "768.5"),
])
def test_every_command_refuses_a_bad_setting_in_one_line(tmp_path, command, variable, value):
    environment = rilievo_env(tmp_path / "storage", **{variable: value})
    finished = subprocess.run([sys.executable, "-m", "rilievo.entrypoints.cli", *command], env=environment,
                              capture_output=True, text=True, timeout=60)
    assert finished.returncode == 2
    assert finished.stderr.startswith(f"rilievo: error: {variable}: ") and finished.stderr.count("\n") == 1
    assert not (tmp_path / "storage").exists()
