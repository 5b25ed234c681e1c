"""Secrets (the NCBI API key) kept out of every message, log line and exception text.

The key travels as a request parameter, so it is in URLs, and services repeat it back in
error bodies (an NCBI ``<ERROR>`` document, a JSON ``{"error": ...}``, a 404 page).
One function, :func:`redact`, removes it; it is applied

* where messages and exceptions leave the HTTP layer
  (:meth:`ohevidence.search.httpclient.HttpClient.request` scrubs every exception raised while
  sending or checking a response: :func:`scrub_exception`), and
* to every log record the CLI writes (:class:`RedactingFilter` on the root logger's handlers),
  and to the one-line error the CLI prints, and
* to every response stored in a live search's ``raw/`` folder, and its manifest, before it is
  written and hashed (:func:`redact_bytes`): that folder is meant to be committed.

A secret is known once an :class:`~ohevidence.search.httpclient.HttpClient` is created with it
(:func:`register_secret`); ``api_key=`` query values are removed whatever their value.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Iterable

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "install_log_filter",
    "redact",
    "redact_bytes",
    "register_secret",
    "scrub_exception",
]

REDACTED = "<redacted>"
SECRET_PARAMS = ("api_key",)
_SECRETS: set[str] = set()


def register_secret(value: str) -> None:
    """Remove ``value`` (and its URL-encoded forms) from everything :func:`redact` sees from now on."""
    _SECRETS.update(_forms(value))


def _forms(value: str) -> set[str]:
    """``value`` as written and as URL-encoded (a key with '+' or '/' travels encoded)."""
    return {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)} if value else set()


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Text with ``api_key=...`` query values, the registered secrets and ``secrets`` removed."""
    for name in SECRET_PARAMS:
        text = _replace_param(text, name)
    known = _SECRETS.union(*(_forms(s) for s in secrets))
    for secret in sorted(known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_bytes(data: bytes, secrets: Iterable[str] = ()) -> bytes:
    """:func:`redact` on a response body as stored: every byte not redacted is kept as it was."""
    text = data.decode("utf-8", "surrogateescape")
    clean = redact(text, secrets)
    return data if clean == text else clean.encode("utf-8", "surrogateescape")


def _replace_param(text: str, name: str) -> str:
    start = 0
    needle = f"{name}="
    while (index := text.find(needle, start)) != -1:
        if index and (text[index - 1].isalnum() or text[index - 1] == "_"):  # part of a longer name
            start = index + len(needle)
            continue
        end = index + len(needle)
        stop = end
        while stop < len(text) and text[stop] not in "&# \"'\n\r\t<>;,)]}":
            stop += 1
        text = text[:end] + REDACTED + text[stop:]
        start = end
    return text


def scrub_exception(exc: BaseException, secrets: Iterable[str] = ()) -> BaseException:
    """Redact ``exc`` in place: its args, its string attributes, and the exceptions it chains to."""
    secrets = tuple(secrets)
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in current.args)
        for name, value in list(vars(current).items()):
            if isinstance(value, str):
                setattr(current, name, redact(value, secrets))
        current = current.__cause__ or current.__context__
    return exc


class RedactingFilter(logging.Filter):
    """A handler filter that redacts each record's message and traceback before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_log_filter(logger: logging.Logger | None = None) -> None:
    """Add a :class:`RedactingFilter` to every handler of ``logger`` (default: the root logger)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
