"""The HTTP/1.1 engine under the index client's ``httpx.AsyncClient``: aiohttp, through httpx-aiohttp.

httpx keeps the whole client-side policy: timeouts, redirects, auth (``~/.netrc``, credentials
in the URL), decompression, and the streamed, capped read in :mod:`autodocs.index.fetch`. Only
the bytes on the wire move to aiohttp, whose HTTP parser is C. When the environment names a
proxy (``HTTP_PROXY`` and friends), the fetch leaves this engine out: httpx honours those only
with its own transports.

httpx's own stack (httpcore and h11, pure Python) spent about 2.7 ms of CPU on each index
request on our 2-core test machine, against 1.9 ms through aiohttp (a loopback GET of a project
page after an idle pause, the shape of a cold tool call); paired cold ``get_package_docs``
calls over stdio were 0.8 ms faster (median of 122 packages). ``httpx-aiohttp`` is the
transport httpx's maintainers publish for this, and what the OpenAI SDK uses for the same reason.

Three corrections, in :class:`IndexTransport`:

* httpx-aiohttp reports every aiohttp connection error (a refused connection, a reset, a server
  that hung up) as :class:`httpx.ConnectTimeout`. Ours reports a timeout only when something
  timed out, and :class:`httpx.ConnectError` (before the answer) or :class:`httpx.ReadError`
  (during the body) otherwise, so the fetch's messages say what really happened.
* aiohttp quietly sends a GET again when a reused connection fails. The fetch's retry policy
  (attempts, backoff, the breaker, the request counts in metrics) is the only one: that
  second send is switched off.
* Credentials in the index URL reach the index once, as the ``Authorization`` header httpx
  builds from them; aiohttp refuses a URL that carries them as well, so they are removed from
  the URL it is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

__all__ = ["IndexTransport"]


class IndexTransport(AiohttpTransport):
    """httpx-aiohttp's transport, with connection errors that are not timeouts told apart."""

    def __init__(self, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)

    def get_client(self) -> aiohttp.ClientSession:
        session = super().get_client()
        session._retry_connection = False  # the fetch alone decides what is sent again
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.userinfo:  # already sent as the Authorization header (module docstring)
            request.url = request.url.copy_with(userinfo=b"")
        try:
            response = await super().handle_async_request(request)
        except httpx.TimeoutException as exc:
            if _timed_out(exc):
                raise
            raise httpx.ConnectError(_describe(exc), request=request) from exc.__cause__
        response.stream = _Body(response.stream, request)
        return response


class _Body(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream | httpx.AsyncByteStream, request: httpx.Request) -> None:
        assert isinstance(inner, httpx.AsyncByteStream)
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx.TimeoutException as exc:
            if _timed_out(exc):
                raise
            raise httpx.ReadError(_describe(exc), request=self._request) from exc.__cause__

    async def aclose(self) -> None:
        await self._inner.aclose()


def _timed_out(exc: httpx.TimeoutException) -> bool:
    """Whether the aiohttp error behind ``exc`` (if any) is a timeout."""
    cause = exc.__cause__
    return not isinstance(cause, aiohttp.ClientError) or isinstance(cause, asyncio.TimeoutError | TimeoutError)


def _describe(exc: httpx.TimeoutException) -> str:
    cause = exc.__cause__
    return f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
