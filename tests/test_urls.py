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
