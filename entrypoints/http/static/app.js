// Rilievo web form: plain JavaScript over the JSON API under /api. No build step, no dependencies.
"use strict";

(() => {
  const STAGES = document.body.dataset.stages.split(",");
  const MODE_STAGES = {
    photo: new Set(document.body.dataset.photoStages.split(",")),
    painterly: new Set(document.body.dataset.painterlyStages.split(",")),
  };
  const LAYER_TINTS = document.body.dataset.layerTints.split(";");
  const FINISHED = new Set(["completed", "failed", "cancelled"]);
  const POLL_MS = 500;
  const HISTORY_PAGE = 12;
  // The panes' on/off settings: sent as JSON booleans, never as a checkbox's "on".
  const PANE_SWITCHES = ["refine_edges", "fill_behind", "white_ink", "mirror", "marks"];
  const PRINT_SWITCHES = ["bleed"];
  // The request fields the form controls; job params from the API may hold more (mode, near).
  const PARAM_NAMES = ["seed", "edition", "painterliness", "depth_influence", "brush_scale", "style", "prompt",
    "print_size", "dpi", "format", "fit", "intent", "ink_limit", "cmyk_profile", ...PRINT_SWITCHES, "layers",
    "feather", "sharpen", ...PANE_SWITCHES, "min_feature_mm", "white_ink_choke", "frame_depth_mm", "depth_engine"];
  // Params that fill a control's value as they are (the rest: radios, switches, the layer choice).
  const VALUE_PARAMS = ["seed", "edition", "painterliness", "depth_influence", "brush_scale", "style", "prompt",
    "format", "fit", "intent", "ink_limit", "cmyk_profile", "feather", "sharpen", "min_feature_mm",
    "white_ink_choke", "frame_depth_mm"];
  // The downloads list shows a job's files in this order; names not listed come last. A layer's
  // files (Layer_1_front.png, Layer_1_front_white.png, ...) stay together, layer by layer.
  const FILE_ORDER = ["composite_full.png", "depth_map.png", "layer_overlay.png", "parallax.gif",
    "assembly_guide.png", "Layer_*.png", "Layer_*_white.png", "Layer_*_cut.svg", "Layer_*_print.png",
    "layer_manifest.json", "params.json", "layers.zip", "preview.png", "depth_preview.png"];
  const FILE_LABELS = {
    "composite_full.png": "Final image",
    "depth_map.png": "Depth map",
    "layer_overlay.png": "Layer separation",
    "parallax.gif": "Parallax preview (GIF)",
    "assembly_guide.png": "Assembly guide",
    "Layer_*.png": "Colour",
    "Layer_*_white.png": "White ink",
    "Layer_*_cut.svg": "Cut outline (SVG)",
    "Layer_*_print.png": "Print file",
    "layer_manifest.json": "Layer manifest",
    "params.json": "Settings (params.json)",
    "layers.zip": "All layers (.zip)",
    "preview.png": "Preview (small)",
    "depth_preview.png": "Depth preview (small)",
  };
  // The fields of a manifest layer that name its files (null where the job made none).
  const LAYER_FILE_FIELDS = ["file", "white_ink_file", "cut_file", "print_file"];

  const $ = (selector, root = document) => root.querySelector(selector);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // --- the API -------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, detail) {
      super(detail);
      this.status = status;
      this.code = code;
    }
  }

  function errorFrom(status, statusText, data) {
    if (data && data.detail) return new ApiError(status, data.error || "error", String(data.detail));
    return new ApiError(status, "http", `The server answered ${status} ${statusText || ""}`.trim());
  }

  async function api(method, url, body) {
    const init = { method, headers: { Accept: "application/json" } };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      throw new ApiError(0, "network", "The server did not answer. Is Rilievo still running?");
    }
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch {
      // not JSON: errorFrom falls back to the status line
    }
    if (!response.ok) throw errorFrom(response.status, response.statusText, data);
    return data;
  }

  // A job's file by name: the URL the API lists, else the documented route.
  function fileUrl(job, name) {
    const listed = job.outputs && job.outputs[name];
    if (typeof listed === "string" && (listed.startsWith("/api/") || /^https?:/.test(listed))) return listed;
    return `/api/jobs/${encodeURIComponent(job.job_id)}/files/${encodeURIComponent(name)}`;
  }

  function withDownload(url) {
    return url + (url.includes("?") ? "&" : "?") + "download=1";
  }

  // --- messages ------------------------------------------------------------------------------

  const messages = $("#messages");

  function showMessage(text, kind = "error") {
    const item = document.createElement("div");
    item.className = `message ${kind}`;
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    item.dataset.testid = kind === "error" ? "error-message" : "info-message";
    const paragraph = document.createElement("p");
    paragraph.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => item.remove());
    item.append(paragraph, close);
    messages.append(item);
    // Keep the area short: the oldest note goes first, errors only when nothing else is left.
    while (messages.children.length > 3) {
      (messages.querySelector(".message.info") || messages.firstElementChild).remove();
    }
    if (kind === "info") setTimeout(() => item.remove(), 5000);
  }

  function reportError(error) {
    if (!(error instanceof ApiError)) console.error(error);
    showMessage(error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`);
  }

  // --- formatting ----------------------------------------------------------------------------

  function formatBytes(bytes) {
    const units = ["bytes", "KB", "MB", "GB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit += 1;
    }
    return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
  }

  function formatWhen(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    return date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
  }

  function stageLabel(stage) {
    return stage.charAt(0).toUpperCase() + stage.slice(1).replace(/-/g, " ");
  }

  function randomSeed() {
    return crypto.getRandomValues(new Uint32Array(1))[0];
  }

  // --- the form ------------------------------------------------------------------------------

  const form = $("#render-form");
  const generateButton = $("#generate");
  const generateHint = $("#generate-hint");

  function radioValue(name) {
    const checked = form.querySelector(`input[name="${name}"]:checked`);
    return checked ? checked.value : null;
  }

  function setRadio(name, value) {
    const target = form.querySelector(`input[name="${name}"][value="${CSS.escape(String(value))}"]`);
    if (target && !target.disabled) target.checked = true;
  }

  function readParams() {
    const layerCount = $("#layer-count").value;
    return {
      seed: parseInt($("#seed").value, 10),
      edition: parseInt($("#edition").value, 10),
      painterliness: Number($("#painterliness").value),
      depth_influence: Number($("#depth_influence").value),
      brush_scale: parseInt($("#brush_scale").value, 10),
      style: $("#style").value,
      prompt: $("#prompt").value,
      print_size: $("#custom_size").value.trim() || $("#print_size").value,
      dpi: Number(radioValue("dpi")),
      format: $("#format").value,
      fit: $("#fit").value,
      intent: $("#intent").value,
      ink_limit: parseInt($("#ink_limit").value, 10),
      cmyk_profile: $("#cmyk_profile").value.trim(),
      ...Object.fromEntries(PRINT_SWITCHES.map((name) => [name, $(`#${name}`).checked])),
      layers: !$("#export-layers").checked ? "off" : layerCount === "auto" ? "auto" : Number(layerCount),
      feather: parseInt($("#feather").value, 10),
      sharpen: Number($("#sharpen").value),
      // The pane options go along even with layers off, so they come back as the last-used values.
      ...Object.fromEntries(PANE_SWITCHES.map((name) => [name, $(`#${name}`).checked])),
      min_feature_mm: Number($("#min_feature_mm").value),
      white_ink_choke: parseInt($("#white_ink_choke").value, 10),
      frame_depth_mm: Number($("#frame_depth_mm").value),
      depth_engine: $("#depth_engine").value,
    };
  }

  function applyParams(params) {
    for (const name of VALUE_PARAMS) {
      if (params[name] !== undefined && params[name] !== null) form.elements.namedItem(name).value = params[name];
    }
    // Presets saved before a switch existed leave it as it is.
    for (const name of [...PANE_SWITCHES, ...PRINT_SWITCHES]) {
      if (typeof params[name] === "boolean") $(`#${name}`).checked = params[name];
    }
    if (params.print_size !== undefined) {
      // a preset selects its option; a size of the user's own goes in the text field
      const preset = [...$("#print_size").options].some((option) => option.value === params.print_size);
      $("#print_size").value = preset ? params.print_size : "original";
      $("#custom_size").value = preset ? "" : params.print_size;
    }
    if (params.depth_engine !== undefined) {
      // an engine that is no longer installed leaves the choice at auto
      const offered = [...$("#depth_engine").options].some((option) => option.value === params.depth_engine);
      $("#depth_engine").value = offered ? params.depth_engine : "auto";
    }
    if (params.dpi !== undefined) setRadio("dpi", params.dpi);
    if (params.mode !== undefined) setRadio("mode", params.mode);
    if (params.layers !== undefined) {
      $("#export-layers").checked = params.layers !== "off";
      if (params.layers !== "off") $("#layer-count").value = String(params.layers);
    }
    syncControls();
  }

  function syncControls() {
    for (const output of form.querySelectorAll("output[for]")) {
      output.value = form.elements.namedItem(output.htmlFor.value).value;
    }
    const mode = form.querySelector('input[name="mode"]:checked');
    const styleControls = $("#style-controls");
    styleControls.hidden = !mode || mode.value === "photo";
    styleControls.disabled = styleControls.hidden;
    const cmykControls = $("#cmyk-controls");
    cmykControls.hidden = $("#format").value !== "cmyk-tiff";
    cmykControls.disabled = cmykControls.hidden;
    const layersOn = $("#export-layers").checked;
    $("#layer-count").disabled = !layersOn;
    $("#feather").disabled = !layersOn;
    const paneControls = $("#pane-controls");
    paneControls.hidden = !layersOn;
    paneControls.disabled = !layersOn;
    $("#white_ink_choke").disabled = !$("#white_ink").checked;
    $("#prompt-count").textContent = $("#prompt").value.length;
  }

  // --- upload --------------------------------------------------------------------------------

  const upload = { id: null, objectUrl: null, request: null, submitting: false };
  const preview = $("#upload-preview");
  const dropZone = $("#drop-zone");
  const dropHint = $("#drop-hint");
  const uploadInfo = $("#upload-info");
  const uploadBar = $("#upload-progress");

  function updateGenerate() {
    generateButton.disabled = !upload.id || upload.submitting;
    generateButton.textContent = upload.submitting ? "Working…" : "Generate";
    if (upload.request) generateHint.textContent = "Uploading…";
    else if (!upload.id) generateHint.textContent = "Upload a photo first.";
    else generateHint.textContent = "";
  }

  function showPreview(file) {
    if (upload.objectUrl) URL.revokeObjectURL(upload.objectUrl);
    upload.objectUrl = file ? URL.createObjectURL(file) : null;
    if (upload.objectUrl) {
      preview.src = upload.objectUrl;
    } else {
      preview.removeAttribute("src");
    }
    preview.hidden = !file;
    dropHint.hidden = Boolean(file);
  }

  // Browsers cannot show every format we accept (TIFF): keep the hint instead of a broken image.
  preview.addEventListener("error", () => {
    if (!preview.getAttribute("src")) return;
    preview.hidden = true;
    dropHint.hidden = false;
  });

  function chooseFile(file) {
    if (!file) return;
    if (upload.request) upload.request.abort();
    upload.id = null;
    showPreview(file);
    uploadInfo.textContent = `Uploading ${file.name} (${formatBytes(file.size)})…`;
    sendUpload(file);
  }

  function sendUpload(file) {
    const body = new FormData();
    body.append("file", file);
    const request = new XMLHttpRequest();
    upload.request = request;
    request.open("POST", "/api/upload");
    request.setRequestHeader("Accept", "application/json");
    request.responseType = "json";
    uploadBar.value = 0;
    uploadBar.hidden = false;
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) uploadBar.value = event.loaded / event.total;
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300 && request.response) {
        uploaded(request.response);
      } else {
        uploadFailed(errorFrom(request.status, request.statusText, request.response));
      }
    });
    request.addEventListener("error", () => {
      uploadFailed(new ApiError(0, "network", "The upload did not reach the server. Is Rilievo still running?"));
    });
    request.addEventListener("loadend", () => {
      if (upload.request === request) upload.request = null;
      uploadBar.hidden = true;
      updateGenerate();
    });
    request.send(body);
    updateGenerate();
  }

  function uploaded(data) {
    upload.id = data.upload_id;
    uploadInfo.textContent =
      `${data.width} × ${data.height} px · ${data.format} · ${formatBytes(data.bytes)}`;
  }

  function uploadFailed(error) {
    upload.id = null;
    showPreview(null);
    $("#file-input").value = "";
    uploadInfo.textContent = "No photo yet.";
    reportError(error);
  }

  // --- results: one card per job -------------------------------------------------------------

  const results = $("#results");
  const resultsEmpty = $("#results-empty");
  const cards = new Map(); // job id -> card element

  function clearResults() {
    results.replaceChildren();
    cards.clear();
    resultsEmpty.hidden = false;
  }

  function addCard(jobId, title) {
    const card = $("#job-card-template").content.firstElementChild.cloneNode(true);
    card.dataset.jobId = jobId;
    $('[data-field="title"]', card).textContent = title;
    const stages = $('[data-role="stages"]', card);
    for (const stage of STAGES) {
      const item = document.createElement("li");
      item.dataset.stage = stage;
      item.textContent = stageLabel(stage);
      stages.append(item);
    }
    results.append(card);
    cards.set(jobId, card);
    resultsEmpty.hidden = true;
    return card;
  }

  function removeCard(jobId) {
    const card = cards.get(jobId);
    if (card) card.remove();
    cards.delete(jobId);
    resultsEmpty.hidden = cards.size > 0;
  }

  function updateCard(job) {
    const card = cards.get(job.job_id);
    if (!card) return;
    card.job = job;
    card.dataset.status = job.status;
    const badge = $('[data-field="status"]', card);
    badge.textContent = job.status;
    badge.className = `badge ${job.status}`;
    $('[data-field="meta"]', card).textContent = jobSummary(job);

    const running = !FINISHED.has(job.status);
    $('[data-role="progress"]', card).hidden = !running;
    if (running) showProgress(card, job);

    const error = $('[data-field="error"]', card);
    error.hidden = !job.error;
    error.textContent = job.error || "";

    $('[data-action="retry"]', card).hidden = !["failed", "cancelled"].includes(job.status);
    $('[data-action="cancel"]', card).hidden = !running;
    $('[data-action="delete"]', card).hidden = job.status === "processing";

    // A job rendered into a folder of the user's own that was moved or deleted since: say so, and
    // ask the server for none of its files.
    const gone = filesGone(job);
    $('[data-field="files-gone"]', card).hidden = !gone;
    if (job.status === "completed" && card.dataset.shown !== "yes") {
      card.dataset.shown = "yes";
      if (!gone) showResult(card, job);
    }
  }

  function filesGone(job) {
    return job.status === "completed" && job.files_present === false;
  }

  function jobSummary(job) {
    const params = job.params || {};
    const parts = [`seed ${params.seed}`];
    if (params.layers !== undefined) parts.push(params.layers === "off" ? "no layers" : `layers: ${params.layers}`);
    const engines = Object.entries(job.engines || {}).map(([stage, engine]) => `${stage}: ${engine}`);
    if (engines.length) parts.push(engines.join(", "));
    return parts.join(" · ");
  }

  function showProgress(card, job) {
    const bar = $('[data-role="bar"]', card);
    if (job.status === "pending") {
      bar.removeAttribute("value"); // indeterminate while it waits in the queue
    } else {
      bar.value = job.progress || 0;
    }
    const current = STAGES.indexOf(job.stage);
    const modeStages = MODE_STAGES[(job.params && job.params.mode) || "photo"] || MODE_STAGES.photo;
    for (const item of $('[data-role="stages"]', card).children) {
      const index = STAGES.indexOf(item.dataset.stage);
      item.className = "";
      if (!modeStages.has(item.dataset.stage)) item.classList.add("skipped");
      else if (index < current) item.classList.add("done");
      else if (index === current) item.classList.add("current");
    }
  }

  function setImage(card, role, url) {
    const img = $(`[data-role="${role}"]`, card);
    const link = $(`[data-role="${role}-link"]`, card);
    img.src = url;
    link.href = url;
  }

  function hasFile(job, name) {
    return Object.prototype.hasOwnProperty.call(job.outputs || {}, name);
  }

  // A view older jobs (or jobs without layers) do not have: its figure shows only when the file exists.
  function showOptionalView(card, role, job, name) {
    const exists = hasFile(job, name);
    $(`[data-role="${role}-figure"]`, card).hidden = !exists;
    if (exists) setImage(card, role, fileUrl(job, name));
    else $(`[data-role="${role}"]`, card).removeAttribute("src");
  }

  // The small preview where the job has one: a print-size final image is too big to show.
  function previewUrl(job) {
    if (job.outputs && job.outputs["preview.png"]) return fileUrl(job, "preview.png");
    return job.result_url || fileUrl(job, "composite_full.png");
  }

  function showResult(card, job) {
    const names = Object.keys(job.outputs || {});
    $('[data-role="views"]', card).hidden = false;
    setImage(card, "composite", previewUrl(job));
    $('[data-role="composite-link"]', card).href = job.result_url || fileUrl(job, "composite_full.png");
    const depthName = names.includes("depth_preview.png") ? "depth_preview.png" : "depth_map.png";
    setImage(card, "depth", fileUrl(job, depthName));
    $('[data-role="depth-link"]', card).href = fileUrl(job, "depth_map.png");
    showOptionalView(card, "overlay", job, "layer_overlay.png");
    showOptionalView(card, "parallax", job, "parallax.gif");
    showOptionalView(card, "guide", job, "assembly_guide.png");
    clearLayers(card);
    showDownloads(card, job, new Set());
    if (names.includes("layer_manifest.json")) showLayers(card, job);
    showWarnings(card, job);
  }

  // What the job warns about: an enlargement past what the photo supports, a flat depth map, a missing LoRA.
  function showWarnings(card, job) {
    const list = $('[data-field="warnings"]', card);
    list.replaceChildren(...(job.warnings || []).map((text) => {
      const item = document.createElement("li");
      item.textContent = `Warning: ${text}`;
      return item;
    }));
    list.hidden = !list.children.length;
  }

  function clearLayers(card) {
    $('[data-role="layers"]', card).replaceChildren();
    $('[data-role="assembly"]', card).hidden = true;
  }

  function downloadLink(job, name, text) {
    const link = document.createElement("a");
    const url = name === "layers.zip" && job.zip_url ? job.zip_url : fileUrl(job, name);
    link.href = withDownload(url);
    link.download = name;
    link.dataset.testid = `download-${name}`;
    link.textContent = text;
    return link;
  }

  // Every file of the job, less those listed under their own layer in the layer list.
  function showDownloads(card, job, listedUnderLayers) {
    const names = Object.keys(job.outputs || {}).filter((name) => !listedUnderLayers.has(name));
    const list = $('[data-role="download-list"]', card);
    list.replaceChildren(...downloadOrder(names).map((name) => {
      const item = document.createElement("li");
      item.append(downloadLink(job, name, fileLabel(name)));
      return item;
    }));
    $('[data-role="downloads"]', card).hidden = names.length === 0;
  }

  // "Layer_2_mid_white.png" -> { index: 2, position: "mid", kind: "Layer_*_white.png" }
  function layerFile(name) {
    const match = /^Layer_(\d+)_([a-z]+)(_[a-z]+)?(\.\w+)$/.exec(name);
    if (!match) return null;
    return { index: Number(match[1]), position: match[2], kind: `Layer_*${match[3] || ""}${match[4]}` };
  }

  function fileLabel(name) {
    if (FILE_LABELS[name]) return FILE_LABELS[name];
    const layer = layerFile(name);
    if (!layer) return name;
    const title = `Layer ${layer.index} (${layer.position})`;
    if (layer.kind === "Layer_*.png") return title;
    const kind = FILE_LABELS[layer.kind] || name;
    return `${title}: ${kind.charAt(0).toLowerCase()}${kind.slice(1)}`;
  }

  function downloadOrder(names) {
    const position = (key) => (FILE_ORDER.includes(key) ? FILE_ORDER.indexOf(key) : FILE_ORDER.length);
    const rank = (name) => {
      const layer = layerFile(name);
      if (layer) return [FILE_ORDER.indexOf("Layer_*.png"), layer.index, position(layer.kind)];
      return [position(name), 0, 0];
    };
    return [...names].sort((a, b) => {
      const [groupA, layerA, kindA] = rank(a);
      const [groupB, layerB, kindB] = rank(b);
      return groupA - groupB || layerA - layerB || kindA - kindB || a.localeCompare(b);
    });
  }

  // A layer's files that exist: those its manifest entry names, and any other Layer_N_ file.
  function filesOfLayer(job, layer) {
    const named = LAYER_FILE_FIELDS.map((field) => layer[field]).filter((name) => typeof name === "string");
    const names = Object.keys(job.outputs || {}).filter((name) => {
      const file = layerFile(name);
      return named.includes(name) || (file !== null && file.index === layer.order);
    });
    return downloadOrder(names);
  }

  // "holds: subject in the middle, sky at the top (cut by depth), …": the largest regions on the pane,
  // from the manifest, so the user sees why a pane is what it is.
  const REGIONS_SHOWN = 4;
  function regionsHeld(layer) {
    const regions = Array.isArray(layer.regions) ? layer.regions : [];
    const counts = new Map();  // the same description twice is said once, with its count
    for (const region of regions) {
      if (typeof region.description !== "string") continue;
      const said = region.description + (region.cut_by_depth ? " (cut by depth)" : "");
      counts.set(said, (counts.get(said) || 0) + 1);
    }
    const described = [...counts].slice(0, REGIONS_SHOWN).map(([said, count]) => count > 1 ? `${said} (${count})` : said);
    if (!described.length) return "";
    const more = counts.size > described.length ? `, and ${counts.size - described.length} more` : "";
    return `holds: ${described.join(", ")}${more}`;
  }

  function layerItem(job, layer, files) {
    const item = document.createElement("li");
    item.className = "layer-item";
    item.dataset.testid = `layer-${layer.order}`;
    const head = document.createElement("div");
    head.className = "layer-head";
    const [low, high] = layer.depth_range || [];
    const coverage = typeof layer.coverage === "number" ? `${Math.round(layer.coverage * 100)}% of the picture` : "";
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = LAYER_TINTS[(layer.order || 1) - 1] || "transparent";
    swatch.setAttribute("aria-hidden", "true");
    head.append(swatch, [layer.name, low !== undefined ? `depth ${low}–${high}` : "", coverage]
      .filter(Boolean).join(" · "));
    item.append(head);
    const held = regionsHeld(layer);
    if (held) {
      const regions = document.createElement("p");
      regions.className = "layer-regions";
      regions.dataset.testid = `layer-${layer.order}-regions`;
      regions.textContent = held;
      item.append(regions);
    }
    if (files.length) {
      const list = document.createElement("ul");
      list.className = "layer-files";
      list.setAttribute("aria-label", `${layer.name} files`);
      for (const name of files) {
        const entry = document.createElement("li");
        const kind = layerFile(name);
        entry.append(downloadLink(job, name, (kind && FILE_LABELS[kind.kind]) || name));
        list.append(entry);
      }
      item.append(list);
    }
    return item;
  }

  // "Spacers: 12.0 mm · 14.0 mm", front to back, from the manifest's assembly plan.
  function showAssembly(card, assembly) {
    const line = $('[data-role="assembly"]', card);
    const spacers = assembly && Array.isArray(assembly.spacers_mm)
      ? assembly.spacers_mm.filter((value) => typeof value === "number") : [];
    line.hidden = spacers.length === 0;
    if (!spacers.length) return;
    const mm = (value) => `${value.toFixed(1)} mm`;
    const label = document.createElement("strong");
    label.textContent = "Spacers:";
    const details = [];
    const size = Array.isArray(assembly.print_size_mm)
      ? assembly.print_size_mm : [assembly.width_mm, assembly.height_mm];
    if (size.length === 2 && size.every((value) => typeof value === "number")) {
      details.push(`print ${size[0].toFixed(1)} × ${mm(size[1])}`);
    }
    if (typeof assembly.frame_depth_mm === "number") {
      details.push(`${Number(assembly.frame_depth_mm.toFixed(1))} mm frame`);
    }
    const note = document.createElement("span");
    note.className = "muted";
    note.textContent = ` (front to back${details.length ? "; " + details.join(", ") : ""})`;
    line.replaceChildren(label, ` ${spacers.map(mm).join(" · ")}`, note);
    if (typeof assembly.warning === "string" && assembly.warning) {
      const warning = document.createElement("span");
      warning.className = "assembly-warning";
      warning.textContent = assembly.warning;
      line.append(warning);
    }
  }

  async function showLayers(card, job) {
    let manifest;
    try {
      manifest = await api("GET", fileUrl(job, "layer_manifest.json"));
    } catch (error) {
      reportError(error);
      return;
    }
    if (card.job !== job) return; // retried or reopened meanwhile: a newer call draws this card
    const listed = new Set();
    const items = (manifest.layers || []).map((layer) => {
      const files = filesOfLayer(job, layer);
      files.forEach((name) => listed.add(name));
      return layerItem(job, layer, files);
    });
    $('[data-role="layers"]', card).replaceChildren(...items);
    showAssembly(card, manifest.assembly);
    showDownloads(card, job, listed);
  }

  // Poll a job until it finishes; one follower per job however often it is asked for.
  const following = new Set();

  async function follow(jobId) {
    if (following.has(jobId)) return;
    following.add(jobId);
    let misses = 0;
    try {
      for (;;) {
        let job;
        try {
          job = await api("GET", `/api/jobs/${encodeURIComponent(jobId)}`);
        } catch (error) {
          if (error.status === 404) {
            removeCard(jobId);
            return;
          }
          misses += 1;
          if (misses >= 5) {
            reportError(error);
            return;
          }
          await sleep(POLL_MS * 2);
          continue;
        }
        misses = 0;
        updateCard(job);
        if (FINISHED.has(job.status)) {
          if (job.status === "failed") showMessage(`A job failed: ${job.error || "no reason given"}`);
          loadHistory();
          return;
        }
        await sleep(POLL_MS);
      }
    } finally {
      following.delete(jobId);
    }
  }

  async function submit(uploadId, mode, params, variations, titleOf) {
    const batch = await api("POST", "/api/jobs", { upload_id: uploadId, mode, params, variations });
    batch.jobs.forEach((job, index) => {
      addCard(job.job_id, titleOf(index, job));
      follow(job.job_id);
    });
    loadHistory();
    return batch;
  }

  async function generate(event) {
    event.preventDefault();
    if (!upload.id) {
      showMessage("Upload a photo first.");
      return;
    }
    upload.submitting = true;
    updateGenerate();
    try {
      clearResults();
      await submit(upload.id, radioValue("mode"), readParams(), Number(radioValue("variations")),
        (index) => `Variation ${index + 1}`);
    } catch (error) {
      reportError(error);
    } finally {
      upload.submitting = false;
      updateGenerate();
    }
  }

  async function regenerate(job) {
    if (!job) return; // its card has not heard from the server yet
    const params = {};
    for (const name of PARAM_NAMES) {
      if (job.params && job.params[name] !== undefined) params[name] = job.params[name];
    }
    params.seed = randomSeed();
    const mode = (job.params && job.params.mode) || "photo";
    await submit(job.upload_id, mode, params, 1, () => "Another seed");
  }

  async function retry(jobId) {
    await api("POST", `/api/jobs/${encodeURIComponent(jobId)}/retry`);
    if (!cards.has(jobId)) {
      clearResults();
      addCard(jobId, "Retry");
    }
    const card = cards.get(jobId);
    card.dataset.shown = "";
    $('[data-role="views"]', card).hidden = true;
    $('[data-role="downloads"]', card).hidden = true;
    clearLayers(card);
    follow(jobId);
    loadHistory();
  }

  async function cancel(jobId) {
    await api("POST", `/api/jobs/${encodeURIComponent(jobId)}/cancel`);
    follow(jobId);
  }

  async function remove(jobId) {
    await api("DELETE", `/api/jobs/${encodeURIComponent(jobId)}`);
    removeCard(jobId);
    showMessage("Job deleted.", "info");
    loadHistory();
  }

  // One handler for the buttons on result cards and history items.
  async function onJobAction(event) {
    const button = event.target.closest("[data-action]");
    if (!button) return;
    const holder = button.closest("[data-job-id]");
    const jobId = holder.dataset.jobId;
    const job = holder.job || gallery.jobs.get(jobId);
    button.disabled = true;
    try {
      if (button.dataset.action === "open") openFromHistory(jobId);
      else if (button.dataset.action === "regenerate") await regenerate(job);
      else if (button.dataset.action === "retry") await retry(jobId);
      else if (button.dataset.action === "cancel") await cancel(jobId);
      else if (button.dataset.action === "delete") await remove(jobId);
    } catch (error) {
      reportError(error);
    } finally {
      button.disabled = false;
    }
  }

  function setView(view) {
    results.dataset.view = view;
    for (const button of $("#view-toggle").querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.view === view));
    }
  }

  // --- history -------------------------------------------------------------------------------

  const gallery = { jobs: new Map(), shown: 0, total: 0, loading: null };
  const historyGrid = $("#history-grid");

  function historyItem(job) {
    const item = $("#history-item-template").content.firstElementChild.cloneNode(true);
    item.dataset.jobId = job.job_id;
    item.job = job;
    const badge = $('[data-field="status"]', item);
    badge.textContent = job.status;
    badge.className = `badge ${job.status}`;
    $('[data-field="when"]', item).textContent = formatWhen(job.created_at);
    const seed = job.params ? job.params.seed : "?";
    $('[data-action="open"]', item).title = `Open this job (seed ${seed})`;
    const thumb = $('[data-role="thumb"]', item);
    if (job.status === "completed" && !filesGone(job)) {
      thumb.src = previewUrl(job);
      thumb.alt = `Result, seed ${seed}`;
    } else {
      thumb.hidden = true;
      const placeholder = $('[data-role="placeholder"]', item);
      placeholder.textContent = filesGone(job) ? "Files moved or deleted"
        : job.status === "failed" ? "Failed" : stageLabel(job.status);
      placeholder.classList.toggle("files-gone", filesGone(job));
    }
    $('[data-action="retry"]', item).hidden = !["failed", "cancelled"].includes(job.status);
    $('[data-action="delete"]', item).hidden = job.status === "processing";
    if (cards.has(job.job_id)) item.classList.add("is-open");
    return item;
  }

  // Reload the first page (or as many as are shown), or append the next page with more=true.
  function loadHistory({ more = false } = {}) {
    const run = async () => {
      const offset = more ? gallery.shown : 0;
      const limit = more ? HISTORY_PAGE : Math.min(100, Math.max(HISTORY_PAGE, gallery.shown));
      const page = await api("GET", `/api/jobs?limit=${limit}&offset=${offset}`);
      if (!more) {
        historyGrid.replaceChildren();
        gallery.jobs.clear();
      }
      for (const job of page.jobs) {
        gallery.jobs.set(job.job_id, job);
        historyGrid.append(historyItem(job));
      }
      gallery.shown = offset + page.jobs.length;
      gallery.total = page.total;
      $("#history-more").hidden = gallery.shown >= page.total;
      $("#history-empty").hidden = page.total > 0;
    };
    // Loads run one after another so two refreshes never interleave their items.
    gallery.loading = (gallery.loading || Promise.resolve()).then(run).catch(reportError);
    return gallery.loading;
  }

  function openFromHistory(jobId) {
    const job = gallery.jobs.get(jobId);
    if (!job) return;
    const batch = [...gallery.jobs.values()]
      .filter((other) => job.batch_id && other.batch_id === job.batch_id)
      .sort((a, b) => (a.params.seed > b.params.seed ? 1 : -1));
    const jobs = batch.length ? batch : [job];
    clearResults();
    jobs.forEach((member, index) => {
      addCard(member.job_id, jobs.length > 1 ? `Variation ${index + 1}` : "Job");
      updateCard(member);
      if (!FINISHED.has(member.status)) follow(member.job_id);
    });
    for (const item of historyGrid.children) item.classList.toggle("is-open", cards.has(item.dataset.jobId));
    $("#result-panel").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  // --- presets -------------------------------------------------------------------------------

  const presets = { byName: new Map(), replaceNext: null };
  const presetSelect = $("#preset-select");

  async function loadPresets(select) {
    const data = await api("GET", "/api/presets");
    presets.byName = new Map(data.presets.map((preset) => [preset.name, preset.params]));
    const keep = select || presetSelect.value;
    presetSelect.replaceChildren(...data.presets.map((preset) => new Option(preset.name, preset.name)));
    if (presets.byName.has(keep)) presetSelect.value = keep;
    $("#preset-empty").hidden = data.presets.length > 0;
  }

  async function savePreset() {
    const name = $("#preset-name").value.trim();
    if (!name) {
      showMessage("Give the preset a name first.");
      return;
    }
    const params = readParams();
    if (presets.replaceNext === name) {
      await api("PUT", `/api/presets/${encodeURIComponent(name)}`, { params });
    } else {
      try {
        await api("POST", "/api/presets", { name, params });
      } catch (error) {
        if (error.status !== 409) throw error;
        presets.replaceNext = name;
        showMessage(`A preset named “${name}” exists. Press Save again to replace it.`, "info");
        return;
      }
    }
    presets.replaceNext = null;
    await loadPresets(name);
    showMessage(`Saved preset “${name}”.`, "info");
  }

  async function applyPreset() {
    const name = presetSelect.value;
    if (!name) {
      showMessage("There is no preset to load yet.");
      return;
    }
    if (!presets.byName.has(name)) await loadPresets(name);
    applyParams(presets.byName.get(name));
    showMessage(`Loaded preset “${name}”.`, "info");
  }

  async function deletePreset() {
    const name = presetSelect.value;
    if (!name) return;
    await api("DELETE", `/api/presets/${encodeURIComponent(name)}`);
    await loadPresets();
    showMessage(`Deleted preset “${name}”.`, "info");
  }

  async function importPresets(file) {
    const body = new FormData();
    body.append("file", file);
    const data = await api("POST", "/api/presets/import", body);
    await loadPresets();
    const count = data && Array.isArray(data.imported) ? data.imported.length : null;
    showMessage(count === null ? "Presets imported." : `Imported ${count} preset${count === 1 ? "" : "s"}.`, "info");
  }

  // Run an async action from an event, with its errors in the message area.
  function guarded(action) {
    return (...args) => Promise.resolve().then(() => action(...args)).catch(reportError);
  }

  // --- wiring --------------------------------------------------------------------------------

  form.addEventListener("input", syncControls);
  form.addEventListener("change", syncControls);
  form.addEventListener("submit", generate);
  $("#seed-random").addEventListener("click", () => {
    $("#seed").value = randomSeed();
  });

  $("#file-input").addEventListener("change", (event) => chooseFile(event.target.files[0]));
  for (const type of ["dragenter", "dragover"]) {
    dropZone.addEventListener(type, (event) => {
      event.preventDefault();
      dropZone.classList.add("is-over");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    dropZone.addEventListener(type, () => dropZone.classList.remove("is-over"));
  }
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    chooseFile(event.dataTransfer.files[0]);
  });
  // A photo dropped next to the drop zone must not make the browser navigate away from the form.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());

  results.addEventListener("click", onJobAction);
  historyGrid.addEventListener("click", onJobAction);
  $("#view-toggle").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-view]");
    if (button) setView(button.dataset.view);
  });
  $("#history-refresh").addEventListener("click", () => loadHistory());
  $("#history-more").addEventListener("click", () => loadHistory({ more: true }));

  $("#preset-save").addEventListener("click", guarded(savePreset));
  $("#preset-load").addEventListener("click", guarded(applyPreset));
  $("#preset-delete").addEventListener("click", guarded(deletePreset));
  $("#preset-name").addEventListener("input", () => {
    presets.replaceNext = null;
  });
  // Enter in the name field saves the preset instead of submitting the render form.
  $("#preset-name").addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    guarded(savePreset)();
  });
  $("#preset-import").addEventListener("change", guarded(async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (file) await importPresets(file);
  }));

  syncControls();
  updateGenerate();
  loadHistory();
  loadPresets().catch(reportError);
  document.body.dataset.ready = "yes";
})();
