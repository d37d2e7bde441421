"""The documentation site: it builds with warnings as errors, and it reads right in a real browser.

Marked ``docs`` (CI runs ``pytest -m docs``): it needs the ``docs`` extra and Chromium. The build is
``python docs/build.py`` (incremental: fast when the site is current). Pages are served from 127.0.0.1
and loaded in headless Chromium driven by Playwright (the installed browser; Playwright never downloads
one). On each page: the math is typeset by MathJax (no raw TeX left in the visible text), every image
loaded, the console has no error, and no request goes to another host. Full-page screenshots are saved
under ``docs/_build/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.docs

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
HTML = DOCS / "_build" / "html"
SCREENSHOTS = DOCS / "_build" / "screenshots"
sys.path.insert(0, str(DOCS / "_ext"))
import schedule_entries  # noqa: E402

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = {
    "index": "index.html",
    "OneCycle": "api/OneCycle.html",
    "functions": "api/functions.html",
    "guide-one-cycle": "guides/one-cycle.html",
    "guide-precision": "guides/precision.html",
}
MATH_PAGES = {"OneCycle", "functions"}
RAW_TEX = re.compile(
    r"\\(eta|frac|tfrac|dfrac|operatorname|text|left|right|qquad|quad|lfloor|rfloor|big|Big|mathrm|rho|gamma"
    r"|delta|phi|mu|le|ge|cdot|sqrt|cos|exp|infty|begin|end)(?![a-zA-Z])"
)


def chromium() -> str:
    path = os.environ.get("MLX_LRSCHED_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        message = "Chromium is not installed (apt-get install chromium, or set MLX_LRSCHED_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def site() -> Path:
    pytest.importorskip("sphinx", reason="the docs extra: pip install -e '.[docs]'")
    done = subprocess.run(
        [sys.executable, str(DOCS / "build.py"), "-q"], cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"the docs build failed (warnings are errors):\n{done.stdout}\n{done.stderr}"
    return HTML


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def browser(server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the docs extra: pip install -e '.[docs]'")
    executable = chromium()
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a new, empty user-data-dir
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def load(browser: Any, url: str, name: str | None = None) -> dict[str, Any]:
    """Load a page, let MathJax finish, scroll through it (lazy images), screenshot it when named; report."""
    page = browser.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    def local_only(route: Any) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, url
    page.evaluate("""async () => {
        if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
        for (let y = 0; y < document.body.scrollHeight; y += 600) {
            window.scrollTo(0, y);
            await new Promise(resolve => setTimeout(resolve, 30));
        }
        window.scrollTo(0, 0);
        await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
    }""")
    if name is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    report = page.evaluate("""() => ({
        text: document.body.innerText,
        math: document.querySelectorAll('mjx-container').length,
        mathErrors: document.querySelectorAll('mjx-merror').length,
        images: [...document.images].map(img => ({src: img.currentSrc, width: img.naturalWidth})),
    })""")
    page.close()
    return {**report, "errors": errors, "foreign": foreign}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_its_math_and_images_without_errors(browser: Any, server: str, name: str) -> None:
    report = load(browser, server + PAGES[name], name)
    assert report["errors"] == [], report["errors"]
    assert report["foreign"] == [], f"requests to other hosts: {report['foreign']}"
    broken = [image["src"] for image in report["images"] if image["width"] == 0]
    assert broken == [], f"images that did not load: {broken}"
    raw = sorted(set(RAW_TEX.findall(report["text"])))
    assert raw == [], f"raw TeX left in the visible text: {raw}"
    if name in MATH_PAGES:
        assert report["math"] > 0 and report["mathErrors"] == 0, report["math"]
    if name == "OneCycle":
        assert any(image["src"].endswith("/_images/OneCycle.png") for image in report["images"])
        assert "PyTorch OneCycleLR" in report["text"] and "tests/test_one_cycle.py" in report["text"]
    if name == "index":
        assert len(report["images"]) >= 1


def test_every_schedule_page_typesets_its_math_and_loads_its_plot(browser: Any, server: str) -> None:
    problems = {}
    for name in schedule_entries.public_schedules():
        report = load(browser, f"{server}api/{name}.html")
        raw = sorted(set(RAW_TEX.findall(report["text"])))
        broken = [image["src"] for image in report["images"] if image["width"] == 0]
        if raw or broken or report["errors"] or report["mathErrors"] or not report["math"]:
            problems[name] = {"raw TeX": raw, "broken images": broken, "console": report["errors"]}
    assert problems == {}, problems


def test_every_public_schedule_has_a_page_and_a_plot_in_the_site(site: Path) -> None:
    for name in schedule_entries.public_schedules():
        page = (site / "api" / f"{name}.html").read_text()
        assert f'id="mlx_lrsched.{name}"' in page, name  # its autodoc entry
        assert f"{name}.png" in page and (site / "_images" / f"{name}.png").is_file(), name


def test_the_site_loads_no_script_or_style_from_another_host(site: Path) -> None:
    tag = re.compile(r"<(?:script|link)\b[^>]*>", re.IGNORECASE)
    for path in site.rglob("*.html"):
        for element in tag.findall(path.read_text()):
            if 'rel="canonical"' in element:
                continue  # the published address of the page, not something loaded
            assert not re.search(r"(src|href)=\"(https?:)?//", element), f"{path.relative_to(site)}: {element}"
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_the_performance_page_is_the_committed_benchmark_summary(site: Path) -> None:
    summary = (REPO / "benchmarks" / "results" / "summary.md").read_text()
    text = re.sub(r"<[^>]+>", "", (site / "guides" / "performance.html").read_text())
    first_row = next(line for line in summary.splitlines() if line.startswith("| one kernel"))
    assert first_row.split("|")[1].strip() in text


def test_every_link_into_the_published_site_names_a_page_it_has(site: Path) -> None:
    for source in (REPO / "README.md", DOCS / "pypi.md"):
        links = re.findall(re.escape(schedule_entries.DOCS_URL) + r"([^)#\s]*)", source.read_text())
        assert links, source.name
        for link in links:
            assert (site / (link or "index.html")).is_file(), f"{source.name}: {link}"
