"""docs/make_gallery.py: it runs, covers every schedule, and the committed gallery is what it generates."""

from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
from matplotlib import image as mpimg  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "docs" / "make_gallery.py"
COMMITTED = REPO / "docs" / "gallery"


def load_script():
    spec = importlib.util.spec_from_file_location("make_gallery", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_gallery"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def png_header_and_text(path: Path) -> tuple[tuple[int, int], dict[str, str]]:
    """(width, height) from IHDR and the tEXt chunks of a PNG, checking the signature and every CRC."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    offset, size, text = 8, (0, 0), {}
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, payload = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        assert struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])[0] == zlib.crc32(kind + payload)
        if kind == b"IHDR":
            size = struct.unpack(">II", payload[:8])
        elif kind == b"tEXt":
            key, _, value = payload.partition(b"\0")
            text[key.decode("latin-1")] = value.decode("latin-1")
        offset += 12 + length
    return size, text


def distinct_colours(pixels: np.ndarray) -> int:
    """How many different RGBA colours an image from ``matplotlib.image.imread`` has."""
    rgba = np.round(pixels * 255).astype(np.uint8)
    return len(
        np.unique(
            rgba.reshape(-1, rgba.shape[-1])
            @ np.array([1 << 24, 1 << 16, 1 << 8, 1], dtype=np.uint64)[: rgba.shape[-1]]
        )
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gallery")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr  # every registered schedule has a panel
    assert sorted(Path(line).name for line in result.stdout.split()) == sorted(os.listdir(out))
    return out


def test_the_script_writes_one_png_per_family_plus_the_combined_figure(generated):
    gallery = load_script()
    expected = {f"{family}.png" for family in gallery.families()} | {"all.png"}
    assert set(os.listdir(generated)) == expected  # and no temporary file is left behind
    assert {"decay.png", "warmup.png", "compose.png"} <= expected


def test_every_generated_image_is_a_valid_non_empty_png(generated):
    for path in sorted(generated.iterdir()):
        (width, height), text = png_header_and_text(path)
        assert width >= 800 and height >= 300, path.name
        assert "Software" not in text and text["Source"] == "docs/make_gallery.py"
        pixels = mpimg.imread(path)
        assert pixels.shape[:2] == (height, width)
        assert distinct_colours(pixels) > 50, f"{path.name} looks blank"


def test_the_committed_gallery_has_the_same_files_and_sizes(generated):
    assert sorted(os.listdir(COMMITTED)) == sorted(os.listdir(generated)), "run python docs/make_gallery.py"
    for path in sorted(generated.iterdir()):
        assert png_header_and_text(COMMITTED / path.name)[0] == png_header_and_text(path)[0], path.name


def test_the_committed_gallery_has_the_same_pixels(generated):
    for path in sorted(generated.iterdir()):
        committed = COMMITTED / path.name
        version = png_header_and_text(committed)[1].get("Matplotlib")
        if version != matplotlib.__version__:
            pytest.skip(f"gallery rendered with matplotlib {version}, this is {matplotlib.__version__}")
        same = np.array_equal(mpimg.imread(committed), mpimg.imread(path))
        assert same, f"docs/gallery/{path.name} is stale: run python docs/make_gallery.py"


def test_every_pure_schedule_has_a_panel_and_feedback_ones_are_skipped():
    gallery = load_script()
    assert gallery.missing_panels() == []
    drawn = {gallery.schedule_of(title) for title in gallery.PANELS}
    assert not drawn & gallery.NOT_PURE
