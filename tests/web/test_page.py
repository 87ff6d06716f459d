"""The web form as the server renders it: controls, choices from the domain, last-used values, assets."""

from __future__ import annotations

import io
import itertools
import re

import attrs
import pytest
import skimage.data
from litestar.testing import TestClient
from PIL import Image

from rilievo.domain.outputs import STAGE_SPAN
from rilievo.domain.errors import InvalidParameter
from rilievo.domain.job import JobStatus
from rilievo.domain.params import (
    DPIS,
    FORMATS,
    LAYER_COUNTS,
    PRINT_SIZES,
    STYLES,
    VARIATIONS,
    RenderParams,
)
from rilievo.entrypoints.bootstrap import web_side
from rilievo.entrypoints.http.app import create_app
from rilievo.entrypoints.http.options import form_options
from rilievo.entrypoints.settings import Settings
from tests.api.api_helpers import make_sides

CONTROL_IDS = [
    "file-input", "drop-zone", "upload-preview", "upload-info", "mode-photo", "mode-painterly",
    "style-controls", "painterliness", "depth_influence", "brush_scale", "style", "prompt", "seed",
    "print_size", "format", "export-layers", "layer-count", "feather", "sharpen", "generate",
    "results", "history-grid", "preset-select", "preset-name", "preset-save", "preset-load",
    "preset-export", "preset-import", "messages",
    "pane-controls", "refine_edges", "fill_behind", "min_feature_mm", "white_ink", "white_ink_choke",
    "mirror", "marks", "frame_depth_mm",
]
PANE_SWITCHES = ["refine_edges", "fill_behind", "white_ink", "mirror", "marks"]


@pytest.fixture
def client(tmp_path):
    web = web_side(Settings(tmp_path / "storage", tmp_path / "models", immediate_queue=True))
    with TestClient(create_app(web), base_url="http://127.0.0.1") as client:
        yield client


def photo_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(skimage.data.chelsea()[::4, ::4]).save(buffer, format="JPEG")
    return buffer.getvalue()


def tag_with_id(html: str, element_id: str) -> str:
    match = re.search(rf'<[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert match, f"no element with id {element_id!r}"
    return match.group(0)


def is_checked(html: str, element_id: str) -> bool:
    return re.search(r"\schecked\b", tag_with_id(html, element_id)) is not None


def value_of(html: str, element_id: str) -> str:
    return re.search(r'\svalue="([^"]*)"', tag_with_id(html, element_id)).group(1)


def submit_photo_job(client, params: dict) -> None:
    upload = client.post("/api/upload", files={"file": ("cat.jpg", photo_bytes(), "image/jpeg")})
    assert upload.status_code == 201, upload.text
    submitted = client.post(
        "/api/jobs", json={"upload_id": upload.json()["upload_id"], "mode": "photo", "params": params}
    )
    assert submitted.status_code == 202, submitted.text


def selected_option(html: str, select_id: str) -> str:
    block = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S).group(0)
    return re.search(r'<option value="([^"]*)" selected>', block).group(1)


def test_the_page_has_every_control_the_script_uses(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for element_id in CONTROL_IDS:
        tag_with_id(response.text, element_id)
    assert '<script src="/static/app.js" defer></script>' in response.text
    assert 'href="/static/app.css"' in response.text


def test_both_modes_are_offered_and_photo_mode_hides_the_style_controls(client):
    html = client.get("/").text

    assert "disabled" not in tag_with_id(html, "mode-painterly")
    assert "checked" in tag_with_id(html, "mode-photo")
    assert "repaints it with brush strokes" in html
    assert "hidden" in tag_with_id(html, "style-controls")  # photo mode hides the style controls


def test_the_choices_come_from_the_domain(client):
    html = client.get("/").text

    for value in (*STYLES, *PRINT_SIZES, *FORMATS):
        assert f'<option value="{value}"' in html
    for count in LAYER_COUNTS:
        assert f'<option value="{count}"' in html
    for dpi in DPIS:
        assert f'name="dpi" value="{dpi}"' in html
    for count in range(VARIATIONS[0], VARIATIONS[1] + 1):
        assert f'name="variations" value="{count}"' in html


def stages_on_the_page(html: str, mode: str) -> list[str]:
    """The stage list a job card of this mode shows, in the page's order, less the stages it skips."""
    body = re.search(r"<body[^>]*>", html).group(0)
    order = re.search(r'data-stages="([^"]*)"', body).group(1).split(",")
    shown = set(re.search(rf'data-{mode}-stages="([^"]*)"', body).group(1).split(","))
    return [stage for stage in order if stage in shown]


@pytest.mark.parametrize("mode", ["photo", "painterly"])
def test_the_page_lists_the_stages_in_the_order_a_real_job_reports_them(tmp_path, mode):
    web, work = make_sides(tmp_path)
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(photo_bytes())
    reported: list[str | None] = []

    job = work.render_now.render(photo, RenderParams(mode=mode), on_progress=lambda job: reported.append(job.stage))

    assert job.status is JobStatus.COMPLETED, job.error
    in_order = [stage for stage, _ in itertools.groupby(stage for stage in reported if stage)]
    with TestClient(create_app(web), base_url="http://127.0.0.1") as client:
        assert stages_on_the_page(client.get("/").text, mode) == in_order


def test_the_stages_follow_one_another_on_the_progress_scale():
    spans = list(STAGE_SPAN.values())
    assert spans[0][0] == 0.0 and spans[-1][1] == 1.0
    assert all(start < end for start, end in spans)
    assert all(previous[1] == following[0] for previous, following in itertools.pairwise(spans))


# Every numeric parameter but the seed has a slider or number field bounded by the domain's range.
NUMBER_CONTROLS = [
    "painterliness", "depth_influence", "brush_scale", "edition", "feather", "sharpen", "ink_limit",
    "min_feature_mm", "white_ink_choke", "frame_depth_mm",
]


def slider_bounds(html: str, name: str) -> tuple[float, float, float]:
    tag = tag_with_id(html, name)
    low, high, step = (float(re.search(rf'{key}="([^"]+)"', tag).group(1)) for key in ("min", "max", "step"))
    return low, high, step


def test_every_numeric_parameter_has_a_bounded_control():
    assert set(form_options().numbers) - {"seed"} == set(NUMBER_CONTROLS)


@pytest.mark.parametrize("name", NUMBER_CONTROLS)
def test_each_number_control_spans_exactly_what_the_domain_accepts(client, name):
    low, high, step = slider_bounds(client.get("/").text, name)
    as_value = int if attrs.fields_dict(RenderParams)[name].type in ("int", int) else float

    RenderParams(**{name: as_value(low)})
    RenderParams(**{name: as_value(high)})
    for outside in (low - step, high + step):
        with pytest.raises(InvalidParameter):
            RenderParams(**{name: as_value(outside)})


def test_a_fresh_install_starts_from_the_defaults(client):
    html = client.get("/").text
    defaults = RenderParams()

    assert f'value="{defaults.seed}"' in tag_with_id(html, "seed")
    assert f'value="{defaults.feather}"' in tag_with_id(html, "feather")
    assert "checked" in tag_with_id(html, "export-layers")
    assert selected_option(html, "layer-count") == "auto"
    for name in PANE_SWITCHES:
        assert is_checked(html, name) == getattr(defaults, name), name
    assert float(value_of(html, "min_feature_mm")) == defaults.min_feature_mm
    assert int(value_of(html, "white_ink_choke")) == defaults.white_ink_choke
    assert float(value_of(html, "frame_depth_mm")) == defaults.frame_depth_mm
    panes = tag_with_id(html, "pane-controls")
    assert "hidden" not in panes and "disabled" not in panes  # layers are on by default


def test_the_pane_options_sit_in_their_own_fieldset_with_plain_labels(client):
    html = client.get("/").text
    fieldset = re.search(r'<fieldset id="pane-controls".*?</fieldset>', html, re.S).group(0)

    assert "<legend>Panes for 3D assembly</legend>" in fieldset
    for text in (
        "Edges follow the subject",
        "Fill behind each layer",
        "so no holes show when the piece is seen at an angle",
        "Smallest printable/cuttable detail",
        "White-ink (underbase) masks for clear glass or acrylic",
        "Choke",
        "Mirrored copies for printing on the back of glass",
        "Crop and registration marks",
        "Frame depth, mm",
    ):
        assert text in fieldset, text
    for name in [*PANE_SWITCHES, "min_feature_mm", "white_ink_choke", "frame_depth_mm"]:
        assert f'id="{name}"' in fieldset, name
    for name in PANE_SWITCHES:
        assert 'type="checkbox"' in tag_with_id(fieldset, name)


def test_the_last_used_parameters_are_prefilled(client):
    submit_photo_job(client, {"seed": 9876, "feather": 7, "layers": 4, "sharpen": 0.3, "dpi": 600})

    html = client.get("/").text

    assert 'value="9876"' in tag_with_id(html, "seed")
    assert 'value="7"' in tag_with_id(html, "feather")
    assert 'value="0.3"' in tag_with_id(html, "sharpen")
    assert selected_option(html, "layer-count") == "4"
    assert re.search(r'name="dpi" value="600"[^>]*checked', html)


def test_the_last_used_pane_options_are_prefilled(client):
    flipped = {name: not getattr(RenderParams(), name) for name in PANE_SWITCHES}
    submit_photo_job(
        client,
        {"layers": 2, **flipped, "min_feature_mm": 0.5, "white_ink_choke": 2, "frame_depth_mm": 40},
    )

    html = client.get("/").text

    for name, on in flipped.items():
        assert is_checked(html, name) == on, name
    assert value_of(html, "min_feature_mm") == "0.5"
    assert value_of(html, "white_ink_choke") == "2"
    assert value_of(html, "frame_depth_mm") == "40"


def test_layers_switched_off_last_time_leave_the_checkbox_unchecked_and_the_panes_hidden(client):
    submit_photo_job(client, {"layers": "off"})

    html = client.get("/").text

    assert "checked" not in tag_with_id(html, "export-layers")
    panes = tag_with_id(html, "pane-controls")
    assert "hidden" in panes and "disabled" in panes


def test_saved_presets_are_listed(client):
    preset = {"name": "Glass 3", "params": attrs.asdict(RenderParams(layers=3))}
    assert client.post("/api/presets", json=preset).status_code == 201

    html = client.get("/").text

    assert '<option value="Glass 3">Glass 3</option>' in html


@pytest.mark.parametrize(
    ("path", "content_type", "marker"),
    [
        ("/static/app.js", "javascript", "/api/jobs"),
        ("/static/app.css", "text/css", ".drop-zone"),
    ],
)
def test_the_script_and_stylesheet_are_served_locally(client, path, content_type, marker):
    response = client.get(path)

    assert response.status_code == 200
    assert content_type in response.headers["content-type"]
    assert marker in response.text


def test_the_page_loads_nothing_from_other_hosts(client):
    html = client.get("/").text

    assert not re.search(r'(src|href)="(https?:)?//', html)


def engine_lines(html: str) -> list[str]:
    block = re.search(r'data-testid="engine-notes">(.*?)</ul>', html, re.S)
    assert block, "no engine notes on the page"
    return [" ".join(re.sub(r"<[^>]+>", "", item).split()) for item in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


def test_the_page_says_which_engines_run_and_that_weights_are_missing(client):
    lines = engine_lines(client.get("/").text)
    assert lines[0].startswith("Depth: classical estimator — no learned weights installed")
    assert lines[1].startswith("Painting: classical brush strokes — no learned weights installed")
    assert all("rilievo models pull" in line for line in lines)


def test_with_weights_installed_the_page_names_the_learned_engines(tmp_path):
    from tests.e2e.test_models_cli import install

    from rilievo.adapters.model_store import ModelStore

    install(ModelStore(tmp_path / "models"), "depth-anything-v2-small", "sd15", "controlnet-depth", "controlnet-canny")
    web = web_side(Settings(tmp_path / "storage", tmp_path / "models", immediate_queue=True))
    with TestClient(create_app(web), base_url="http://127.0.0.1") as learned:
        lines = engine_lines(learned.get("/").text)
    assert lines[0] == "Depth: depth-anything-v2-small"
    assert lines[1] == "Painting: Stable Diffusion 1.5 + ControlNet"
