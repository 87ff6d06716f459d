"""The web form: pages rendered from Jinja templates; the page's JavaScript talks to the JSON API."""

from __future__ import annotations

from litestar import Router, get
from litestar.response import Template

from rilievo.application.services import Services


@get("/", sync_to_thread=False, include_in_schema=False)
def index(services: Services) -> Template:
    return Template(template_name="index.html", context={})


web_router = Router(path="/", route_handlers=[index])
