"""The training examples: real accuracy on digits, the logged learning rates, exact resume, the CLI."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

import compare
import train
from common import MLP, RunOptions, TrainConfig, make_train_step
from runner import run_training

from mlx_lrsched.base import from_config

LR = 0.2  # the SGD default peak
QUIET = RunOptions(echo=lambda line: None, progress=False)


def _pytorch_one_cycle(t: np.ndarray, total: int, max_lr: float) -> np.ndarray:
    """PyTorch ``OneCycleLR`` defaults written out: cos warm-up over 30% from max/25, cos anneal to that/1e4."""
    initial, final = max_lr / 25.0, max_lr / 25.0 / 1e4
    warm_end = 0.3 * total - 1

    def cos_anneal(start: float, end: float, fraction: np.ndarray) -> np.ndarray:
        return end + (start - end) / 2.0 * (np.cos(math.pi * fraction) + 1.0)

    warming = cos_anneal(initial, max_lr, t / warm_end)
    annealing = cos_anneal(max_lr, final, (t - warm_end) / (total - 1 - warm_end))
    return np.where(t <= warm_end, warming, annealing)


# The seed formulas with the examples' constants: exponential ends at 1% of lr after T updates;
# cyclic exponential decays its envelope to 10% under a raised cosine of period round(T / 4.5).
ORACLES = {
    "exponential": lambda t, T: LR * np.exp(-math.log(100.0) / T * t),
    "cyclic_exponential": lambda t, T: (
        LR
        * np.exp(-math.log(10.0) / T * t)
        * 0.5
        * (1.0 + np.cos(2.0 * math.pi * (t % round(T / 4.5)) / round(T / 4.5)))
    ),
    "one_cycle": lambda t, T: _pytorch_one_cycle(t, T, LR),
}


@pytest.fixture(scope="module", params=sorted(ORACLES))
def short_run(request: pytest.FixtureRequest) -> dict:
    return run_training(TrainConfig(schedule=request.param, epochs=6), QUIET)


def test_short_run_reaches_high_test_accuracy_on_digits(short_run: dict) -> None:
    assert short_run["completed"]
    assert short_run["final_accuracy"] >= 0.90, short_run["schedule_repr"]


def test_logged_lr_of_every_update_is_the_seed_formula(short_run: dict) -> None:
    total = short_run["total_steps"]
    logged = np.asarray(short_run["lr"])
    assert logged.shape == (total,) == (6 * 22,)  # 1437 // 64 = 22 updates per epoch
    oracle = ORACLES[short_run["config"]["schedule"]](np.arange(total, dtype=np.float64), total)
    mask = oracle >= 1e-6 * LR
    np.testing.assert_allclose(logged[mask], oracle[mask], rtol=4e-6)
    np.testing.assert_allclose(logged[~mask], oracle[~mask], atol=1e-6 * LR)


def test_logged_lr_is_bitwise_the_schedule_at_the_update_index(short_run: dict) -> None:
    schedule = from_config(short_run["schedule"])
    steps = mx.arange(short_run["total_steps"], dtype=mx.uint64)  # what the optimizer passes
    expected = np.array(schedule(steps))
    np.testing.assert_array_equal(np.asarray(short_run["lr"], dtype=np.float32), expected)


def test_epoch_metrics_summarise_the_logged_updates(short_run: dict) -> None:
    per_epoch = short_run["steps_per_epoch"]
    for index, epoch in enumerate(short_run["epochs"]):
        window = slice(index * per_epoch, (index + 1) * per_epoch)
        assert epoch["lr_first"] == short_run["lr"][window][0]
        assert epoch["train_loss"] == pytest.approx(np.mean(short_run["loss"][window]), rel=1e-12)


def _weights(path: Path) -> dict[str, np.ndarray]:
    return {k: np.array(v) for k, v in mx.load(str(path)).items()}


@pytest.mark.parametrize("stop_after", [22, 30], ids=["at-epoch-end", "mid-epoch"])
def test_resumed_run_is_bitwise_the_uninterrupted_run(tmp_path: Path, stop_after: int) -> None:
    # dropout makes the run depend on the random stream as well as on the data order
    config = TrainConfig(schedule="one_cycle", epochs=3, dropout=0.2)
    whole = run_training(config, RunOptions(out=str(tmp_path / "whole"), echo=QUIET.echo, progress=False))
    interrupted = RunOptions(
        out=str(tmp_path / "split"), checkpoint_every=10, stop_after_steps=stop_after, echo=QUIET.echo, progress=False
    )
    first = run_training(config, interrupted)
    assert not first["completed"] and first["steps_done"] == stop_after
    resumed = run_training(
        config, RunOptions(out=str(tmp_path / "split"), resume=True, echo=QUIET.echo, progress=False)
    )
    assert resumed["completed"]
    assert resumed["lr"] == whole["lr"]  # floats from float32: equality is bitwise
    assert resumed["loss"] == whole["loss"]
    assert [e["test_accuracy"] for e in resumed["epochs"]] == [e["test_accuracy"] for e in whole["epochs"]]
    a, b = _weights(tmp_path / "whole" / "model.safetensors"), _weights(tmp_path / "split" / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_resume_refuses_a_checkpoint_of_different_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    options = RunOptions(out=str(tmp_path), stop_after_steps=5, echo=QUIET.echo, progress=False)
    run_training(TrainConfig(epochs=1), options)
    assert train.main(["--epochs", "2", "--resume", "--out", str(tmp_path), "--no-progress"]) == 2
    assert "epochs: checkpoint 1, now 2" in capsys.readouterr().err


def test_gradient_accumulation_equals_one_large_batch() -> None:
    import mlx.optimizers as optim

    x = mx.random.normal((8, 4, 4, 1), key=mx.random.key(1))
    y = mx.array([0, 1, 2, 0, 1, 2, 0, 1])
    results = []
    for batch_size, accum in ((8, 1), (4, 2), (2, 4)):
        mx.random.seed(0)  # the same initial weights for every split
        model = MLP(16, 8, 3)
        optimizer = optim.SGD(learning_rate=0.5)
        loss, _ = make_train_step(model, optimizer, batch_size, accum)(x, y, mx.arange(8))
        assert optimizer.step.item() == 1  # one update, whatever the number of micro-batches
        results.append((loss.item(), np.array(model.layers[0].weight)))
    for loss, weight in results[1:]:
        assert loss == pytest.approx(results[0][0], rel=1e-6)
        np.testing.assert_allclose(weight, results[0][1], rtol=1e-5, atol=1e-7)


def test_accum_makes_the_schedule_count_updates_not_micro_batches() -> None:
    record = run_training(TrainConfig(schedule="exponential", epochs=2, accum=2), QUIET)
    assert record["steps_per_epoch"] == 1437 // (64 * 2)
    assert len(record["lr"]) == record["total_steps"] == 2 * 11
    assert record["lr"][-1] == pytest.approx(LR * math.exp(-math.log(100.0) / 22 * 21), rel=4e-6)


def test_default_command_prints_seed_001_epoch_lines_and_writes_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert train.main(["--epochs", "2", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    # one_cycle starts at max_lr / div_factor = 0.2 / 25; no progress bar when stderr is not a terminal
    assert "Epoch 01/02: learning rate = 8.000e-03" in captured.out
    assert "Epoch 02/02: learning rate = " in captured.out
    assert captured.err == ""
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["config"]["schedule"] == "one_cycle" and record["schedule"]["name"] == "OneCycle"
    assert len(record["epochs"]) == 2 and len(record["lr"]) == record["total_steps"] == 44
    assert (tmp_path / "run.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporaries


def test_compare_writes_a_table_and_one_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert compare.main(["--epochs", "2", "--out", str(tmp_path), "--no-progress"]) == 0
    table = (tmp_path / "compare.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and "schedule" not in line]
    assert [row.split("|")[1].strip() for row in rows] == list(compare.DEFAULT_SCHEDULES)
    for row in rows:
        final, best = float(row.split("|")[2]), float(row.split("|")[3].split()[0])
        assert 0.0 < final <= best <= 1.0
    figure = (tmp_path / "compare.png").read_bytes()
    assert figure[:8] == b"\x89PNG\r\n\x1a\n" and len(figure) > 10_000
    image = __import__("matplotlib.image", fromlist=["imread"]).imread(tmp_path / "compare.png")
    assert image.shape[0] > 200 and image.shape[1] > 800


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--schedule", "warp"], "invalid choice: 'warp'"),
        (["--epochs", "-3"], "--epochs: must be an integer >= 1, got -3"),
        (["--epochs", "0"], "--epochs: must be an integer >= 1, got 0"),
        (["--batch-size", "ten"], "--batch-size: must be an integer, got 'ten'"),
        (["--lr", "0"], "--lr: must be a number > 0, got 0"),
        (["--dropout", "1"], "--dropout: must be a number >= 0 and < 1, got 1"),
        (["--checkpoint-every", "10"], "need --checkpoint PATH or --out DIR"),
        (["--resume", "--checkpoint", "/nonexistent/ckpt.safetensors"], "--resume: no checkpoint at"),
    ],
)
def test_invalid_flags_are_refused_before_training(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        train.main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Epoch" not in captured.out


def test_unknown_schedule_error_lists_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        train.main(["--schedule", "warp"])
    err = capsys.readouterr().err
    for name in ("one_cycle", "exponential", "cyclic_exponential", "constant", "cosine_restarts"):
        assert name in err


def test_compare_rejects_an_unknown_schedule_listing_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        compare.main(["--schedules", "constant,warp"])
    assert "unknown schedule 'warp'; valid schedules: one_cycle, exponential" in capsys.readouterr().err


def test_batch_larger_than_the_dataset_is_refused_before_training(capsys: pytest.CaptureFixture[str]) -> None:
    assert train.main(["--batch-size", "1000", "--accum", "2"]) == 2
    captured = capsys.readouterr()
    assert "2000 examples per update, more than the 1437 training examples" in captured.err
    assert "Epoch" not in captured.out


@pytest.mark.skipif(mx.is_available(mx.gpu), reason="this MLX build has a GPU")
def test_gpu_request_without_a_gpu_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        train.main(["--device", "gpu"])
    assert "no GPU backend" in capsys.readouterr().err


@pytest.mark.parametrize("name", list(__import__("schedules").SCHEDULES))
@pytest.mark.parametrize(("total", "per_epoch"), [(440, 22), (3, 1), (1, 1)])
def test_every_registered_schedule_builds_a_bounded_schedule_for_any_budget(
    name: str, total: int, per_epoch: int
) -> None:
    from schedules import build_schedule

    schedule = build_schedule(name, LR, total, per_epoch)
    values = schedule.curve(total)
    assert np.all(np.isfinite(values)) and values.min() >= 0.0 and values.max() <= LR * (1 + 1e-12)
    assert schedule.peak <= LR * (1 + 1e-12)


def test_unknown_name_in_the_registry_lists_valid_names() -> None:
    from schedules import build_schedule

    with pytest.raises(ValueError, match="unknown schedule 'warp'; valid schedules: one_cycle, exponential, "):
        build_schedule("warp", LR, 10, 1)


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_one_cycle_runs_cycle_momentum_inverse_to_the_rate(optimizer):
    # PyTorch OneCycleLR(cycle_momentum=True) defaults, written out: momentum (AdamW beta1) mirrors the cos
    # schedule, 0.95 at the start, 0.85 at the peak step 0.3 * T - 1, back to 0.95 at the last step.
    from common import build_optimizer

    from mlx_lrsched import OneCycle

    total = 50
    optimizer_ = build_optimizer(TrainConfig(optimizer=optimizer), OneCycle(LR, total))
    key = "momentum" if optimizer == "sgd" else "beta1"
    warm_end = 0.3 * total - 1
    params = {"w": mx.zeros((2,))}
    for t in range(total):
        params = optimizer_.apply_gradients({"w": mx.ones((2,))}, params)
        if t <= warm_end:
            expected = 0.85 + (0.95 - 0.85) / 2.0 * (math.cos(math.pi * t / warm_end) + 1.0)
        else:
            fraction = (t - warm_end) / (total - 1 - warm_end)
            expected = 0.95 + (0.85 - 0.95) / 2.0 * (math.cos(math.pi * fraction) + 1.0)
        assert optimizer_.state[key].item() == pytest.approx(expected, rel=1e-6)


def test_cycle_momentum_can_be_turned_off():
    from common import build_optimizer

    from mlx_lrsched import OneCycle

    optimizer = build_optimizer(TrainConfig(cycle_momentum=False), OneCycle(LR, 50))
    assert "momentum" not in optimizer.state and optimizer.momentum == 0.9
