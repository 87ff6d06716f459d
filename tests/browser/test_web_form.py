"""The web form in a real headless Chromium against `rilievo serve` (web app + worker process)."""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import pytest
import skimage.data
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.subprocess_env import rilievo_env

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
START_TIMEOUT_S = 30
JOB_TIMEOUT_MS = 40_000
FINISHED = re.compile("completed|failed|cancelled")
PHONE = {"width": 375, "height": 812}
PANE_SWITCHES = ["refine_edges", "fill_behind", "white_ink", "mirror", "marks"]
LAPTOP = {"width": 1280, "height": 900}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServeProcess:
    """`rilievo serve` as a user starts it; its output goes to a file so a full pipe never blocks it."""

    def __init__(self, storage: Path, log_path: Path):
        self.url = f"http://127.0.0.1:{free_port()}"
        self.storage = storage
        self.log_path = log_path
        command = [str(Path(sys.executable).parent / "rilievo"), "serve", "--port", self.url.rsplit(":", 1)[1]]
        env = rilievo_env(storage)
        with log_path.open("w") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait_until_answering(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"rilievo serve exited early:\n{self.log()}"
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"rilievo serve did not answer within {START_TIMEOUT_S} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"rilievo serve ignored SIGINT:\n{self.log()}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    process = ServeProcess(folder / "storage", folder / "serve.log")
    try:
        process.wait_until_answering()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def script_errors() -> list[str]:
    """Uncaught exceptions in the page's JavaScript."""
    return []


@pytest.fixture
def page(browser: Browser, server: ServeProcess, script_errors: list[str]):
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True, base_url=server.url)
    page = context.new_page()
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.goto("/")
    expect(page.locator("body")).to_have_attribute("data-ready", "yes")
    yield page
    context.close()


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "astronaut.jpg"
    Image.fromarray(skimage.data.astronaut()).save(path, quality=90)  # 512 x 512
    return path


def image_loaded(page: Page, selector: str) -> None:
    page.wait_for_function(
        "selector => { const img = document.querySelector(selector);"
        " return img !== null && img.complete && img.naturalWidth > 0; }",
        arg=selector,
    )


def download(page: Page, test_id: str, folder: Path) -> Path:
    with page.expect_download() as started:
        page.get_by_test_id(test_id).first.click()
    target = folder / started.value.suggested_filename
    started.value.save_as(target)
    return target


def finished(page: Page, card) -> dict:
    """The card's job once it has finished; a failure fails the test at once, with the job's reason."""
    expect(card.get_by_test_id("job-status")).to_have_text(FINISHED, timeout=JOB_TIMEOUT_MS)
    job = job_of(page, card)
    assert job["status"] == "completed", f"the job {job['status']}: {job.get('error')}"
    return job


def job_of(page: Page, card) -> dict:
    job_id = card.get_attribute("data-job-id")
    response = page.request.get(f"/api/jobs/{job_id}")
    assert response.ok, response.text()
    return response.json()


def assert_pane_options_kept(params: dict) -> None:
    assert params["mirror"] is True
    assert params["white_ink_choke"] == 2
    assert params["frame_depth_mm"] == 40
    for name in PANE_SWITCHES:
        assert isinstance(params[name], bool), name  # JSON booleans, never the checkbox's "on"


def one_decimal(value: float) -> str:
    """As JavaScript's toFixed(1) writes it: exact ties round up, where Python's format rounds to even."""
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def check_the_assembly_views(page: Page, card, outputs: set[str]) -> None:
    """Parallax and guide where the job made them (older jobs did not); a note where it did not."""
    toggle = page.locator("#view-toggle")
    for view, name, test_id in (("parallax", "parallax.gif", "result-parallax"),
                                ("guide", "assembly_guide.png", "result-guide")):
        toggle.locator(f'button[data-view="{view}"]').click()
        if name in outputs:
            image_loaded(page, f'[data-testid="{test_id}"]')
            expect(card.get_by_test_id(test_id)).to_be_visible()
            expect(card.get_by_test_id("result-composite")).to_be_hidden()
        else:
            expect(card.get_by_test_id(test_id)).to_be_hidden()
            expect(card.get_by_text("Not made for this job.")).to_be_visible()
    toggle.locator('button[data-view="side"]').click()
    expect(card.get_by_test_id("result-guide")).to_be_hidden()  # the guide is a page of its own
    expect(card.get_by_test_id("result-depth")).to_be_visible()

    manifest = page.request.get(card.get_by_test_id("download-layer_manifest.json").get_attribute("href"))
    spacers = (manifest.json().get("assembly") or {}).get("spacers_mm")
    line = card.get_by_test_id("assembly-spacers")
    if spacers:
        expected = " · ".join(f"{one_decimal(value)} mm" for value in spacers)
        expect(line).to_contain_text(f"Spacers: {expected}")
    else:
        expect(line).to_be_hidden()


def horizontal_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_a_photo_becomes_layers_with_downloads(page: Page, photo: Path, tmp_path: Path, script_errors):
    job_polls = []

    def note_job_poll(request) -> None:
        if request.method == "GET" and "/api/jobs/" in request.url:
            job_polls.append(request.url)

    page.on("request", note_job_poll)

    page.set_input_files("#file-input", photo)

    expect(page.get_by_test_id("upload-info")).to_contain_text("512 × 512 px · JPEG")
    image_loaded(page, "#upload-preview")
    expect(page.get_by_test_id("generate")).to_be_enabled()
    expect(page.get_by_test_id("style-controls")).to_be_hidden()  # photo mode
    page.get_by_test_id("mode-painterly").check()
    expect(page.get_by_test_id("style-controls")).to_be_visible()
    page.get_by_test_id("mode-photo").check()
    expect(page.get_by_test_id("style-controls")).to_be_hidden()

    # The pane options go with the layer switch, and the choke with the white ink.
    panes = page.get_by_test_id("pane-controls")
    page.get_by_test_id("export-layers").uncheck()
    expect(panes).to_be_hidden()
    expect(page.get_by_test_id("mirror")).to_be_disabled()
    page.get_by_test_id("export-layers").check()
    expect(panes).to_be_visible()
    page.get_by_test_id("white_ink").uncheck()
    expect(page.get_by_test_id("white_ink_choke")).to_be_disabled()
    page.get_by_test_id("white_ink").check()
    expect(page.get_by_test_id("white_ink_choke")).to_be_enabled()

    page.get_by_test_id("layer-count").select_option("3")
    page.get_by_test_id("mirror").check()
    page.get_by_test_id("white_ink_choke").fill("2")
    expect(page.locator("#white_ink_choke-value")).to_have_text("2")
    page.get_by_test_id("frame_depth_mm").fill("40")
    with page.expect_request(lambda request: request.method == "POST"
                             and request.url.endswith("/api/jobs")) as posted:
        page.get_by_test_id("generate").click()
    assert_pane_options_kept(posted.value.post_data_json["params"])

    card = page.get_by_test_id("job-card")
    expect(card).to_have_count(1)
    job = finished(page, card)
    assert job_polls, "the page never polled GET /api/jobs/{id}"
    assert_pane_options_kept(job["params"])
    expect(card.locator('[data-field="meta"]')).to_contain_text("depth: classical")  # the job's engines
    outputs = set(job["outputs"])
    for selector in ('[data-testid="result-composite"]', '[data-testid="result-overlay"]',
                     '[data-testid="result-depth"]'):
        image_loaded(page, selector)
    layers = card.locator('[data-role="layers"] > li')
    expect(layers).to_have_count(3)
    for order in (1, 2, 3):  # what each pane holds, from the manifest's regions
        expect(card.get_by_test_id(f"layer-{order}-regions")).to_contain_text(re.compile(r"^holds: \w+ "))
    check_the_assembly_views(page, card, outputs)

    # Each layer lists its own files; the general list keeps the rest.
    for order in (1, 2, 3):
        mine = {name for name in outputs if name.startswith(f"Layer_{order}_")}
        links = card.get_by_test_id(f"layer-{order}").locator("a[download]")
        expect(links).to_have_count(len(mine))
        assert {link.get_attribute("download") for link in links.all()} == mine
    general = {link.get_attribute("download") for link in card.get_by_test_id("downloads").locator("a").all()}
    assert "depth_map.png" in general and not any(name.startswith("Layer_") for name in general)

    depth = Image.open(download(page, "download-depth_map.png", tmp_path))
    assert (depth.format, depth.size) == ("PNG", (512, 512))
    layer = Image.open(download(page, "download-Layer_1_front.png", tmp_path))
    assert (layer.format, layer.mode, layer.size) == ("PNG", "RGBA", (512, 512))
    with zipfile.ZipFile(download(page, "download-layers.zip", tmp_path)) as archive:
        manifest = json.loads(archive.read("layer_manifest.json"))
        named = {entry.get(key) for entry in manifest["layers"]
                 for key in ("file", "white_ink_file", "cut_file", "print_file")} - {None}
        inside = set(archive.namelist())
        assert {entry["file"] for entry in manifest["layers"]} | {"layer_manifest.json"} <= inside
        assert inside <= named | {"layer_manifest.json", "assembly_guide.png"}
    final_href = card.get_by_test_id("download-composite_full.png").get_attribute("href")
    final = page.request.get(final_href)
    assert final.ok and Image.open(io.BytesIO(final.body())).format == "PNG"

    history = page.get_by_test_id("history-item")
    expect(history).to_have_count(1)
    image_loaded(page, '[data-testid="history-item"] img')

    # Another seed: the same upload and settings come back as a second card, with a new seed.
    first_seed = card.first.locator('[data-field="meta"]').inner_text()
    card.first.get_by_test_id("regenerate").click()
    expect(card).to_have_count(2)
    assert_pane_options_kept(finished(page, card.nth(1))["params"])
    assert card.nth(1).locator('[data-field="meta"]').inner_text() != first_seed
    expect(history).to_have_count(2)

    page.set_viewport_size(PHONE)
    assert horizontal_overflow(page) <= 0
    assert script_errors == []


def test_a_print_size_job_in_cmyk_shows_its_warning_and_print_files(page: Page, photo: Path, script_errors):
    page.set_input_files("#file-input", photo)
    expect(page.get_by_test_id("generate")).to_be_enabled()
    page.get_by_test_id("export-layers").uncheck()
    cmyk = page.get_by_test_id("cmyk-controls")
    expect(cmyk).to_be_hidden()
    page.locator("#format").select_option("cmyk-tiff")
    expect(cmyk).to_be_visible()
    page.locator("#intent").select_option("relative")
    page.get_by_test_id("custom_size").fill("8x8in")  # 2400 px from a 512 px photo: 4.7x
    with page.expect_request(lambda request: request.method == "POST"
                             and request.url.endswith("/api/jobs")) as posted:
        page.get_by_test_id("generate").click()
    params = posted.value.post_data_json["params"]
    assert (params["print_size"], params["format"], params["intent"]) == ("8x8in", "cmyk-tiff", "relative")

    card = page.get_by_test_id("job-card")
    job = finished(page, card)
    assert {"composite_full.cmyk.tif", "soft_proof.jpg", "composite_preview.jpg"} <= set(job["outputs"])
    warnings = card.get_by_test_id("job-warnings")
    expect(warnings).to_be_visible()
    expect(warnings).to_contain_text("Warning: the print enlarges the photo 4.7x")
    assert script_errors == []


def test_the_form_fits_a_phone_and_keeps_presets(page: Page, script_errors):
    page.set_viewport_size(PHONE)
    assert horizontal_overflow(page) <= 0

    page.get_by_test_id("export-layers").check()
    page.get_by_test_id("marks").check()
    page.get_by_test_id("mirror").uncheck()
    page.get_by_test_id("preset-name").fill("Phone preset")
    page.get_by_test_id("preset-save").click()

    expect(page.get_by_test_id("preset-select")).to_have_value("Phone preset")
    presets = page.request.get("/api/presets").json()["presets"]
    saved = next(preset["params"] for preset in presets if preset["name"] == "Phone preset")
    assert saved["marks"] is True and saved["mirror"] is False  # JSON booleans
    page.get_by_test_id("marks").uncheck()
    page.get_by_test_id("preset-load").click()
    expect(page.get_by_test_id("marks")).to_be_checked()
    expect(page.get_by_test_id("mirror")).not_to_be_checked()
    assert horizontal_overflow(page) <= 0
    assert script_errors == []


def test_a_file_that_is_not_a_photo_is_refused_with_the_reason(page: Page):
    page.set_input_files(
        "#file-input", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo\n"}]
    )

    error = page.get_by_test_id("error-message")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(page.get_by_test_id("upload-info")).to_have_text("No photo yet.")
    expect(page.get_by_test_id("upload-preview")).to_be_hidden()
    expect(page.get_by_test_id("generate")).to_be_disabled()


def test_a_job_whose_folder_was_moved_shows_a_placeholder_and_requests_none_of_its_files(
        page: Page, server: ServeProcess, photo: Path, tmp_path: Path, script_errors):
    """A job the command line rendered into a folder of the user's own, moved since: the history and
    the job say so, and the browser asks for no file that is gone (no 404 in the console)."""
    rendered = subprocess.run(
        [str(Path(sys.executable).parent / "rilievo"), "render", str(photo), "--layers", "2",
         "--out", str(tmp_path / "my prints"), "--json"],
        env=rilievo_env(server.storage), capture_output=True, text=True, check=True,
    )
    job_id = json.loads(rendered.stdout)["job_id"]
    shutil.move(tmp_path / "my prints" / job_id, tmp_path / "moved")
    refused, console_errors = [], []
    page.on("response", lambda response: response.status >= 400 and refused.append(f"{response.status} {response.url}"))
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))

    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "yes")
    item = page.locator(f'[data-testid="history-item"][data-job-id="{job_id}"]')
    expect(item).to_contain_text("Files moved or deleted")
    expect(item.locator('[data-role="thumb"]')).to_be_hidden()
    item.locator('[data-action="open"]').click()

    card = page.get_by_test_id("job-card")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("job-status")).to_have_text("completed")
    expect(card.get_by_test_id("job-files-gone")).to_contain_text("Files moved or deleted")
    for test_id in ("result-composite", "result-depth", "downloads", "layer-list"):
        expect(card.get_by_test_id(test_id)).to_be_hidden()
    page.wait_for_load_state("networkidle")
    assert page.request.get(f"/api/jobs/{job_id}").json()["files_present"] is False
    assert refused == [] and console_errors == [] and script_errors == []
