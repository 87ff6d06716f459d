"""What every request goes through before the routes: an id for the logs, HEAD answered as GET, a
deadline for the request body, so a client that trickles or stalls can't hold the app; and JSON
bodies refused past a sane depth."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException, ValidationException

from ..settings import BODY_IDLE_TIMEOUT_S, BODY_TIMEOUT_S, MAX_JSON_DEPTH
from .security import ASGIApp, Receive, Scope, Send


class RequestTimeout(HTTPException):
    status_code = 408


def request_id_of(scope: Scope) -> str:
    return scope.get("state", {}).get("request_id", "-")


class RequestHandling:
    def __init__(self, app: ASGIApp, *, body_timeout_s: float = BODY_TIMEOUT_S,
                 body_idle_timeout_s: float = BODY_IDLE_TIMEOUT_S):
        self.app = app
        self.body_timeout_s = body_timeout_s
        self.body_idle_timeout_s = body_idle_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        async def send_answer(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, self.with_deadline(receive), send_answer)

    def with_deadline(self, receive: Receive) -> Receive:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout_s
        body_complete = False

        async def receive_in_time() -> dict:
            nonlocal body_complete
            if body_complete:  # later calls wait for the client to leave, as long as a download takes
                return await receive()
            timeout = min(self.body_idle_timeout_s, deadline - loop.time())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(timeout, 0))
            except TimeoutError:
                slow = "stalled" if timeout >= self.body_idle_timeout_s else "took too long"
                raise RequestTimeout(
                    detail=f"the request body {slow}: it must arrive within {self.body_timeout_s:g} s, "
                           f"with no pause over {self.body_idle_timeout_s:g} s") from None
            body_complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        return receive_in_time


class JsonRequest(Request):
    """Refuses JSON nested deeper than MAX_JSON_DEPTH: Python's decoders raise RecursionError near
    1,000 levels, and a parameter never nests more than a few."""

    async def json(self) -> Any:
        deep = f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
        try:
            value = await super().json()
        except RecursionError:
            raise ValidationException(deep) from None
        if too_deep(value):
            raise ValidationException(deep)
        return value


def too_deep(value: Any) -> bool:
    """Whether a decoded JSON value nests deeper than MAX_JSON_DEPTH, checked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False
