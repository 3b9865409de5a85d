"""TLS as the user's machine has it: which certificates the index client trusts, and what a
certificate failure is called.

Trust, as pip does it: the operating system's trust store through ``truststore`` (so a company
CA installed on the machine, as TLS-intercepting proxies need, is trusted without further
setup), unless ``SSL_CERT_FILE`` or ``REQUESTS_CA_BUNDLE`` names a CA bundle (``SSL_CERT_DIR``
a folder of them), which then is the whole trust. certifi's bundle, httpx's default, knows
no company CA.

A certificate that cannot be verified is :class:`~autodocs.errors.UpstreamTLSError`: the
same request would fail the same way, so it is tried once and never retried, and the error
names the settings that fix it.
"""

from __future__ import annotations

import os
import ssl
from urllib.parse import urlsplit

import truststore

from autodocs.errors import ConfigError, UpstreamTLSError

__all__ = ["TRUST_VARIABLES", "certificate_failure", "index_ssl_context"]

#: The environment variables that name CA bundles, in the order they are honoured.
TRUST_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def index_ssl_context() -> ssl.SSLContext:
    """The context every connection to an index uses (see the module docstring)."""
    bundle = next(((name, os.environ[name]) for name in TRUST_VARIABLES if os.environ.get(name)), None)
    folder = os.environ.get("SSL_CERT_DIR") or None
    if bundle is None and folder is None:
        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        return ssl.create_default_context(cafile=bundle[1] if bundle else None, capath=folder)
    except (OSError, ssl.SSLError) as exc:
        name, value = bundle if bundle else ("SSL_CERT_DIR", folder)
        raise ConfigError(
            f"{name}={value!r} could not be read as CA certificates: {exc}.",
            suggestions=[f"Point {name} at a readable PEM file of CA certificates, or unset it."],
        ) from None


def certificate_failure(exc: BaseException, shown_url: str) -> UpstreamTLSError | None:
    """The TLS error behind a connection failure, if a certificate is what failed."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or cause.reason or "certificate verify failed"
            break
        cause = cause.__cause__ or cause.__context__
    else:
        return None
    host = urlsplit(shown_url).hostname or shown_url
    configured = [name for name in TRUST_VARIABLES if os.environ.get(name)]
    trusted = f"the CA bundle in {configured[0]}" if configured else "the system trust store"
    return UpstreamTLSError(
        f"The package index's certificate for {host} is not trusted by {trusted}: {reason} "
        "(CERTIFICATE_VERIFY_FAILED).",
        suggestions=[
            "If a proxy or your company's CA signs this certificate, add that CA to the system trust store, "
            "or point SSL_CERT_FILE (or REQUESTS_CA_BUNDLE) at a PEM bundle that holds it.",
            "Check that AUTODOCS_INDEX_URL names the right host.",
        ],
    )
