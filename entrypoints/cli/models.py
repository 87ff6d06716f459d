"""`rilievo models list|pull`: what is installed, which engine each stage will use, and downloads."""

from __future__ import annotations

import argparse
import json
import sys
import time

from rilievo.adapters.model_store import DEFAULT_PULL, ModelStore, ModelStoreError, ModelsOffline

from ..engines import engine_choice
from ..settings import Settings
from .refusal import EXIT_FAILED, EXIT_OK, print_error, refuse

def add_models_commands(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    models = subparsers.add_parser("models", help="list or download the learned models")
    actions = models.add_subparsers(dest="models_command", required=True)
    listing = actions.add_parser("list", help="the models, whether installed, and the engines in use")
    listing.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    pull = actions.add_parser("pull", help="download models (default: the recommended set)")
    pull.add_argument("keys", nargs="*", metavar="KEY", help=f"default: {' '.join(DEFAULT_PULL)}")
    return models


def run_models(args: argparse.Namespace, settings: Settings, *, store: ModelStore | None = None) -> int:
    store = store or settings.model_store()
    if args.models_command == "list":
        return list_models(store, as_json=args.json)
    return pull_models(store, args.keys or list(DEFAULT_PULL))


def listing(store: ModelStore) -> dict:
    models = []
    for spec in store.catalogue:
        installed = store.is_installed(spec.key)
        models.append({
            "key": spec.key,
            "kind": spec.kind,
            "installed": installed,
            "installed_from": store.installed_from(spec.key),  # "models", "hub-cache" or None
            "bytes": store.disk_bytes(spec.key) if installed else spec.download_bytes,
            "licence": spec.licence,
            "source": spec.source,
            "default": spec.default,
            "path": str(store.location(spec.key)),
        })
    hub_cache = str(store.hub_cache) if store.hub_cache is not None else None
    return {"models_dir": str(store.models_dir), "hub_cache": hub_cache, "models": models,
            "engines": engine_choice(store)}


INSTALLED_FROM = {"models": "yes", "hub-cache": "HF cache", None: "no"}


def list_models(store: ModelStore, *, as_json: bool) -> int:
    data = listing(store)
    if as_json:
        print(json.dumps(data))
        return EXIT_OK
    print(f"{'MODEL':<24} {'KIND':<12} {'INSTALLED':<10} {'SIZE':>16}  LICENCE")
    for model in data["models"]:
        size = human_bytes(model["bytes"]) + ("" if model["installed"] else " to get")
        where = INSTALLED_FROM[model["installed_from"]]
        print(f"{model['key']:<24} {model['kind']:<12} {where:<10} {size:>16}  {model['licence']}")
    print(f"\nModels folder: {data['models_dir']}")
    if data["hub_cache"]:
        print(f"Hugging Face cache: {data['hub_cache']} (models complete there are used in place)")
    for model in data["models"]:
        if model["installed_from"] == "hub-cache":
            print(f"  {model['key']}: {model['path']}")
    print("Engines now: " + ", ".join(f"{stage} → {engine}" for stage, engine in data["engines"].items()))
    return EXIT_OK


def pull_models(store: ModelStore, keys: list[str]) -> int:
    try:
        specs = [store.spec(key) for key in keys]  # refuse a typo before downloading anything
    except ModelStoreError as error:
        return refuse(str(error))
    for spec in specs:
        print(f"{spec.key}: {spec.source} (~{human_bytes(spec.download_bytes)}, {spec.licence})", file=sys.stderr)
        if cached := store.cached_snapshot(spec.key):
            print(f"  in the Hugging Face cache at {cached}: checking its sha256", file=sys.stderr)
        bar = ProgressLine()
        try:
            path = store.pull(spec.key, progress=bar)
        except ModelsOffline as error:
            bar.close()
            return refuse(str(error))
        except ModelStoreError as error:
            bar.close()
            print_error(str(error))
            return EXIT_FAILED
        bar.close()
        if store.installed_from(spec.key) == "hub-cache":
            print(f"  verified; used where it is, nothing downloaded: {path}", file=sys.stderr)
        else:
            print(f"  installed in {path}", file=sys.stderr)
    return EXIT_OK


class ProgressLine:
    """One self-rewriting progress line on stderr, at most a few times a second."""

    def __init__(self) -> None:
        self.last = 0.0
        self.shown = False

    def __call__(self, key: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.last < 0.25 and not (total and done >= total):
            return
        self.last = now
        share = f" {min(done / total, 1.0):4.0%} of ~{human_bytes(total)}" if total else ""
        print(f"\r  {human_bytes(done):>10}{share}   ", end="", file=sys.stderr, flush=True)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            print(file=sys.stderr)
            self.shown = False


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
