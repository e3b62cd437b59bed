"""Guarded serving: an OpenAI-compatible server in front of a trained run.

Layers, outermost first: API keys (apikeys) -> rate limits (ratelimit) -> extraction throttling
(extraction) -> generation with optional watermark (generate, watermark) -> output guard (guard) ->
review queue, anonymized request log and audit-log entry (review, reqlog). `app.create_app` wires them.
"""
