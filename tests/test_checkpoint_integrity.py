"""Example checkpoints: damaged files are refused in one line and left untouched; stale temp files go away."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import mlx.core as mx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

import data
from common import CHECKSUM_KEY, CheckpointError, Run, RunOptions, TrainConfig, checkpoint_checksum
from runner import run_training
from schedules import build_schedule

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CONFIG = TrainConfig(epochs=1)
TIMEOUT_S = 120


def _quiet(**kwargs: object) -> RunOptions:
    return RunOptions(echo=lambda line: None, progress=False, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("good")
    run_training(CONFIG, _quiet(out=str(out), stop_after_steps=5))
    return (out / "checkpoint.safetensors").read_bytes()


def _header_length(raw: bytes) -> int:
    return 8 + struct.unpack("<Q", raw[:8])[0]


def _train(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "train.py"), "--epochs", "1", "--no-progress", "--device", "cpu", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def _flip_a_weight_byte(raw: bytes) -> bytes:
    start = _header_length(raw)
    damaged = bytearray(raw)
    damaged[start + (len(raw) - start) // 2] ^= 0x01  # one bit of one float in the middle of the tensors
    return bytes(damaged)


DAMAGES = {
    "empty": lambda raw: b"",
    "truncated": lambda raw: raw[: len(raw) // 2],
    "truncated header": lambda raw: raw[:300],
    "flipped byte": _flip_a_weight_byte,
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_resume_refuses_a_damaged_checkpoint_in_one_line_and_leaves_it_untouched(
    tmp_path: Path, good_checkpoint: bytes, damage: str
) -> None:
    damaged = DAMAGES[damage](good_checkpoint)
    path = tmp_path / "checkpoint.safetensors"
    path.write_bytes(damaged)
    before = os.stat(path).st_mtime_ns
    result = _train("--resume", "--out", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: cannot resume {path}: ")
    assert ("checksum mismatch" in lines[0]) == (damage == "flipped byte")
    assert "left untouched" in lines[0]
    assert path.read_bytes() == damaged and os.stat(path).st_mtime_ns == before
    assert not (tmp_path / "run.json").exists()  # nothing trained, nothing written


def test_the_checksum_covers_every_tensor_and_the_metadata(good_checkpoint: bytes, tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.safetensors"
    path.write_bytes(good_checkpoint)
    arrays, metadata = mx.load(str(path), return_metadata=True)
    assert any(k.startswith("model.") for k in arrays) and "optimizer.step" in arrays
    assert metadata[CHECKSUM_KEY] == checkpoint_checksum(arrays, metadata)
    assert len(metadata[CHECKSUM_KEY]) == 64
    for name in arrays:  # a change to any tensor, or to any metadata entry, changes the checksum
        changed = dict(arrays)
        changed[name] = arrays[name] + 1 if arrays[name].dtype != mx.bool_ else ~arrays[name]
        assert checkpoint_checksum(changed, metadata) != metadata[CHECKSUM_KEY], name
    reshaped = dict(arrays)
    name = next(k for k, v in arrays.items() if v.ndim == 2)
    reshaped[name] = arrays[name].T.reshape(arrays[name].shape[::-1])  # same bytes count, other shape
    assert checkpoint_checksum(reshaped, metadata) != metadata[CHECKSUM_KEY]
    for key in metadata:
        if key != CHECKSUM_KEY:
            assert checkpoint_checksum(arrays, metadata | {key: metadata[key] + " "}) != metadata[CHECKSUM_KEY]


def test_checksum_mismatch_is_refused_in_process_too(good_checkpoint: bytes, tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.safetensors"
    path.write_bytes(_flip_a_weight_byte(good_checkpoint))
    run = Run.create(CONFIG, data.load_dataset("digits"), build_schedule)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        run.load(path)
    assert run.step == 0


def test_a_checkpoint_without_a_checksum_still_resumes_with_a_note(good_checkpoint: bytes, tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.safetensors"
    path.write_bytes(good_checkpoint)
    arrays, metadata = mx.load(str(path), return_metadata=True)
    del metadata[CHECKSUM_KEY]  # what the examples wrote before checksums
    mx.save_safetensors(str(path), arrays, metadata=metadata)
    lines: list[str] = []
    record = run_training(CONFIG, RunOptions(out=str(tmp_path), resume=True, echo=lines.append, progress=False))
    assert record["completed"]
    notes = [line for line in lines if line.startswith("note:")]
    assert notes == [f"note: {path} has no checksum (written before checksums were added); loading it unverified"]


# ------------------------------------------------------------------------------ stale temporary files


def _killed_writer(folder: Path, name: str) -> None:
    """A process killed (SIGKILL) inside ``atomic_write``: its temp file stays behind, its pid is dead."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(EXAMPLES)!r})
        from data import atomic_write
        with atomic_write({str(folder / name)!r}) as handle:
            handle.write(b"partial")
            handle.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    child = subprocess.run([sys.executable, "-c", script], timeout=TIMEOUT_S, check=False)
    assert child.returncode == -signal.SIGKILL


def test_a_killed_writer_leaves_a_temp_file_of_its_own_pattern(tmp_path: Path) -> None:
    before = set(tmp_path.iterdir())
    _killed_writer(tmp_path, "run.png")
    left = set(tmp_path.iterdir()) - before
    assert len(left) == 1
    (temp,) = left
    assert data._temp_pattern("run.png").fullmatch(temp.name)
    assert not (tmp_path / "run.png").exists()


def test_a_run_removes_the_stale_temp_files_of_its_own_directory(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    for name in ("checkpoint.safetensors", "run.png", "run.json", "model.safetensors"):
        _killed_writer(out, name)  # real leftovers of killed writers (their pids are dead)
    old_format = out / ".run.png.abcd1234.tmp"  # written before the pid was in the name, by an earlier process
    old_format.write_bytes(b"x")
    os.utime(old_format, (time.time() - 3600, time.time() - 3600))
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = out / f".checkpoint.safetensors.{sleeper.pid}.live0000.tmp"  # a live writer's file: kept
        live.write_bytes(b"x")
        os.utime(live, (time.time() - 3600, time.time() - 3600))
        keep = [
            live,
            out / ".checkpoint.safetensors.notes.tmp",  # not the writer's pattern
            out / "scratch.tmp",
            out / ".other.file.99999999.abcdefgh.tmp",  # not one of this run's files
        ]
        for path in keep[1:]:
            path.write_bytes(b"x")
            os.utime(path, (time.time() - 3600, time.time() - 3600))
        elsewhere = tmp_path / ".run.png.abcd1234.tmp"  # another directory: not this run's
        elsewhere.write_bytes(b"x")
        os.utime(elsewhere, (time.time() - 3600, time.time() - 3600))
        result = _train("--stop-after-steps", "2", "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert "removed 5 stale temporary file(s)" in result.stdout
        left = sorted(p.name for p in out.iterdir() if p.name.endswith(".tmp"))
        assert left == sorted(p.name for p in keep)
        assert elsewhere.exists()
        assert json.loads((out / "run.json").read_text())["steps_done"] == 2
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_cleaner_keeps_this_process_s_own_fresh_temp_files(tmp_path: Path) -> None:
    own = tmp_path / f".checkpoint.safetensors.{os.getpid()}.abcdefgh.tmp"  # an atomic_write in progress here
    own.write_bytes(b"x")
    stale_own_pid = tmp_path / f".checkpoint.safetensors.{os.getpid()}.zzzzzzzz.tmp"  # same pid, older: a reused pid
    stale_own_pid.write_bytes(b"x")
    os.utime(stale_own_pid, (data._PROCESS_START - 10, data._PROCESS_START - 10))
    removed = data.remove_stale_temp_files(tmp_path, ["checkpoint.safetensors"])
    assert removed == [stale_own_pid]
    assert own.exists()
