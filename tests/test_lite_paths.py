"""The JupyterLite guide's paths, fetched from a server of dist/ as the guide says to serve it.

No browser: the paths micropip and the guide's URLs name must answer on
`python3 -m http.server -d dist` (here a StaticServer of dist/, the same files).
"""

from __future__ import annotations

import re
import urllib.request
import zipfile
from collections.abc import Iterator
from io import BytesIO
from urllib.parse import urljoin, urlsplit

import pytest
from conftest import DIST, ROOT
from servers import StaticServer

LITE_SECTION = (ROOT / "docs" / "guides" / "jupyterlite.md").read_text()
NOTEBOOK = (ROOT / "demo" / "notebook.ipynb").read_text()


@pytest.fixture(scope="module")
def dist_server() -> Iterator[str]:
    if not (DIST / "lite" / ".build-stamp.json").exists():
        pytest.fail("dist/lite/ is not built: run ./build.sh lite (or ./build.sh test)")
    server = StaticServer(DIST, isolate=False)
    yield server.url
    server.close()


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, url
        return response.read()


def check_index(base: str, index: str) -> None:
    """`micropip.install("websocket-streaming", index_urls=index)`: the project page lists a wheel that is there."""
    page = get(f"{base}{index}/websocket-streaming/").decode()
    links = re.findall(r'href="([^"#]+\.whl)', page)
    assert links, page
    wheel = urljoin(f"{base}{index}/websocket-streaming/", links[0])
    assert zipfile.ZipFile(BytesIO(get(wheel))).testzip() is None


def test_guide_micropip_paths_answer(dist_server):
    """The guide's index_urls and wheel path answer on the server of dist/."""
    indexes = re.findall(r'index_urls="([^"]+)"', LITE_SECTION)
    wheels = re.findall(r'micropip\.install\("(/[^"]+\.whl)"\)', LITE_SECTION)
    assert indexes == ["/lite/simple"] and len(wheels) == 1, (indexes, wheels)
    for index in indexes:
        check_index(dist_server, index)
    assert zipfile.ZipFile(BytesIO(get(dist_server + wheels[0]))).testzip() is None


def test_guide_site_urls_answer(dist_server):
    """Each http://127.0.0.1:8000/... URL of the guide answers (on our port)."""
    urls = re.findall(r"http://127\.0\.0\.1:8000(/[^\s)`]+)", LITE_SECTION)
    assert any("/lite/lab/" in u for u in urls) and any("/lite/repl/" in u for u in urls), urls
    for path in urls:
        assert get(dist_server + path)
    notebook = re.search(r"path=([\w.-]+)", LITE_SECTION)
    assert notebook and get(f"{dist_server}/lite/files/{notebook[1]}")


def test_notebook_micropip_path_answers(dist_server):
    """The example notebook's index_urls answers too."""
    indexes = re.findall(r'index_urls=\\"([^"\\]+)\\"', NOTEBOOK)
    assert indexes == ["/lite/simple"]
    check_index(dist_server, indexes[0])


def test_build_sh_lite_prints_the_url():
    """`./build.sh lite` ends by printing the notebook's URL, the one the guide gives."""
    build = (ROOT / "build.sh").read_text()
    lite = build.split("  lite)", 1)[1].split(";;", 1)[0]
    printed = re.findall(r"http://127\.0\.0\.1:8000/[^\s\"]+", lite)
    assert printed and all(url in LITE_SECTION for url in printed), printed
    assert urlsplit(printed[0]).path == "/lite/lab/index.html"
