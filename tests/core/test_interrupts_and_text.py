"""Ctrl-C and SIGTERM during ``gradviz train`` keep the steps done; small text-file hazards."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradviz.io.runfile import load_run
from gradviz.tasks.textdata import TextDataError, load_text_dataset, tokenize


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_train_saves_the_run_so_far_and_exits_130(sent: int, tmp_path: Path) -> None:
    out = tmp_path / "run.npz"
    child = subprocess.Popen(
        [sys.executable, "-m", "gradviz", "train", "--steps", "1000000", "--hidden", "8", "--seq-len", "10",
         "--batch", "8", "--record-every", "2", "--device", "cpu", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = child.stderr.readline()  # the progress line of the first step: training has begun
        assert first.startswith("[") and " 1/1000000 " in first, first
        child.send_signal(sent)
        stdout, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 130, stderr
    name = signal.Signals(sent).name
    assert f"interrupted by {name} after" in stderr and "the run so far was saved" in stderr
    assert "Traceback" not in stderr
    saved = load_run(out)
    done = int(saved.arrays["state/step"])
    assert done >= 1 and f"wrote {out} ({done} steps done)" in stdout
    assert saved.arrays["train_step"][-1] == done - 1  # every step done is in the file
    assert not list(tmp_path.glob(".*.part"))


def test_tokens_unescape_html_and_keep_apostrophes_inside_words() -> None:
    assert tokenize("Tom &amp; Jerry&#39;s &quot;best&quot;") == ["tom", "&", "jerry's", '"', "best", '"']
    assert tokenize("I don’t know, don't ask") == ["i", "don't", "know", ",", "don't", "ask"]
    assert tokenize("&lt;br /&gt;a<br />b<i>c</i>") == ["a", "b", "c"]
    assert tokenize("'quoted' rock'n'roll") == ["'", "quoted", "'", "rock'n'roll"]


def write(path: Path, text: str, newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode())
    return path


ROWS = "".join(f"review number {i} is {'good' if i % 2 else 'bad'},{'positive' if i % 2 else 'negative'}\n"
               for i in range(20))


def test_an_unclosed_quote_is_named_not_merged(tmp_path: Path) -> None:
    closed_later = write(tmp_path / "a.csv", 'review,sentiment\ngood one,positive\n"an open quote,positive\n'
                         + ROWS + 'and "a close,negative\n')
    with pytest.raises(TextDataError, match="a quote opened on line 3 is not closed until line 24"):
        load_text_dataset(closed_later)
    never_closed = write(tmp_path / "b.csv", "review,sentiment\n" + ROWS + '"never closed,positive\nx,negative\n')
    with pytest.raises(TextDataError, match="a quote opened on line 22 is not closed"):
        load_text_dataset(never_closed)
    # A quoted review that really spans two lines is fine.
    multiline = write(tmp_path / "c.csv", 'review,sentiment\n"two\nlines, one review",positive\n' + ROWS)
    dataset = load_text_dataset(multiline, test_fraction=0.25)
    assert dataset.rows == 21


def test_line_endings(tmp_path: Path) -> None:
    with pytest.raises(TextDataError, match="old Mac line endings \\(CR only\\)"):
        load_text_dataset(write(tmp_path / "cr.csv", "review,sentiment\n" + ROWS, "\r"))
    crlf = load_text_dataset(write(tmp_path / "crlf.csv", "review,sentiment\n" + ROWS, "\r\n"))
    lf = load_text_dataset(write(tmp_path / "lf.csv", "review,sentiment\n" + ROWS))
    np.testing.assert_array_equal(crlf.train_ids, lf.train_ids)
