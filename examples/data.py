"""Datasets for the examples: digits (offline), MNIST and Fashion-MNIST (downloaded once, verified, cached).

Every dataset is loaded once into ``mx.array``s: images as float32 ``(N, H, W, 1)`` in ``[0, 1]``, labels as
int32. On Apple silicon these buffers live in unified memory, so the GPU reads them in place and a batch
is an index gather on the device, never a per-batch copy from the host.

MNIST-style files are the four gzipped IDX files of the original distribution. They are fetched with
``urllib`` from a list of mirrors into a cache directory (``--data-dir``, else ``$MLX_LRSCHED_DATA``, else
``~/.cache/mlx-lrsched``), verified against their published SHA-256, and written atomically (temporary
file, then ``os.replace``), so an interrupted download never leaves a half file that looks complete.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import struct
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

DOWNLOAD_TIMEOUT_S = 30.0
_PROCESS_START = time.time()
"""When this process imported the examples (before it wrote anything): older temp files are not its own."""


class DownloadError(RuntimeError):
    """A dataset file could not be obtained (offline, every mirror failed, or the checksum did not match)."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name on the mirrors and the SHA-256 of its published bytes."""

    name: str
    sha256: str


@dataclass(frozen=True)
class IdxSource:
    """An MNIST-format dataset: mirrors (base URLs ending in ``/``) and the four IDX files."""

    name: str
    mirrors: tuple[str, ...]
    train_images: RemoteFile
    train_labels: RemoteFile
    test_images: RemoteFile
    test_labels: RemoteFile

    @property
    def files(self) -> tuple[RemoteFile, ...]:
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)


# Checksums: the SHA-256 of the published gz files (torchvision publishes the same files' MD5s).
MNIST = IdxSource(
    name="mnist",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    train_images=RemoteFile(
        "train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    ),
    train_labels=RemoteFile(
        "train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    ),
    test_images=RemoteFile(
        "t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    ),
    test_labels=RemoteFile(
        "t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    ),
)

FASHION_MNIST = IdxSource(
    name="fashion_mnist",
    mirrors=(
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
    train_images=RemoteFile(
        "train-images-idx3-ubyte.gz", "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc"
    ),
    train_labels=RemoteFile(
        "train-labels-idx1-ubyte.gz", "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc"
    ),
    test_images=RemoteFile(
        "t10k-images-idx3-ubyte.gz", "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229"
    ),
    test_labels=RemoteFile(
        "t10k-labels-idx1-ubyte.gz", "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf"
    ),
)

IDX_SOURCES = {source.name: source for source in (MNIST, FASHION_MNIST)}
DATASETS = ("digits", *IDX_SOURCES)


@dataclass(frozen=True)
class Dataset:
    """A classification dataset held in ``mx.array``s (images ``(N, H, W, C)`` float32, labels int32)."""

    name: str
    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    num_classes: int

    @property
    def image_shape(self) -> tuple[int, int, int]:
        _, height, width, channels = self.x_train.shape
        return (height, width, channels)


# ---------------------------------------------------------------------------------------------- files


@contextmanager
def atomic_write(path: Path | str, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success flush, fsync and ``os.replace`` it onto ``path``.

    Readers see either the old file or the complete new one, never a partial write. On an exception the
    temporary file is removed and ``path`` is untouched. The temporary file is ``.{name}.{pid}.{random}.tmp``
    (``pid`` of the writing process), so a file left by a killed process can be recognised and removed by
    :func:`remove_stale_temp_files`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}.{os.getpid()}."
    handle = tempfile.NamedTemporaryFile(mode, dir=path.parent, prefix=prefix, suffix=".tmp", delete=False)  # noqa: SIM115 (closed below)
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's live process (or a number we cannot check): keep its file
    return True


def _temp_pattern(name: str) -> re.Pattern[str]:
    """The names :func:`atomic_write` gives the temporary files of ``name`` (``tempfile``'s 8 random chars),
    with the writer's pid, or without it (written before the pid was added)."""
    return re.compile(rf"\.{re.escape(name)}\.(?:(?P<pid>\d+)\.)?[a-z0-9_]{{8}}\.tmp")


def remove_stale_temp_files(directory: Path | str, names: Iterator[str] | list[str] | set[str]) -> list[Path]:
    """Remove the temporary files a killed :func:`atomic_write` left in ``directory`` for the files ``names``.

    Only files matching the writer's own pattern (``.{name}.{pid}.{random}.tmp``) are considered, and a
    file is stale when the process that wrote it is gone: its pid is not running, or it is this process's
    pid (or has no pid) but the file is older than this process. A live writer's file is never touched.
    Returns the removed paths.
    """
    folder = Path(directory)
    if not folder.is_dir():
        return []
    removed: list[Path] = []
    patterns = [_temp_pattern(name) for name in sorted(set(names))]
    for entry in folder.iterdir():
        match = next((m for m in (p.fullmatch(entry.name) for p in patterns) if m is not None), None)
        if match is None or not entry.is_file() or entry.is_symlink():
            continue
        try:
            older = entry.stat().st_mtime < _PROCESS_START
        except FileNotFoundError:
            continue
        pid = None if match["pid"] is None else int(match["pid"])
        stale = older if pid is None or pid == os.getpid() else not _pid_alive(pid)
        if stale:
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def sha256_of(path: Path | str) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_data_dir() -> Path:
    """``$MLX_LRSCHED_DATA`` if set, else ``~/.cache/mlx-lrsched``."""
    return Path(os.environ.get("MLX_LRSCHED_DATA", Path.home() / ".cache" / "mlx-lrsched"))


Opener = Callable[..., Any]


def download(url: str, path: Path, sha256: str, *, opener: Opener | None = None) -> None:
    """Fetch ``url`` into ``path`` atomically, verifying the SHA-256 of the bytes before they land.

    Raises:
        DownloadError: the checksum does not match (the partial file is discarded).
        urllib.error.URLError / OSError: the network failed (the caller tries the next mirror).
    """
    opener = opener or urllib.request.urlopen
    digest = hashlib.sha256()
    with opener(url, timeout=DOWNLOAD_TIMEOUT_S) as response, atomic_write(path) as out:
        for chunk in iter(lambda: response.read(1 << 20), b""):
            digest.update(chunk)
            out.write(chunk)
        if digest.hexdigest() != sha256:
            raise DownloadError(
                f"checksum mismatch for {url}: expected SHA-256 {sha256}, got {digest.hexdigest()} "
                "(corrupt download or a changed mirror); nothing was written"
            )


def fetch(source: IdxSource, data_dir: Path | str | None = None, *, opener: Opener | None = None) -> dict[str, Path]:
    """Make sure the four files of ``source`` are in ``data_dir/source.name``, downloading what is missing.

    A cached file is trusted only if its SHA-256 matches; a mismatching one is downloaded again.

    Returns:
        The local path of each file, keyed by file name.

    Raises:
        DownloadError: a file is missing and no mirror delivered it; the message says where to put the
        files by hand.
    """
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    folder = folder / source.name
    paths: dict[str, Path] = {}
    for remote in source.files:
        path = folder / remote.name
        if not (path.is_file() and sha256_of(path) == remote.sha256):
            errors = []
            for mirror in source.mirrors:
                try:
                    download(mirror + remote.name, path, remote.sha256, opener=opener)
                    break
                except (urllib.error.URLError, OSError, DownloadError) as error:
                    errors.append(f"  {mirror}{remote.name}: {getattr(error, 'reason', error)}")
            else:
                raise DownloadError(
                    f"could not download {source.name} file {remote.name} from any mirror:\n"
                    + "\n".join(errors)
                    + f"\nIf this machine is offline, copy the four files ({', '.join(f.name for f in source.files)})"
                    f" into {folder} (or point --data-dir at a folder holding {source.name}/), or use "
                    "--dataset digits, which needs no network."
                )
        paths[remote.name] = path
    return paths


# ------------------------------------------------------------------------------------------------ IDX

# IDX type codes (third byte of the magic number) -> big-endian NumPy dtypes.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(data: bytes) -> np.ndarray:
    """Decode an IDX file (the MNIST format): magic ``00 00 <type> <ndim>``, big-endian dims, then data.

    Raises:
        ValueError: bad magic number, unknown type code, or a payload that does not match the header.
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"not an IDX file: magic number {data[:4].hex() or 'missing'} does not start with 0000")
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_DTYPES:
        raise ValueError(f"not an IDX file: unknown type code 0x{type_code:02x}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"truncated IDX file: {len(data)} bytes, header needs {header}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(f"IDX payload is {len(data) - header} bytes, header shape {shape} needs {expected}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: Path | str) -> np.ndarray:
    """Read a (possibly gzipped) IDX file into a NumPy array."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return parse_idx(data)


# ------------------------------------------------------------------------------------------- datasets


def _to_mlx(name: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> Dataset:
    import mlx.core as mx

    def images(x: np.ndarray) -> Any:
        return mx.array(x.reshape(*x.shape[:3], 1).astype(np.float32))

    return Dataset(
        name=name,
        x_train=images(x_train),
        y_train=mx.array(y_train.astype(np.int32)),
        x_test=images(x_test),
        y_test=mx.array(y_test.astype(np.int32)),
        num_classes=int(max(y_train.max(), y_test.max())) + 1,
    )


def load_digits_dataset(test_fraction: float = 0.2, split_seed: int = 0) -> Dataset:
    """scikit-learn's 8x8 digits (1797 images, shipped with scikit-learn): a stratified 80/20 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images / 16.0
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=test_fraction, random_state=split_seed, stratify=digits.target
    )
    return _to_mlx("digits", x_train, y_train, x_test, y_test)


def load_idx_dataset(source: IdxSource, data_dir: Path | str | None = None, *, opener: Opener | None = None) -> Dataset:
    """An MNIST-format dataset from the cache (downloading it first if needed), pixels scaled to [0, 1]."""
    paths = fetch(source, data_dir, opener=opener)
    arrays = [read_idx(paths[f.name]) for f in source.files]
    x_train, y_train, x_test, y_test = arrays
    for images, labels, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"{source.name} {split}: expected images (N, H, W) and N labels, got {images.shape} and {labels.shape}"
            )
    return _to_mlx(source.name, x_train / 255.0, y_train, x_test / 255.0, y_test)


def load_dataset(name: str, data_dir: Path | str | None = None) -> Dataset:
    """``digits`` (offline), ``mnist`` or ``fashion_mnist``."""
    if name == "digits":
        return load_digits_dataset()
    if name in IDX_SOURCES:
        return load_idx_dataset(IDX_SOURCES[name], data_dir)
    raise ValueError(f"unknown dataset {name!r}; valid datasets: {', '.join(DATASETS)}")
