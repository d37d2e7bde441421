"""The examples' data layer: the IDX parser, the verified download cache, atomic writes, digits."""

from __future__ import annotations

import gzip
import hashlib
import struct
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

import data
from data import DownloadError, IdxSource, RemoteFile, atomic_write, fetch, load_idx_dataset, parse_idx, read_idx


def idx_bytes(array: np.ndarray, type_code: int, big_endian_dtype: str) -> bytes:
    """The IDX layout written out: two zero bytes, type code, ndim, big-endian uint32 dims, big-endian data."""
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(big_endian_dtype).tobytes()


@pytest.mark.parametrize(
    ("type_code", "dtype", "values"),
    [
        (0x08, ">u1", np.array([[[0, 255], [7, 128]], [[1, 2], [3, 4]]])),
        (0x09, ">i1", np.array([-128, -1, 0, 127])),
        (0x0B, ">i2", np.array([[-300, 2], [3, 30000]])),
        (0x0C, ">i4", np.array([-(2**31), 2**31 - 1])),
        (0x0D, ">f4", np.array([[0.5, -1.25, 3e38]])),
        (0x0E, ">f8", np.array([1e-300, -2.0])),
    ],
)
def test_idx_parser_reads_every_type_code_big_endian(type_code: int, dtype: str, values: np.ndarray) -> None:
    parsed = parse_idx(idx_bytes(values, type_code, dtype))
    assert parsed.shape == values.shape
    assert parsed.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(parsed, values.astype(dtype))


def test_idx_magic_of_mnist_labels_is_2049_and_images_2051() -> None:
    labels = idx_bytes(np.arange(3), 0x08, ">u1")
    images = idx_bytes(np.zeros((2, 28, 28)), 0x08, ">u1")
    assert struct.unpack(">I", labels[:4])[0] == 2049 and struct.unpack(">I", images[:4])[0] == 2051
    assert parse_idx(images).shape == (2, 28, 28)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\x1f\x8b\x08\x00", "magic number"),
        (b"", "magic number"),
        (bytes([0, 0, 0x07, 1]) + struct.pack(">I", 1) + b"\x00", "unknown type code 0x07"),
        (bytes([0, 0, 0x08, 3]) + struct.pack(">I", 2), "truncated IDX file"),
        (bytes([0, 0, 0x08, 1]) + struct.pack(">I", 4) + b"\x01\x02\x03", "payload is 3 bytes"),
        (bytes([0, 0, 0x08, 1]) + struct.pack(">I", 2) + b"\x01\x02\x03", "payload is 3 bytes"),
    ],
)
def test_idx_parser_rejects_malformed_files(payload: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_idx(payload)


def test_read_idx_accepts_gzipped_and_plain_files(tmp_path: Path) -> None:
    values = np.arange(12, dtype=np.uint8).reshape(3, 4)
    raw = idx_bytes(values, 0x08, ">u1")
    (tmp_path / "plain-idx2-ubyte").write_bytes(raw)
    (tmp_path / "packed-idx2-ubyte.gz").write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(read_idx(tmp_path / "plain-idx2-ubyte"), values)
    np.testing.assert_array_equal(read_idx(tmp_path / "packed-idx2-ubyte.gz"), values)


# ------------------------------------------------------------------------------- a mirror on disk


NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture
def mirror(tmp_path: Path) -> tuple[IdxSource, dict[str, np.ndarray]]:
    """A tiny MNIST-format dataset served from a file:// mirror, with the real SHA-256s of its files."""
    rng = np.random.default_rng(0)
    arrays = {
        NAMES[0]: rng.integers(0, 256, (40, 6, 6)),
        NAMES[1]: np.arange(40) % 10,
        NAMES[2]: rng.integers(0, 256, (10, 6, 6)),
        NAMES[3]: np.arange(10) % 10,
    }
    folder = tmp_path / "mirror"
    folder.mkdir()
    files = []
    for name, values in arrays.items():
        blob = gzip.compress(idx_bytes(values, 0x08, ">u1"))
        (folder / name).write_bytes(blob)
        files.append(RemoteFile(name, hashlib.sha256(blob).hexdigest()))
    source = IdxSource("tiny", (folder.as_uri() + "/",), *files)
    return source, arrays


def _offline(*args: object, **kwargs: object) -> None:
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def test_fetch_downloads_into_the_cache_and_verifies(tmp_path: Path, mirror: tuple[IdxSource, dict]) -> None:
    source, _ = mirror
    paths = fetch(source, tmp_path / "cache")
    for remote in source.files:
        assert paths[remote.name] == tmp_path / "cache" / "tiny" / remote.name
        assert hashlib.sha256(paths[remote.name].read_bytes()).hexdigest() == remote.sha256
    assert not list((tmp_path / "cache" / "tiny").glob(".*"))  # no temporaries left


def test_fetch_uses_the_cache_without_network(tmp_path: Path, mirror: tuple[IdxSource, dict]) -> None:
    source, _ = mirror
    fetch(source, tmp_path / "cache")
    paths = fetch(source, tmp_path / "cache", opener=_offline)  # would raise if it tried to download
    assert set(paths) == set(NAMES)


def test_fetch_replaces_a_corrupt_cached_file(tmp_path: Path, mirror: tuple[IdxSource, dict]) -> None:
    source, _ = mirror
    paths = fetch(source, tmp_path / "cache")
    paths[NAMES[1]].write_bytes(b"truncated")
    fetch(source, tmp_path / "cache")
    assert hashlib.sha256(paths[NAMES[1]].read_bytes()).hexdigest() == source.train_labels.sha256


def test_checksum_mismatch_is_an_error_and_writes_nothing(tmp_path: Path, mirror: tuple[IdxSource, dict]) -> None:
    source, _ = mirror
    tampered = IdxSource("tiny", source.mirrors, RemoteFile(NAMES[0], "0" * 64), *source.files[1:])
    with pytest.raises(DownloadError, match=f"checksum mismatch for .*{NAMES[0]}: expected SHA-256 0000"):
        fetch(tampered, tmp_path / "cache")
    assert not (tmp_path / "cache" / "tiny" / NAMES[0]).exists()
    assert not list((tmp_path / "cache" / "tiny").glob(".*"))


def test_offline_error_says_where_to_put_the_files(tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as error:
        fetch(data.MNIST, tmp_path, opener=_offline)
    message = str(error.value)
    assert "could not download mnist file train-images-idx3-ubyte.gz from any mirror" in message
    assert "ossci-datasets.s3.amazonaws.com" in message and "Temporary failure in name resolution" in message
    assert str(tmp_path / "mnist") in message and "--dataset digits" in message


def test_second_mirror_is_tried_when_the_first_fails(tmp_path: Path, mirror: tuple[IdxSource, dict]) -> None:
    source, _ = mirror
    with_dead_mirror = IdxSource("tiny", ((tmp_path / "missing").as_uri() + "/", *source.mirrors), *source.files)
    assert set(fetch(with_dead_mirror, tmp_path / "cache")) == set(NAMES)


def test_idx_dataset_loads_into_mlx_arrays_scaled_to_unit_range(tmp_path: Path, mirror: tuple[IdxSource, dict]) -> None:
    source, arrays = mirror
    dataset = load_idx_dataset(source, tmp_path / "cache")
    assert dataset.x_train.shape == (40, 6, 6, 1) and dataset.x_test.shape == (10, 6, 6, 1)
    assert dataset.image_shape == (6, 6, 1) and dataset.num_classes == 10
    np.testing.assert_allclose(np.array(dataset.x_train)[..., 0], arrays[NAMES[0]] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(np.array(dataset.y_test), arrays[NAMES[3]])


def test_train_script_runs_on_an_idx_dataset_from_the_cache(
    tmp_path: Path, mirror: tuple[IdxSource, dict], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import train

    source, _ = mirror
    monkeypatch.setitem(data.IDX_SOURCES, "mnist", source)
    argv = ["--dataset", "mnist", "--data-dir", str(tmp_path / "cache"), "--epochs", "1", "--batch-size", "8"]
    assert train.main([*argv, "--no-compile"]) == 0
    out = capsys.readouterr().out
    assert "tiny: 40 train / 10 test images 6x6x1" in out and "Epoch 01/01: learning rate =" in out


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "record.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target, "w") as handle:
        handle.write("half of the new")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]
    with atomic_write(target, "w") as handle:
        handle.write("new")
    assert target.read_text() == "new"


def test_atomic_write_gives_the_permissions_of_a_plainly_created_file(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    with atomic_write(tmp_path / "atomic", "w") as handle:
        handle.write("x")
    assert (tmp_path / "atomic").stat().st_mode == (tmp_path / "plain").stat().st_mode


def test_digits_split_is_stratified_and_scaled() -> None:
    dataset = data.load_digits_dataset()
    assert dataset.x_train.shape == (1437, 8, 8, 1) and dataset.x_test.shape == (360, 8, 8, 1)
    assert float(dataset.x_train.min()) == 0.0 and float(dataset.x_train.max()) == 1.0
    counts = np.bincount(np.array(dataset.y_test), minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # ~36 of each digit
