"""privtune: fine-tune open LLMs on sensitive data without leaking it."""

__version__ = "0.1.0"
