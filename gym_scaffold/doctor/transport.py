"""Failures before any HTTP answer: DNS, refused, TLS, timeout, reset, proxy, bad URL or header."""

from __future__ import annotations

import re

from gym_scaffold.doctor.bodies import first_sentence
from gym_scaffold.doctor.classify import Category, Diagnosis, Where

TRANSPORT_KINDS = ("dns", "refused", "tls", "timeout", "reset", "bad_url", "bad_header", "proxy", "other")


def classify_transport(kind: str, detail: str = "", *, where: Where | None = None, host: str | None = None,
                       timeout_s: float | None = None) -> Diagnosis:
    """A failure before any HTTP answer. `kind` is one of TRANSPORT_KINDS."""
    where = where or Where()
    host_txt = f" {host}" if host else ""
    detail_txt = f" ({first_sentence(detail, 200)})" if detail else ""
    if kind == "dns":
        return Diagnosis(
            Category.UNREACHABLE,
            f"DNS: the host name{host_txt} does not resolve{detail_txt}",
            f"Check the host in {where.base_url} for a typo; a cluster-internal name only resolves inside that network "
            "(VPN, same cluster). Try `getent hosts HOST`.",
            details={"kind": kind},
        )
    if kind == "refused":
        return Diagnosis(
            Category.UNREACHABLE,
            f"connection refused by{host_txt or ' the host'}: nothing listens on that port{detail_txt}",
            f"Start the model server (for vLLM: `vllm serve ... --port PORT`) or fix host/port in {where.base_url}; "
            "a server bound to 127.0.0.1 is not reachable from another machine or container.",
            details={"kind": kind},
        )
    if kind == "tls":
        low = detail.lower()
        if "wrong_version_number" in low or "wrong version number" in low or "record layer failure" in low:
            fix = f"The server speaks plain HTTP on that port: use http:// instead of https:// in {where.base_url}."
        elif "certificate" in low or "verify" in low:
            fix = (
                "The server's certificate is not trusted here: a self-signed or corporate-proxy certificate. Point "
                "SSL_CERT_FILE (and REQUESTS_CA_BUNDLE) at the CA bundle that signs it; do not disable verification."
            )
        else:
            fix = f"Check that {where.base_url} uses the right scheme and port, and the host's certificate is valid."
        return Diagnosis(Category.UNREACHABLE, f"TLS handshake with{host_txt or ' the host'} failed{detail_txt}", fix,
                         details={"kind": kind})
    if kind == "timeout":
        within = f" within {timeout_s:.3g} s" if timeout_s else ""
        return Diagnosis(
            Category.UNREACHABLE,
            f"timeout: no answer from{host_txt or ' the host'}{within}{detail_txt}",
            "The server accepted no connection or sent no answer in time: check it is up and not overloaded "
            "(vLLM still loading the model answers nothing), that a firewall does not drop packets, and the port in "
            f"{where.base_url}. Raise --timeout for a slow server.",
            details={"kind": kind},
        )
    if kind == "reset":
        return Diagnosis(
            Category.UNREACHABLE,
            f"connection closed by{host_txt or ' the host'} without an answer{detail_txt}",
            f"The server dropped the connection: it may be crashing, speak HTTPS where {where.base_url} says http:// "
            "(or another protocol), or sit behind a proxy that cuts the request. Check the server's log.",
            details={"kind": kind},
        )
    if kind == "proxy":
        return Diagnosis(
            Category.UNREACHABLE,
            f"the HTTP proxy refused or failed the request{detail_txt}",
            "Check HTTPS_PROXY / HTTP_PROXY, or add the host to NO_PROXY if it should be reached directly.",
            details={"kind": kind},
        )
    if kind == "bad_url":
        return Diagnosis(
            Category.BAD_BASE_URL,
            f"the base URL cannot be requested{detail_txt}",
            f"Fix {where.base_url}: it needs a scheme and host, e.g. https://api.openai.com/v1.",
            details={"kind": kind},
        )
    if kind == "bad_header":
        return Diagnosis(
            Category.INVALID_API_KEY,
            f"the key cannot be sent as an HTTP header (whitespace, newline or non-ASCII characters){detail_txt}",
            f"Remove the stray characters from {where.key} (often a trailing newline from `echo` or a copied space).",
            details={"kind": kind},
        )
    return Diagnosis(
        Category.UNREACHABLE,
        f"could not connect to{host_txt or ' the host'}{detail_txt}",
        f"Check that {where.base_url} is reachable from this machine (curl it).",
        details={"kind": kind},
    )


def transport_kind(exc: BaseException) -> tuple[str, str]:
    """Walk an exception chain (SDK -> httpx -> socket/ssl) to a transport kind and a detail."""
    import socket
    import ssl

    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(chain) < 12:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    names = [type(e).__name__ for e in chain]
    texts = [str(e) for e in chain if str(e)]
    joined = " | ".join(texts).lower()
    detail = next((t for t in reversed(texts) if t and t not in ("Connection error.", "Request timed out.")), "")

    if any(isinstance(e, socket.gaierror) for e in chain) or re.search(
        r"name or service not known|nodename nor servname|getaddrinfo|temporary failure in name resolution|"
        r"no address associated|name resolution|non-existent domain",
        joined,
    ):
        return "dns", detail
    if any(isinstance(e, ssl.SSLError) for e in chain) or re.search(r"\bssl\b|certificate|tls", joined):
        return "tls", detail
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in joined or "errno 111" in joined:
        return "refused", detail
    if any("Timeout" in n for n in names) or "timed out" in joined:
        return "timeout", detail
    if any("Proxy" in n for n in names):
        return "proxy", detail
    if any(n in ("UnsupportedProtocol", "InvalidURL") for n in names) or "missing an 'http://'" in joined:
        return "bad_url", detail
    if any(n == "LocalProtocolError" for n in names) or "illegal header" in joined or "header value" in joined:
        return "bad_header", "illegal header value"
    if any(isinstance(e, UnicodeEncodeError) for e in chain):
        return "bad_header", "non-ASCII character in a header"
    if (
        any(isinstance(e, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)) for e in chain)
        or any(n in ("RemoteProtocolError", "ReadError", "WriteError") for n in names)
        or "disconnected" in joined
        or "reset by peer" in joined
    ):
        return "reset", detail
    return "other", detail
