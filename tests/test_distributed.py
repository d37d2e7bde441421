"""Data-parallel training (examples/distributed_train.py): 2 ranks over the ring backend on loopback.

The module's fixtures run the script twice with the same global batch: once alone in this process (no
launcher: ``mx.distributed.init()`` is a group of one), once as 2 ranks started by ``mlx.launch --backend
ring`` on 127.0.0.1. Every rank writes its learning rates, losses and final weights (``--rank-dir``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, cast

import mlx.core as mx
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

import distributed_train
from common import MLP, DataParallel, RunOptions, TrainConfig
from mlx.nn.losses import cross_entropy
from mlx.nn.utils import value_and_grad
from mlx.utils import tree_flatten
from runner import run_training

from mlx_lrsched.base import from_config

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 3
MLP_WEIGHTS = ("layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "head.weight", "head.bias")
FLAGS = ["--epochs", str(EPOCHS), "--batch-size", "64", "--no-progress"]  # 1437 // 64 = 22 updates per epoch
LAUNCH_TIMEOUT_S = 120.0  # the whole module takes ~6 s (2 cores), ~17 s with a cold MLX kernel cache

# Rounding-only tolerance, relative to each tensor's largest magnitude (losses: relative to the loss).
# Measured after 66 SGD updates (Linux, CPU): 2 ranks vs 1 differ by <= 4.9e-7 in the weights (4 float32
# ulps) and 9.1e-7 in the losses. A semantic error is far larger: changing the peak LR by 1e-6 relative
# already moves the weights by 3.2e-6, by 3e-6 moves them 8.3e-6, by 1e-5 moves them 3e-2.
ROUNDING_TOLERANCE = 1e-5


def _launcher() -> list[str] | None:
    """The ``mlx.launch`` console script of this interpreter's environment (or on PATH)."""
    beside = Path(sys.executable).parent / "mlx.launch"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("mlx.launch")
    return [found] if found else None


def _two_free_ports() -> int:
    """A port ``p`` on 127.0.0.1 such that ``p`` and ``p + 1`` are free (the ring gives rank r port p + r)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return int(port)
    raise RuntimeError("no two consecutive free ports on 127.0.0.1")


def _read_rank(folder: Path, rank: int) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((folder / f"rank{rank}.json").read_text())
    weights = cast(dict[str, mx.array], mx.load(str(folder / f"rank{rank}.safetensors")))
    record["params"] = {k: np.array(v) for k, v in weights.items()}
    return record


@pytest.fixture(scope="module")
def one_rank(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The script without a launcher, in this process (it also warms MLX's compiled-kernel cache)."""
    folder = tmp_path_factory.mktemp("one_rank")
    assert distributed_train.main([*FLAGS, "--rank-dir", str(folder)]) == 0
    return _read_rank(folder, 0)


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory: pytest.TempPathFactory, one_rank: dict[str, Any]) -> dict[str, Any]:
    """``mlx.launch -n 2 --backend ring`` on 127.0.0.1: both ranks' outputs, rank 0's run.json and stdout."""
    launcher = _launcher()
    if launcher is None:
        reason = f"mlx.launch not found next to {sys.executable} nor on PATH (it ships with the mlx package)"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must run the distributed test")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("two_ranks")
    # The launcher and its ranks mktemp a pid file and a hostfile per rank and never delete them: give them a
    # TMPDIR that pytest removes, linking its mlx/ (MLX's compiled-kernel cache) to the usual one.
    scratch = folder / "tmp"
    scratch.mkdir()
    kernel_cache = Path(tempfile.gettempdir()) / "mlx"
    kernel_cache.mkdir(exist_ok=True)
    (scratch / "mlx").symlink_to(kernel_cache, target_is_directory=True)
    env = dict(
        os.environ,
        TMPDIR=str(scratch),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    command = [
        *launcher,
        "--hosts", "127.0.0.1",  # loopback only
        "-n", "2",
        "--backend", "ring",
        "--starting-port", str(_two_free_ports()),
        sys.executable, str(ROOT / "examples" / "distributed_train.py"),
        *FLAGS, "--rank-dir", str(folder), "--out", str(folder / "out"),
    ]  # fmt: skip
    stdout_path, stderr_path = folder / "stdout.txt", folder / "stderr.txt"
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        # stdin stays an open pipe: mlx.launch forwards stdin to the ranks and busy-loops on a closed one
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=stdout, stderr=stderr, start_new_session=True
        )
        try:
            returncode = process.wait(timeout=LAUNCH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            returncode = None
        finally:
            with contextlib.suppress(ProcessLookupError):  # the launcher, its shells and the ranks: one group
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            assert process.stdin is not None
            process.stdin.close()
    output = stdout_path.read_text(errors="replace")
    errors = stderr_path.read_text(errors="replace")
    # mlx.launch 0.32 exits with 0 even when a rank fails: the ranks' outputs are the evidence
    missing = [rank for rank in (0, 1) if not (folder / f"rank{rank}.safetensors").is_file()]
    if returncode != 0 or missing:
        what = f"timed out after {LAUNCH_TIMEOUT_S:.0f} s" if returncode is None else f"exited with {returncode}"
        pytest.fail(f"mlx.launch {what}, no output from ranks {missing}\n--- stdout\n{output}\n--- stderr\n{errors}")
    return {
        "ranks": [_read_rank(folder, 0), _read_rank(folder, 1)],
        "run": json.loads((folder / "out" / "run.json").read_text()),
        "stdout": output,
    }


# --------------------------------------------------------------------------------------- two ranks


def test_both_ranks_log_the_identical_learning_rate_of_every_update(two_ranks: dict[str, Any]) -> None:
    rank0, rank1 = two_ranks["ranks"]
    assert len(rank0["lr"]) == EPOCHS * 22
    assert rank0["lr"] == rank1["lr"]  # floats from float32: equality is bitwise


def test_logged_learning_rate_is_the_schedule_at_the_update_index(two_ranks: dict[str, Any]) -> None:
    schedule = from_config(two_ranks["run"]["schedule"])
    expected = np.array(schedule(mx.arange(EPOCHS * 22, dtype=mx.uint64)))  # what the optimizer passes
    np.testing.assert_array_equal(np.asarray(two_ranks["ranks"][1]["lr"], dtype=np.float32), expected)


def test_both_ranks_end_with_bit_identical_parameters(two_ranks: dict[str, Any]) -> None:
    first, second = (rank["params"] for rank in two_ranks["ranks"])
    assert first.keys() == second.keys() == set(MLP_WEIGHTS)
    for key in first:  # the bits: a value comparison would take -0.0 for 0.0
        np.testing.assert_array_equal(first[key].view(np.uint32), second[key].view(np.uint32), err_msg=key)


def test_ranks_log_the_same_averaged_loss_and_it_decreases(two_ranks: dict[str, Any]) -> None:
    rank0, rank1 = two_ranks["ranks"]
    assert rank0["loss"] == rank1["loss"]  # the loss is averaged across ranks with the gradients
    first_epoch, last_epoch = rank0["epochs"][0]["train_loss"], rank0["epochs"][-1]["train_loss"]
    assert rank0["loss"][0] > 2.0  # ln(10) = 2.30 for 10 classes at initialisation
    assert last_epoch < 0.5 * first_epoch
    assert rank0["epochs"][-1]["test_accuracy"] > 0.85


def test_rank_zero_alone_logs_and_writes_the_run_record(two_ranks: dict[str, Any]) -> None:
    lines = two_ranks["stdout"].splitlines()
    assert sum(line.startswith("Epoch ") for line in lines) == EPOCHS  # not once per rank
    assert sum(line.startswith("data parallel: 2 ranks x 32 examples = 64") for line in lines) == 1
    record = two_ranks["run"]
    assert record["data_parallel"] == {"ranks": 2, "batch_per_rank": 32}
    assert record["lr"] == two_ranks["ranks"][0]["lr"]


def test_two_ranks_match_one_rank_with_the_same_global_batch(
    two_ranks: dict[str, Any], one_rank: dict[str, Any]
) -> None:
    rank0 = two_ranks["ranks"][0]
    assert rank0["lr"] == one_rank["lr"]  # the schedule counts the same optimizer updates
    np.testing.assert_allclose(rank0["loss"], one_rank["loss"], rtol=ROUNDING_TOLERANCE)
    for key, alone in one_rank["params"].items():
        scale = float(np.abs(alone).max())
        np.testing.assert_allclose(rank0["params"][key], alone, rtol=0, atol=ROUNDING_TOLERANCE * scale, err_msg=key)


# --------------------------------------------------------------------------------------- in-process


def test_without_a_launcher_the_script_is_train_py(one_rank: dict[str, Any]) -> None:
    record = run_training(TrainConfig(epochs=EPOCHS, batch_size=64), RunOptions(echo=lambda line: None, progress=False))
    assert one_rank["lr"] == record["lr"]
    assert one_rank["loss"] == record["loss"]  # bitwise: a group of one changes nothing


class _FakeGroup:
    """A group of 2 for ``nn.average_gradients`` without a second process."""

    def size(self) -> int:
        return 2

    def rank(self) -> int:
        return 0


@pytest.fixture
def loss_and_grads() -> tuple[mx.array, Any]:
    mx.random.seed(0)
    model = MLP(64, 128, 10)
    x, y = mx.random.normal((8, 8, 8, 1)), mx.arange(8)
    loss, grads = value_and_grad(model, lambda m: cross_entropy(m(x), y, reduction="mean"))(model)
    return loss, grads


# Flattened, in order: loss 4 B, layers.0.weight 32,768 B, layers.0.bias 512, layers.1.weight 65,536,
# layers.1.bias 512, head.weight 5,120, head.bias 40. A buffer is sent once it reaches the threshold.
@pytest.mark.parametrize(
    ("bucket_bytes", "expected_calls"),
    [
        (distributed_train.BUCKET_BYTES, 1),  # everything (104 kB) in one buffer
        (40_000, 2),  # [loss .. layers.1.weight] = 98,820 B, then the 5,672 B left
        # [loss, layers.0.weight], [layers.0.bias, layers.1.weight], [layers.1.bias, head.weight], [head.bias]
        (4_000, 4),
    ],
)
def test_loss_and_gradients_are_averaged_in_few_all_sum_calls(
    monkeypatch: pytest.MonkeyPatch, loss_and_grads: tuple[mx.array, Any], bucket_bytes: int, expected_calls: int
) -> None:
    calls: list[tuple[int, ...]] = []

    def all_sum(x: mx.array, **kwargs: Any) -> mx.array:
        calls.append(tuple(x.shape))
        return x + (x + 1.0)  # the other rank holds our values plus one

    monkeypatch.setattr(mx.distributed, "all_sum", all_sum)
    loss, grads = loss_and_grads
    mean_loss, mean_grads = distributed_train.all_mean(_FakeGroup(), bucket_bytes)((loss, grads))  # type: ignore[arg-type]
    assert len(calls) == expected_calls
    assert sum(shape[0] for shape in calls) == 1 + 26122  # every element sent once: the loss and 26,122 weights
    assert mean_loss.item() == pytest.approx(loss.item() + 0.5, rel=1e-6)
    ours, averaged = dict(tree_flatten(grads)), dict(tree_flatten(mean_grads))
    assert averaged.keys() == ours.keys()
    for key, value in averaged.items():  # each slice went back to its own tensor, in its own shape
        np.testing.assert_allclose(np.array(value), np.array(ours[key]) + 0.5, rtol=1e-6, atol=1e-7, err_msg=key)


def test_each_rank_takes_its_contiguous_slice_of_every_micro_batch() -> None:
    indices = mx.arange(100, 112)  # accum 2 micro-batches of a global batch of 6, over 2 ranks
    assert DataParallel(0, 2).shard(indices, accum=2).tolist() == [100, 101, 102, 106, 107, 108]
    assert DataParallel(1, 2).shard(indices, accum=2).tolist() == [103, 104, 105, 109, 110, 111]
    assert DataParallel().shard(indices, accum=2).tolist() == list(range(100, 112))


def test_dropout_seed_is_the_run_seed_alone_and_differs_between_ranks() -> None:
    seed = (7 << 32) | 123
    assert DataParallel().rank_seed(seed) == seed  # single-process runs draw exactly what train.py draws
    per_rank = [DataParallel(rank, 4).rank_seed(seed) for rank in range(4)]
    assert len(set(per_rank)) == 4
    assert per_rank == [DataParallel(rank, 4).rank_seed(seed) for rank in range(4)]  # a pure function


@pytest.mark.parametrize(("batch_size", "ranks", "per_rank"), [(64, 1, 64), (64, 2, 32), (96, 3, 32)])
def test_global_batch_is_split_evenly(batch_size: int, ranks: int, per_rank: int) -> None:
    assert distributed_train.batch_per_rank(batch_size, ranks) == per_rank


def test_global_batch_that_does_not_split_evenly_is_refused() -> None:
    with pytest.raises(ValueError, match=r"--batch-size 63 is the global batch and must be a multiple of the 2 ranks"):
        distributed_train.batch_per_rank(63, 2)
