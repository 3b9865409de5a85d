"""The Simple API page parsers: properties over generated pages, and PEP 503/691/714 details."""

from __future__ import annotations

import html
import json
from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st

from autodocs.index.simple import parse_simple_page

PAGE = "https://index.example/simple/demo/"
versions = st.builds(lambda a, b, c: f"{a}.{b}.{c}", *(st.integers(0, 30) for _ in range(3)))
hrefs = st.sampled_from(["../../files/{f}", "/files/{f}", "https://cdn.example/p/{f}", "{f}", "./x/../{f}"])


@given(st.lists(st.tuples(versions, hrefs, st.booleans()), max_size=12), st.text(max_size=40))
def test_every_listed_file_has_an_absolute_url_and_its_version(
    entries: list[tuple[str, str, bool]], noise: str
) -> None:
    anchors = []
    for version, href, wheel in entries:
        filename = f"demo-{version}-py3-none-any.whl" if wheel else f"demo-{version}.tar.gz"
        anchors.append(f'<a href="{html.escape(href.format(f=filename))}">{filename}</a>')
    body = f"<html><body>{html.escape(noise)}{''.join(anchors)}<a>no href</a></body></html>".encode()
    listing = parse_simple_page("demo", PAGE, "text/html", body)
    assert len(listing.files) == len(entries)
    for file, (version, _, _) in zip(listing.files, entries, strict=True):
        assert urlsplit(file.url).scheme == "https" and urlsplit(file.url).netloc
        assert file.url.endswith(file.filename)
        assert file.version == version


@given(st.binary(max_size=300))
def test_any_bytes_as_html_never_raise(body: bytes) -> None:
    parse_simple_page("demo", PAGE, "text/html", body)


def test_pep714_core_metadata_wins_over_the_older_name_and_yanked_reason_is_kept() -> None:
    body = (
        b'<a href="demo-1.0-py3-none-any.whl#sha256='
        + b"a" * 64
        + b'" data-core-metadata="sha256='
        + b"b" * 64
        + b'" data-dist-info-metadata="sha256='
        + b"c" * 64
        + b'" data-yanked="bad &amp; broken"'
        + b' data-requires-python="&gt;=3.9">demo-1.0-py3-none-any.whl</a>'
    )
    (file,) = parse_simple_page("demo", PAGE, "text/html", body).files
    assert file.metadata and file.metadata_sha256 == "b" * 64
    assert file.sha256 == "a" * 64 and file.yanked and file.yanked_reason == "bad & broken"
    assert file.requires_python == ">=3.9"


def test_pep691_json_page_with_dist_info_metadata_true_and_base_relative_urls() -> None:
    page = {
        "meta": {"api-version": "1.0"},
        "name": "demo",
        "files": [
            {"filename": "demo-2.0.tar.gz", "url": "../../f/demo-2.0.tar.gz", "hashes": {}, "yanked": True},
            {"filename": "demo-2.0-py3-none-any.whl", "url": "w.whl", "hashes": {}, "dist-info-metadata": True},
            {"filename": "demo-2.0.exe", "url": "x.exe", "hashes": {}},
        ],
    }
    listing = parse_simple_page("demo", PAGE, "application/vnd.pypi.simple.v1+json", json.dumps(page).encode())
    sdist, wheel = listing.files
    assert sdist.url == "https://index.example/f/demo-2.0.tar.gz" and sdist.yanked and sdist.yanked_reason is None
    assert wheel.metadata and wheel.metadata_sha256 is None and wheel.url == PAGE + "w.whl"
    releases = listing.release_list()
    assert [r.version for r in releases.releases] == ["2.0"] and not releases.releases[0].yanked
