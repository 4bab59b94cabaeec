"""One base-URL inspection serves `validate` (base-url) and `doctor`."""

from __future__ import annotations

import pytest

from gym_scaffold import urls


@pytest.mark.parametrize(
    ("url", "kinds"),
    [
        ("https://api.openai.com/v1", []),
        ("https://api.openai.com", [urls.NO_PATH]),
        ("https://api.openai.com/v1/chat/completions", [urls.ENDPOINT_SUFFIX]),
        ("https://api.openai.com/v1/responses/", [urls.ENDPOINT_SUFFIX]),
        ("api.openai.com/v1", [urls.NO_SCHEME]),
        ("localhost:8000/v1", [urls.NO_SCHEME]),
        ("ftp://host/v1", [urls.BAD_SCHEME]),
        ("http:///v1", [urls.NO_HOST]),
        ("http://host:99999/v1", [urls.UNPARSEABLE]),
        (" https://api.openai.com/v1", [urls.WHITESPACE]),
        ("https://api.openai.com/ v1", [urls.WHITESPACE]),
    ],
)
def test_inspect_url(url, kinds):
    faults, _ = urls.inspect_url(url)
    assert [fault.kind for fault in faults] == kinds


def test_details_name_what_was_found():
    assert urls.inspect_url("https://h/v1/embeddings")[0] == [urls.UrlFault(urls.ENDPOINT_SUFFIX, "/embeddings")]
    assert urls.inspect_url("ws://h/v1")[0] == [urls.UrlFault(urls.BAD_SCHEME, "ws")]
    assert urls.inspect_url("https://h/v1\n")[0] == [urls.UrlFault(urls.WHITESPACE, "around")]
    assert urls.split_url("http://h:99999") is None


LOOPBACK = ["localhost", "LOCALHOST", "ip6-localhost", "gym.localhost", "127.0.0.1", "127.3.2.1", "::1", "[::1]",
            "0.0.0.0", "::", "0:0:0:0:0:0:0:1"]
ELSEWHERE = ["api.openai.com", "10.0.0.5", "192.168.1.20", "host.docker.internal", "gpu-box.local", "localhost.com",
             "127.0.0.1.nip.io", "", "not a host"]


@pytest.mark.parametrize("host", LOOPBACK)
def test_loopback_hosts(host):
    assert urls.is_loopback_host(host)


@pytest.mark.parametrize("host", ELSEWHERE)
def test_other_hosts_are_not_loopback(host):
    assert not urls.is_loopback_host(host)


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://localhost:8000/v1", True),
        ("http://[::1]:8000/v1", True),
        ("http://127.0.0.1:8000/v1", True),
        ("http://0.0.0.0:8000/v1", True),
        ("http://ip6-localhost:8000/v1", True),
        ("http://host.docker.internal:8000/v1", True),
        ("http://gpu-box.local:8000/v1", True),
        ("http://10.0.0.5:8000/v1", False),
        ("https://api.openai.com/v1", False),
        ("http://[bad:8000/v1", False),
        (None, False),
    ],
)
def test_where_a_keyless_server_is_customary(url, local):
    """validate (an empty key is fine there) adds Docker's and mDNS names to this machine."""
    from gym_scaffold.rules._fields import is_local_url

    assert is_local_url(url) is local
