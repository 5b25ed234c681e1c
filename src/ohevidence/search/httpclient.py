"""HTTP for the live searches: rate-limited, retried with backoff, secrets kept out of messages.

A response only counts once its body has been checked: a truncated download, an HTML
error page served with status 200 or a body that is not the XML/JSON asked for is retried
like a 5xx, never handed to a parser that might read half of it as fewer records.
Service errors that retrying cannot fix (NCBI ``<ERROR>`` documents, Crossref
``status: failed`` bodies, other 4xx) become :class:`ServiceError` with the service's own
message. A host name that does not resolve (no network, no DNS, a mistyped URL) is not retried
either: :class:`HostNotFound` stops the search at once, naming the host, instead of backing off
for minutes (refused connections and timeouts are still retried).

Secrets: every exception that leaves :meth:`HttpClient.request` (a service's error body that
repeats the API key, a retry reason, the final "gave up" message) and every retry log line is
redacted (:mod:`ohevidence.redaction`), so the key reaches no log, whatever the response.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from ohevidence import __version__
from ohevidence.errors import OhevidenceError
from ohevidence.redaction import redact, register_secret, scrub_exception
from ohevidence.search.ratelimit import RateLimiter

__all__ = [
    "HostNotFound",
    "HttpClient",
    "Response",
    "RetryPolicy",
    "RetryableResponse",
    "ServiceError",
    "redact",
]

log = logging.getLogger("ohevidence.search.http")

T = TypeVar("T")

# Statuses worth another try: rate limited, and the server's own failures.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class ServiceError(OhevidenceError):
    """The service answered with an error that retrying will not fix, or retries ran out."""


class HostNotFound(ServiceError):
    """The service's host name does not resolve: offline, no DNS, or a mistyped URL."""

    def __init__(self, host: str, reason: object) -> None:
        super().__init__(
            f"cannot resolve the host {host!r} ({reason}): this machine has no network or DNS, or the URL "
            "is mistyped. A live search needs the network; `mode: snapshot` (the default) and imported "
            "files work offline."
        )
        self.host = host


class RetryableResponse(OhevidenceError):
    """A response that should be fetched again (bad status, truncated or wrong body)."""

    def __init__(self, reason: str, *, kind: str = "bad body", retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # short label for the retry tally: 'HTTP 429', 'dropped connection'...
        self.retry_after = retry_after


@dataclass(frozen=True)
class Response:
    url: str  # redacted
    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: initial * 2**n (capped at maximum) plus up to jitter s."""

    attempts: int = 8
    initial: float = 1.0
    maximum: float = 60.0
    jitter: float = 1.0
    max_retry_after: float = 300.0


@dataclass
class Stats:
    requests: int = 0
    retries: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "retries": self.retries, "retry_reasons": dict(self.reasons)}


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class HttpClient:
    """GET/POST with a shared rate limit, retries and body checks.

    ``secrets`` are scrubbed from every message and log line (the API key travels in
    request parameters, which end up in URLs).
    """

    def __init__(
        self,
        *,
        limiter: RateLimiter,
        policy: RetryPolicy | None = None,
        timeout: float = 120.0,
        secrets: Iterable[str] = (),
        user_agent: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limiter = limiter
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self.secrets = tuple(s for s in secrets if s)
        for secret in self.secrets:  # log filters and the CLI's error line redact it too
            register_secret(secret)
        self.user_agent = user_agent or f"ohevidence/{__version__}"
        self._sleep = sleep
        self.stats = Stats()

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def request(
        self,
        url: str,
        params: Mapping[str, str],
        *,
        check: Callable[[Response], T],
        method: str = "GET",
    ) -> T:
        """Send until ``check`` accepts the response; return what ``check`` returns.

        ``check`` raises :class:`RetryableResponse` for a body worth fetching again and
        :class:`ServiceError` for a permanent error.
        """
        policy = self.policy
        backoff = wait_exponential_jitter(
            multiplier=policy.initial, max=policy.maximum, jitter=policy.jitter, exp_base=2
        )

        def wait(state: RetryCallState) -> float:
            delay = backoff(state)
            outcome = state.outcome
            error = outcome.exception() if outcome is not None else None
            if isinstance(error, RetryableResponse) and error.retry_after is not None:
                delay = max(delay, min(error.retry_after, policy.max_retry_after))
            return delay

        def before_sleep(state: RetryCallState) -> None:
            outcome = state.outcome
            error = outcome.exception() if outcome is not None else None
            reason = error.reason if isinstance(error, RetryableResponse) else repr(error)
            self.stats.retries += 1
            self.stats.reasons[error.kind if isinstance(error, RetryableResponse) else "other"] += 1
            delay = state.next_action.sleep if state.next_action else 0.0
            sent = f"{url}?{urllib.parse.urlencode(params)}" if method == "GET" else f"{method} {url}"
            log.warning(
                "%s: %s; retry %d/%d in %.1f s",
                _shorten(self.redact(sent)),
                self.redact(reason),
                state.attempt_number,
                policy.attempts - 1,
                delay,
            )

        retrying = Retrying(
            stop=stop_after_attempt(policy.attempts),
            wait=wait,
            retry=retry_if_exception_type(RetryableResponse),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )

        def attempt() -> T:
            try:
                return check(self._send(url, params, method))
            except Exception as exc:  # a service may repeat the key in any error: redact them all
                scrub_exception(exc, self.secrets)
                raise

        try:
            return retrying(attempt)
        except RetryableResponse as exc:
            raise ServiceError(
                f"{self.redact(url)}: gave up after {policy.attempts} attempts; "
                f"last problem: {self.redact(exc.reason)}"
            ) from None

    def _send(self, url: str, params: Mapping[str, str], method: str) -> Response:
        encoded = urllib.parse.urlencode(params)
        if method == "GET":
            request = urllib.request.Request(f"{url}?{encoded}" if encoded else url, method="GET")
        elif method == "POST":
            request = urllib.request.Request(
                url,
                data=encoded.encode("ascii"),
                method="POST",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        else:
            raise ValueError(f"unsupported method {method!r}")
        request.add_header("User-Agent", self.user_agent)
        request.add_header("Accept-Encoding", "identity")
        shown = self.redact(request.full_url)
        self.limiter.acquire()
        self.stats.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                body = reply.read()
                return Response(shown, reply.status, dict(reply.headers.items()), body)
        except urllib.error.HTTPError as exc:
            try:
                body = exc.read()
            except (OSError, http.client.HTTPException):
                body = b""
            status, headers = exc.code, dict(exc.headers.items()) if exc.headers else {}
            response = Response(shown, status, headers, body)
            if status in RETRY_STATUSES:
                raise RetryableResponse(
                    f"HTTP {status}: {_snippet(body)}",
                    kind=f"HTTP {status}",
                    retry_after=_retry_after(headers.get("Retry-After"), time.time()),
                ) from None
            return response  # the caller's check turns the body into a clear ServiceError
        except http.client.IncompleteRead as exc:
            raise RetryableResponse(
                f"connection dropped mid-body ({len(exc.partial)} bytes received)", kind="dropped connection"
            ) from None
        except TimeoutError as exc:
            raise RetryableResponse(f"timed out: {exc}", kind="timeout") from None
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, socket.gaierror):  # name resolution: retrying will not help
                raise HostNotFound(urllib.parse.urlsplit(request.full_url).hostname or url, reason) from None
            raise RetryableResponse(f"connection error: {reason}", kind="connection error") from None


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _snippet(body: bytes, limit: int = 200) -> str:
    text = " ".join(body[:limit].decode("utf-8", "replace").split())
    return text + ("..." if len(body) > limit else "")
