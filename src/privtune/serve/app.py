"""FastAPI routes: OpenAI-compatible completions, chat completions (SSE streaming), models, admin.

Request path: API key -> rate limit (429 + Retry-After) -> extraction throttling -> generation
(bounded concurrency, optional watermark) -> output guard -> review queue, request log, audit log.
Errors use OpenAI's `{"error": {...}}` shape and never echo request content or a stack trace.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from privtune import __version__
from privtune.serve.apikeys import ApiKey
from privtune.serve.generate import Generation, SamplingParams, render_chat
from privtune.serve.schemas import ChatRequest, CompletionRequest, ResolveRequest
from privtune.serve.service import ServeState


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


@dataclass
class Job:
    """One admitted request on its way through generation and the guard."""

    key: ApiKey
    endpoint: str
    prompt: str
    params: SamplingParams
    reserved: int
    flagged: bool
    chat: bool
    stream: bool
    include_usage: bool = False
    gen: Generation = field(default_factory=Generation)
    guard: Any = None
    guard_s: float = 0.0
    output: str = ""
    id: str = field(default_factory=lambda: secrets.token_hex(12))
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def finish_reason(self) -> str:
        return "content_filter" if self.guard is not None and self.guard.blocked else self.gen.finish_reason

    def usage(self) -> dict[str, int]:
        p, c = self.gen.prompt_tokens, len(self.gen.tokens)
        return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def create_app(state: ServeState) -> FastAPI:
    app = FastAPI(title="privtune", version=__version__, docs_url=None, redoc_url=None)
    bearer = HTTPBearer(auto_error=False)
    limiters: dict[int, anyio.CapacityLimiter] = {}

    def gen_limiter() -> anyio.CapacityLimiter:
        loop = id(asyncio.get_running_loop())
        if loop not in limiters:
            limiters[loop] = anyio.CapacityLimiter(state.cfg.concurrency)
        return limiters[loop]

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(".".join(str(x) for x in e["loc"]) + ": " + e["msg"] for e in exc.errors()[:5])
        return _error(400, f"invalid request: {where}", "invalid_request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(
            exc.status_code, str(exc.detail), "not_found" if exc.status_code == 404 else "http_error"
        )

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        return _error(500, f"internal error ({type(exc).__name__})", "internal_error")

    async def auth(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> ApiKey:
        key = await run_in_threadpool(state.keys.verify, creds.credentials if creds else None)
        if key is None:
            await run_in_threadpool(state.audit_event, "anonymous", "unauthorized", {"status": 401})
            raise ApiError(
                401, "invalid or missing API key", "invalid_api_key", {"WWW-Authenticate": "Bearer"}
            )
        return key

    async def admin(key: ApiKey = Depends(auth)) -> ApiKey:
        if key.role != "admin":
            raise ApiError(403, "this endpoint needs an admin key", "forbidden")
        return key

    # -- request pipeline ------------------------------------------------------------------------
    async def admit(key: ApiKey, req: Any, prompt: str, endpoint: str, chat: bool) -> Job:
        if req.model != state.model_name:
            raise ApiError(404, "the model does not exist", "model_not_found")
        if len(prompt) > state.cfg.max_prompt_chars:
            raise ApiError(
                400, f"prompt longer than {state.cfg.max_prompt_chars} characters", "prompt_too_long"
            )
        asked = getattr(req, "max_completion_tokens", None) or req.max_tokens or state.cfg.default_max_tokens
        params = SamplingParams(
            min(asked, state.cfg.max_tokens), req.temperature, req.top_p, req.stop_list(), req.seed
        )
        decision = state.limiter.admit(key.id, params.max_tokens)
        if not decision.allowed:
            await run_in_threadpool(
                state.audit_event,
                key.id,
                "rate_limited",
                {"endpoint": endpoint, "limit": decision.reason, "status": 429},
            )
            raise ApiError(
                429,
                f"rate limit exceeded ({decision.reason} per minute)",
                "rate_limit_exceeded",
                {"Retry-After": str(decision.retry_after)},
            )
        verdict = state.extraction.observe(key.id, prompt)
        if verdict.flagged:
            n = int(state.extraction.flags[key.id]["count"])
            if n == 1 or n % 25 == 0:
                reason = "extraction:" + ",".join(verdict.reasons)
                await run_in_threadpool(state.review.add, key.id, endpoint, reason, [], "")
            await asyncio.sleep(verdict.delay)
        include_usage = bool((req.stream_options or {}).get("include_usage"))
        return Job(
            key, endpoint, prompt, params, decision.reserved, verdict.flagged, chat, req.stream, include_usage
        )

    def finish(job: Job) -> None:
        """After a response: refund tokens, stats, review queue, request log, audit entry."""
        state.limiter.settle(job.key.id, job.reserved, len(job.gen.tokens))
        g = job.guard
        findings = [f.to_json() for f in g.findings] if g is not None else []
        if g is not None:
            state.stats.add(job.guard_s * 1000, g.blocked, g.changed)
            if g.changed and state.cfg.guard.review_flagged:
                state.review.add(
                    job.key.id,
                    job.endpoint,
                    "guard:" + ("blocked" if g.blocked else "redacted"),
                    findings,
                    job.output,
                )
        details = {
            "endpoint": job.endpoint,
            "stream": job.stream,
            "prompt_chars": len(job.prompt),
            "prompt_tokens": job.gen.prompt_tokens,
            "completion_tokens": len(job.gen.tokens),
            "output_chars": len(job.output),
            "finish_reason": job.finish_reason,
            "guard": g is not None,
            "guard_actions": sorted({f"{f['action']}:{f['source']}" for f in findings}),
            "watermark": state.watermark is not None,
            "extraction_flagged": job.flagged,
            "status": 200,
        }
        state.reqlog.write(
            {k: v for k, v in details.items() if k != "status"} | {"key_id": job.key.id},
            job.prompt,
            job.output,
        )
        state.audit_event(job.key.id, "blocked" if g is not None and g.blocked else "ok", details)

    def generate_all(job: Job) -> None:
        pieces = list(state.sampler.stream_text(job.prompt, job.params, job.gen, state.watermark))
        if state.guard is not None:
            t0 = time.thread_time()
            job.guard = state.guard.stream()
            job.output = job.guard.feed_all(pieces)
            job.guard_s = time.thread_time() - t0
        else:
            job.output = "".join(pieces)

    def deltas(job: Job) -> Iterator[str]:
        """Guarded text deltas of a streaming response."""
        if state.guard is not None:
            job.guard = state.guard.stream()
        for delta in state.sampler.stream_text(job.prompt, job.params, job.gen, state.watermark):
            if job.guard is None:
                job.output += delta
                yield delta
                continue
            t0 = time.thread_time()
            out = job.guard.feed(delta)
            job.guard_s += time.thread_time() - t0
            if out:
                job.output += out
                yield out
            if job.guard.blocked:
                return
        if job.guard is not None:
            t0 = time.thread_time()
            out = job.guard.finish()
            job.guard_s += time.thread_time() - t0
            if out:
                job.output += out
                yield out

    def chunk(job: Job, text: str | None, finish_reason: str | None, role: bool = False) -> str:
        if job.chat:
            delta: dict[str, Any] = {"role": "assistant", "content": ""} if role else {}
            if text:
                delta["content"] = text
            choice: dict[str, Any] = {
                "index": 0,
                "delta": delta,
                "logprobs": None,
                "finish_reason": finish_reason,
            }
            body = {
                "id": f"chatcmpl-{job.id}",
                "object": "chat.completion.chunk",
                "created": job.created,
                "model": state.model_name,
                "choices": [choice],
            }
        else:
            choice = {"index": 0, "text": text or "", "logprobs": None, "finish_reason": finish_reason}
            body = {
                "id": f"cmpl-{job.id}",
                "object": "text_completion",
                "created": job.created,
                "model": state.model_name,
                "choices": [choice],
            }
        return "data: " + json.dumps(body, separators=(",", ":")) + "\n\n"

    async def sse(job: Job) -> AsyncIterator[str]:
        done = False
        it = deltas(job)
        try:
            if job.chat:
                yield chunk(job, None, None, role=True)
            while True:
                piece = await anyio.to_thread.run_sync(next, it, None, limiter=gen_limiter())
                if piece is None:
                    break
                yield chunk(job, piece, None)
            yield chunk(job, None, job.finish_reason)
            if job.include_usage:
                kind = "chat.completion.chunk" if job.chat else "text_completion"
                prefix = "chatcmpl-" if job.chat else "cmpl-"
                body = {
                    "id": prefix + job.id,
                    "object": kind,
                    "created": job.created,
                    "model": state.model_name,
                    "choices": [],
                    "usage": job.usage(),
                }
                yield "data: " + json.dumps(body, separators=(",", ":")) + "\n\n"
            yield "data: [DONE]\n\n"
            done = True
        finally:
            it.close()
            if done:
                await run_in_threadpool(finish, job)

    async def respond(job: Job) -> Any:
        if job.stream:
            return StreamingResponse(
                sse(job),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        await anyio.to_thread.run_sync(generate_all, job, limiter=gen_limiter())
        await run_in_threadpool(finish, job)
        if job.chat:
            return {
                "id": f"chatcmpl-{job.id}",
                "object": "chat.completion",
                "created": job.created,
                "model": state.model_name,
                "usage": job.usage(),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": job.output},
                        "logprobs": None,
                        "finish_reason": job.finish_reason,
                    }
                ],
            }
        return {
            "id": f"cmpl-{job.id}",
            "object": "text_completion",
            "created": job.created,
            "model": state.model_name,
            "usage": job.usage(),
            "choices": [
                {"index": 0, "text": job.output, "logprobs": None, "finish_reason": job.finish_reason}
            ],
        }

    # -- routes ----------------------------------------------------------------------------------
    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "model": state.model_name}

    @app.get("/v1/models")
    async def models(key: ApiKey = Depends(auth)) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "id": state.model_name,
                    "object": "model",
                    "created": int(state.started),
                    "owned_by": "privtune",
                }
            ],
        }

    @app.post("/v1/completions")
    async def completions(req: CompletionRequest, key: ApiKey = Depends(auth)) -> Any:
        job = await admit(key, req, req.prompt, "completions", chat=False)
        return await respond(job)

    @app.post("/v1/chat/completions")
    async def chat_completions(req: ChatRequest, key: ApiKey = Depends(auth)) -> Any:
        messages = [m.model_dump() for m in req.messages]
        prompt = render_chat(messages, state.tokenizer)
        job = await admit(key, req, prompt, "chat.completions", chat=True)
        return await respond(job)

    @app.get("/admin/review")
    async def review_list(
        status: str = "open", limit: int = 100, key: ApiKey = Depends(admin)
    ) -> dict[str, Any]:
        if status not in ("open", "resolved", "all"):
            raise ApiError(400, "status must be open, resolved or all", "invalid_request")
        items = await run_in_threadpool(
            state.review.list, None if status == "all" else status, max(1, min(limit, 1000))
        )
        return {"object": "list", "data": items}

    @app.post("/admin/review/{item_id}/resolve")
    async def review_resolve(
        item_id: int, body: ResolveRequest, key: ApiKey = Depends(admin)
    ) -> dict[str, Any]:
        if not 0 < item_id < 2**62 or await run_in_threadpool(state.review.get, item_id) is None:
            raise ApiError(404, "no such review item", "not_found")
        item = await run_in_threadpool(state.review.resolve, item_id, body.resolution, key.id)
        await run_in_threadpool(
            state.audit_event,
            key.id,
            "ok",
            {"endpoint": "review.resolve", "item": item_id, "resolution": body.resolution},
        )
        return item or {}

    @app.get("/admin/flags")
    async def flags(key: ApiKey = Depends(admin)) -> dict[str, Any]:
        return {"object": "list", "data": [{"key_id": k, **v} for k, v in state.extraction.flags.items()]}

    @app.get("/admin/stats")
    async def stats(key: ApiKey = Depends(admin)) -> dict[str, Any]:
        return state.stats.summary()

    return app
