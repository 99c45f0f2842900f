"""Text mode: reading a user's review file, tokens and vocabulary, the two word tasks, the
embedding, evaluation metrics against hand-computed values, and the command line.

Every file is written by the test itself; one is in the IMDB CSV format (columns ``review``
and ``sentiment``, quoted commas, quotes, newlines and ``<br />`` inside reviews).
"""

from __future__ import annotations

import copy
import csv
import math
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from gradviz.config import ConfigError, ModelConfig, ModelSetup, RunConfig, TaskConfig, with_overrides
from gradviz.engine import Run
from gradviz.engine.evaluate import classification_report, evaluate_model
from gradviz.engine.words import word_gradients
from gradviz.models import build_model
from gradviz.tasks import SyntheticReviewsTask, TextFileTask, make_task, task_from_config
from gradviz.tasks.text import NEGATIVE_WORDS, POSITIVE_WORDS
from gradviz.tasks.textdata import (
    MAX_FIELD_BYTES,
    PAD,
    UNK,
    TextDataError,
    Vocabulary,
    load_text_dataset,
    pad_left,
    tokenize,
)
from tests.devices import assert_close

IMDB_ROWS = [
    ('One of the best films, "truly". <br /><br />I loved it!', "positive"),
    ("Awful.<br />Just awful; the plot,\nthe acting, all of it.", "negative"),
    ("A great, great cast and a great story.", "positive"),
    ("Boring and slow, I left after an hour.", "negative"),
    ("Great fun <b>for</b> the whole family.", "positive"),
    ("The worst film I've seen this year.", "negative"),
    ("Wonderful music and a great ending.", "positive"),
    ("Dull, dull, dull.", "negative"),
    ("Great acting, great script.", "positive"),
    ("Terrible dialogue and a silly ending.", "negative"),
]


def write_csv(path: Path, rows, header=("review", "sentiment"), delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def imdb_file(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "reviews.csv", IMDB_ROWS)


# ---- tokens, vocabulary, padding ----------------------------------------------------------


def test_tokenizer_lowers_splits_punctuation_and_drops_html() -> None:
    assert tokenize("A <br /><br />GREAT film, isn't it?") == ["a", "great", "film", ",", "isn't", "it", "?"]
    assert tokenize("Fun <b>for</b> all.<br/>") == ["fun", "for", "all", "."]
    assert tokenize("1 < 2 and 3 > 2") == ["1", "<", "2", "and", "3", ">", "2"]  # not a tag
    assert tokenize("") == []


def test_vocabulary_cap_keeps_the_most_frequent_and_maps_the_rest_to_unk() -> None:
    counts = {"the": 5, "film": 3, "great": 3, "awful": 1}
    vocab = Vocabulary.from_counts(counts, size=4)
    # <pad>, <unk>, then by frequency, ties alphabetically: "film" before "great".
    assert vocab.tokens == ("<pad>", "<unk>", "the", "film")
    assert vocab.encode(["the", "great", "film", "never-seen"]) == [2, UNK, 3, UNK]
    assert vocab.decode([2, 3, 0, 1]) == ["the", "film", "<pad>", "<unk>"]
    with pytest.raises(ValueError, match="at least 3"):
        Vocabulary.from_counts(counts, size=2)


def test_pad_left_keeps_the_last_words() -> None:
    out = pad_left([np.array([5, 6]), np.array([1, 2, 3, 4, 5]), np.array([], dtype=np.int64)], 3)
    assert out.tolist() == [[PAD, 5, 6], [3, 4, 5], [PAD, PAD, PAD]]


# ---- reading a file -----------------------------------------------------------------------


def test_imdb_format_file_loads_with_quotes_newlines_and_html(imdb_file: Path) -> None:
    seen = []
    data = load_text_dataset(imdb_file, max_len=12, vocab_size=1000, test_fraction=0.2, seed=3,
                             progress=lambda done, total: seen.append((done, total)))
    size = imdb_file.stat().st_size
    assert seen[-1] == (size, size) and all(a <= b for (a, _), (b, _) in zip(seen, seen[1:], strict=False))
    assert data.classes == ("negative", "positive")
    assert data.rows == 10 and len(data.train_ids) == 8 and len(data.test_ids) == 2
    assert data.train_ids.shape == (8, 12) and data.train_ids.dtype == np.int64
    # Every review can be read back: its last max_len tokens, left-padded, labels aligned.
    # (Words only the test split has are <unk>; the training split's are all in the vocabulary.)
    expected = {tuple(data.vocab.encode(tokenize(text)[-12:])): label for text, label in IMDB_ROWS}
    for ids, label in zip(np.concatenate([data.train_ids, data.test_ids]),
                          np.concatenate([data.train_labels, data.test_labels]), strict=True):
        assert data.classes[label] == expected[tuple(ids[ids != PAD].tolist())]
    assert not np.any(data.train_ids == UNK)
    assert "br" not in data.vocab.index and "<" not in data.vocab.index
    assert data.truncated == 2  # two reviews have more than 12 tokens


def test_split_is_seeded_and_vocabulary_comes_from_train_only(imdb_file: Path) -> None:
    a = load_text_dataset(imdb_file, max_len=20, test_fraction=0.3, seed=1)
    b = load_text_dataset(imdb_file, max_len=20, test_fraction=0.3, seed=1)
    c = load_text_dataset(imdb_file, max_len=20, test_fraction=0.3, seed=2)
    assert np.array_equal(a.test_ids, b.test_ids) and a.vocab == b.vocab
    assert not np.array_equal(a.test_labels, c.test_labels) or not np.array_equal(a.test_ids, c.test_ids)
    train_words = {w for row in a.train_ids for w in a.vocab.decode(row[row != PAD])}
    assert set(a.vocab.tokens[2:]) == train_words  # nothing from the test split
    test_words = {w for text, _ in IMDB_ROWS for w in tokenize(text)} - set(a.vocab.tokens)
    assert test_words, "the test split should hold a word the training split lacks"
    assert np.any(a.test_ids == UNK)


def test_truncation_and_the_padding_mask(tmp_path: Path) -> None:
    rows = [("one two three four five six", "a"), ("one two", "b"), ("three", "a"), ("four five", "b")]
    data = load_text_dataset(write_csv(tmp_path / "r.csv", rows), max_len=4, test_fraction=0.25, seed=0)
    task = TextFileTask(data)
    everything = np.concatenate([data.train_ids, data.test_ids])
    decoded = [data.vocab.decode(r[r != PAD]) for r in everything]
    assert ["three", "four", "five", "six"] in decoded  # the long review keeps its end
    assert data.truncated == 1
    x, _ = task.generate(16, torch.Generator().manual_seed(0))
    mask = task.mask(x)
    assert torch.equal(mask, x != PAD)
    assert bool(mask[-1].all()), "the last step, where the readout looks, is always a real word"
    # Left padding: once a review has started, it has no gaps.
    assert bool((mask.int().diff(dim=0) >= 0).all())


def test_tsv_by_extension_and_sniffed_delimiter(tmp_path: Path) -> None:
    rows = [("good, very good", "pos"), ("bad; very bad", "neg")] * 3
    tsv = write_csv(tmp_path / "r.tsv", rows, header=("text", "label"), delimiter="\t")
    data = load_text_dataset(tsv, text_column="text", label_column="label", test_fraction=0.5)
    assert data.classes == ("neg", "pos") and data.rows == 6
    other = write_csv(tmp_path / "r.txt", rows, header=("label_x", "text"), delimiter="\t")
    assert load_text_dataset(other, text_column="text", label_column="label_x").rows == 6


def test_three_classes_sorted(tmp_path: Path) -> None:
    rows = [("good", "positive"), ("bad", "negative"), ("fine", "neutral")] * 4
    data = load_text_dataset(write_csv(tmp_path / "r.csv", rows), test_fraction=0.25)
    assert data.classes == ("negative", "neutral", "positive")
    assert TextFileTask(data).output_size == 3


# ---- every bad file names its problem -----------------------------------------------------


def bad_files(tmp_path: Path) -> dict[str, tuple[Path, str, dict]]:
    cases: dict[str, tuple[Path, str, dict]] = {}
    cases["missing"] = (tmp_path / "nope.csv", r"nope\.csv does not exist", {})
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    cases["empty"] = (empty, r"empty\.csv is empty", {})
    header_only = write_csv(tmp_path / "header.csv", [])
    cases["no rows"] = (header_only, "has no data rows", {})
    cases["columns"] = (
        write_csv(tmp_path / "cols.csv", IMDB_ROWS, header=("text", "label")),
        r"no text column 'review'; the columns found are 'text', 'label'",
        {},
    )
    cases["label column"] = (
        write_csv(tmp_path / "cols2.csv", IMDB_ROWS, header=("review", "label")),
        r"no label column 'sentiment'; the columns found are 'review', 'label'",
        {},
    )
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("review,sentiment\n\"Tr\u00e8s bien\",positive\n".encode("latin-1"))
    cases["not utf-8"] = (latin, r"not UTF-8 text: byte 20 \(line 2\) is 0xe8", {})
    cases["one class"] = (
        write_csv(tmp_path / "one.csv", [(text, "positive") for text, _ in IMDB_ROWS]),
        r"every row has the label 'positive' in column 'sentiment'; a classifier needs at least two",
        {},
    )
    cases["too many classes"] = (
        write_csv(tmp_path / "many.csv", [(text, text) for text, _ in IMDB_ROWS]),
        r"column 'sentiment' has 10 distinct labels .* set up for at most 4 classes \(is it the right column\?\)",
        {"max_classes": 4},
    )
    long_field = tmp_path / "long.csv"
    long_field.write_text('review,sentiment\n"' + "word " * (MAX_FIELD_BYTES // 5 + 10) + '",positive\n')
    cases["long field"] = (long_field, r"a field near line 2 is longer than 1 MB", {})
    long_line = tmp_path / "long_line.csv"
    long_line.write_text("review,sentiment\n" + "x" * (2 * MAX_FIELD_BYTES + 10) + ",positive\n")
    cases["long line"] = (long_line, r"line 2 is longer than 2 MB", {})
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("review,sentiment\ngood film,positive\nbad, bad film,negative\n")
    cases["unquoted delimiter"] = (ragged, r"line 3 has 3 fields, the header has 2", {})
    no_label = tmp_path / "nolabel.csv"
    no_label.write_text("review,sentiment\ngood film,positive\nbad film,\n")
    cases["empty label"] = (no_label, r"line 3 has an empty 'sentiment' label", {})
    return cases


@pytest.mark.parametrize(
    "case",
    ["missing", "empty", "no rows", "columns", "label column", "not utf-8", "one class", "too many classes",
     "long field", "long line", "unquoted delimiter", "empty label"],
)
def test_bad_files_give_a_clear_error(tmp_path: Path, case: str) -> None:
    import csv as csv_module

    limit = csv_module.field_size_limit()
    path, message, options = bad_files(tmp_path)[case]
    with pytest.raises(TextDataError, match=message) as caught:
        load_text_dataset(path, **options)
    assert str(path.name) in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert csv_module.field_size_limit() == limit  # the process-wide csv setting is restored


def test_config_validates_text_settings() -> None:
    with pytest.raises(ConfigError, match="task.data must name a CSV or TSV file"):
        RunConfig.from_dict({"task": {"name": "text"}})
    with pytest.raises(ConfigError, match="task.vocab_size must be between 3 and 1e\\+06, got 2"):
        RunConfig.from_dict({"task": {"vocab_size": 2}})
    with pytest.raises(ConfigError, match="task.test_fraction must be between 0.01 and 0.9, got 0.95"):
        RunConfig.from_dict({"task": {"test_fraction": 0.95}})
    with pytest.raises(ConfigError, match="task.label_column must name a column"):
        RunConfig.from_dict({"task": {"label_column": " "}})
    with pytest.raises(ConfigError, match="must differ"):
        RunConfig.from_dict({"task": {"name": "text", "data": "x.csv", "label_column": "review"}})
    with pytest.raises(ConfigError, match="task.distance must be smaller than task.seq_len \\(10\\), got 10"):
        RunConfig.from_dict({"task": {"name": "reviews", "seq_len": 10, "distance": 10}})
    config = with_overrides(RunConfig(), {"task": "text", "data": "r.csv", "max-len": 50, "vocab-size": 99})
    assert (config.task.data, config.task.max_len, config.task.vocab_size) == ("r.csv", 50, 99)
    assert RunConfig.from_dict(config.to_dict()) == config


# ---- the synthetic reviews ----------------------------------------------------------------


def test_synthetic_reviews_put_one_decisive_word_at_the_distance() -> None:
    task = make_task("reviews", 30, distance=12)
    assert isinstance(task, SyntheticReviewsTask) and task.vocab_size == len(task.vocab)
    x, y = task.generate(4000, torch.Generator().manual_seed(0))
    assert x.shape == (30, 4000) and y.shape == (4000,)
    positive = torch.tensor([task.vocab.index[w] for w in POSITIVE_WORDS])
    negative = torch.tensor([task.vocab.index[w] for w in NEGATIVE_WORDS])
    is_pos, is_neg = torch.isin(x, positive), torch.isin(x, negative)
    decisive = is_pos | is_neg
    assert torch.equal(decisive.sum(0), torch.ones(4000, dtype=torch.long)), "exactly one decisive word"
    assert bool(decisive[30 - 1 - 12].all()), "12 words follow it"
    assert torch.equal(is_pos.any(0).long(), y)
    assert not bool((x == PAD).any()) and not bool((x == UNK).any())
    text = " ".join(task.tokens(x[:, 0].tolist()))
    assert "the" in text and "." in text


def test_synthetic_reviews_baseline_is_chance_and_nothing_but_the_word_tells() -> None:
    task = make_task("reviews", 20, distance=5)
    baseline = task.baseline()
    assert baseline.loss == pytest.approx(math.log(2)) and baseline.metric == 0.5
    x, y = task.generate(20000, torch.Generator().manual_seed(1))
    # Labels are a fair coin: 20000 flips land within 4 standard deviations (+-0.014) of 0.5.
    assert abs(y.float().mean().item() - 0.5) < 0.015
    # A memoryless predictor sees only the last word: the best it can do (the majority label
    # per last word, fitted on this very batch, so even optimistic) stays at chance.
    last = x[-1]
    correct = sum(max(int((y[last == w] == 1).sum()), int((y[last == w] == 0).sum())) for w in last.unique())
    assert correct / len(y) < 0.52


def test_synthetic_evaluation_set_is_fixed() -> None:
    task = make_task("reviews", 20, distance=5)
    first = [y for _, y in task.evaluation_batches(500)]
    again = [y for _, y in task.evaluation_batches(500)]
    assert sum(len(y) for y in first) == task.evaluation_samples
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))


# ---- the embedding ------------------------------------------------------------------------


def test_embedding_in_front_of_every_kind() -> None:
    for kind in ("rnn", "lstm", "gru"):
        model = build_model(ModelConfig(kind=kind, hidden=8), 6, 2, seed=0, vocab_size=20)
        names = list(model.torch_parameter_names())
        assert names[0] == "embedding.weight" and model.embedding.weight.shape == (20, 6)
        ids = torch.tensor([[0, 0, 3], [0, 5, 4], [7, 1, 2]])  # (T=3, B=3), left-padded
        fused, _, _ = model(ids)
        observed, _, _ = model(ids, observe=True)
        assert torch.allclose(fused, observed, atol=1e-5)
        fused[-1].sum().backward()
        assert torch.all(model.embedding.weight[PAD] == 0), "padding embeds to zero"
        assert torch.all(model.embedding.weight.grad[PAD] == 0), "and learns nothing"
        # Numeric models are untouched: no embedding, the same weights as before.
        plain = build_model(ModelConfig(kind=kind, hidden=8), 6, 2, seed=0)
        assert plain.embedding is None and "embedding.weight" not in plain.torch_parameter_names()


# ---- evaluation metrics -------------------------------------------------------------------


def test_metrics_match_hand_computed_values() -> None:
    # true:      a a a b b c ;  predicted: a b a b c c
    report = classification_report([0, 0, 0, 1, 1, 2], [0, 1, 0, 1, 2, 2], ("a", "b", "c"))
    assert report.confusion.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.precision.tolist() == pytest.approx([2 / 2, 1 / 2, 1 / 2])
    assert report.recall.tolist() == pytest.approx([2 / 3, 1 / 2, 1 / 1])
    # F1 = 2PR / (P + R): a 2(1)(2/3)/(5/3) = 0.8, b 0.5, c 2(1/2)(1)/(3/2) = 2/3
    assert report.f1.tolist() == pytest.approx([0.8, 0.5, 2 / 3])
    assert report.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert report.support.tolist() == [3, 2, 1]
    table = report.table()
    assert "0.800" in table and "0.667" in table and "0.500" in table
    assert table.splitlines()[-1].split() == ["c", "0", "0", "1"]


def test_metrics_of_a_class_never_predicted_are_zero_not_nan() -> None:
    report = classification_report([0, 1, 1, 1], [1, 1, 1, 1], ("negative", "positive"))
    assert report.precision.tolist() == [0.0, 0.75]
    assert report.recall.tolist() == [0.0, 1.0]
    assert report.f1.tolist() == pytest.approx([0.0, 2 * 0.75 / 1.75])
    with pytest.raises(ValueError, match="0..1"):
        classification_report([0, 2], [0, 1], ("a", "b"))


# ---- training, evaluating, word gradients, the command line -------------------------------


def text_config(path: Path, **task) -> RunConfig:
    setups = (ModelSetup("tanh RNN", ModelConfig(kind="rnn", hidden=8)), ModelSetup("LSTM", ModelConfig(hidden=8)))
    task_config = TaskConfig(name="text", data=str(path), batch=4, max_len=9, test_fraction=0.2, **task)
    return RunConfig(task=task_config, models=setups, record_every=2, device="cpu")


def test_text_run_trains_records_and_evaluates_on_the_test_split(imdb_file: Path) -> None:
    run = Run(text_config(imdb_file))
    assert isinstance(run.task, TextFileTask) and run.task.seq_len == 9
    records = list(run.steps(3))
    probes = records[0].models[1].probes
    assert probes is not None and probes.grad_h.shape == (1, 9)
    assert "embedding.weight" in probes.param_grad_norms
    evaluation = evaluate_model(run.learners[0].model, run.task)
    assert evaluation.total == 2 and evaluation.classes == ("negative", "positive")
    # The same config builds the same task again without reading the file twice.
    assert task_from_config(run.config.task, run.config.seed).dataset is run.task.dataset


def test_word_gradients_leave_out_padding_and_match_the_readout(imdb_file: Path) -> None:
    run = Run(text_config(imdb_file, vocab_size=50))
    model = run.learners[1].model
    ids, label = run.task.example(0)
    words = word_gradients(model, run.task, ids, label)
    real = ids[ids != PAD]
    assert words.tokens == run.task.tokens(real.tolist())
    assert words.grad_norms.shape == (len(real),) and np.all(words.grad_norms > 0)
    assert set(words.gates) == {"input", "forget", "cell", "output"} and words.gates["forget"].shape == (len(real),)
    # At the last step dL/dh_T = W_head^T (softmax - onehot): check it independently.
    error = torch.tensor(words.probabilities, dtype=torch.float32)
    error[label] -= 1
    expected = torch.linalg.vector_norm(model.head.weight.detach().t() @ error).item()
    assert words.grad_norms[-1] == pytest.approx(expected, rel=1e-4)


def test_word_gradients_on_every_device_equal_the_float64_ones(imdb_file: Path, device: str) -> None:
    run = Run(text_config(imdb_file, vocab_size=50))
    model = run.learners[1].model
    ids, label = run.task.example(0)
    reference = word_gradients(copy.deepcopy(model).double(), run.task, ids, label)
    words = word_gradients(model.to(device), run.task, ids, label)
    assert words.tokens == reference.tokens
    assert_close(words.grad_norms, reference.grad_norms, device)
    assert_close(words.probabilities, reference.probabilities, device)
    for name, gate in reference.gates.items():
        assert_close(words.gates[name], gate, device)


def test_cli_trains_on_a_file_and_prints_the_evaluation(imdb_file: Path, capsys) -> None:
    from gradviz.cli import main

    code = main(["train", "--task", "text", "--data", str(imdb_file), "--steps", "3", "--quiet", "--hidden", "4",
                 "--max-len", "10", "--vocab-size", "40", "--batch", "4"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "reviews.csv: 8 train / 2 test reviews" in out
    assert out.count("precision") == 1 and out.count("confusion") == 1  # one model: the default LSTM
    assert "negative" in out and "positive" in out


def test_cli_reviews_task_and_a_bad_file(tmp_path: Path, capsys) -> None:
    from gradviz.cli import main

    assert main(["train", "--task", "reviews", "--distance", "3", "--seq-len", "8", "--steps", "2", "--quiet",
                 "--hidden", "4"]) == 0
    out = capsys.readouterr().out
    assert "a fixed generated set (2048 reviews)" in out and "macro avg" in out
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["train", "--task", "text", "--data", str(empty), "--steps", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"gradviz: error: {empty} is empty"]


# ---- a file the size of IMDB --------------------------------------------------------------


def write_imdb_sized(path: Path, rows: int = 50_000, words: int = 230) -> None:
    """An IMDB-format CSV: ``rows`` reviews of about ``words`` words each, with HTML breaks."""
    rng = np.random.default_rng(0)
    lexicon = np.array([f"w{i}" for i in range(20000)] + ["the", "a", "film", ",", "."] * 400)
    lengths = rng.integers(words // 2, words * 3 // 2, size=rows)
    picks = lexicon[rng.integers(0, len(lexicon), size=int(lengths.sum()))]
    labels = rng.integers(0, 2, size=rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("review", "sentiment"))
        start = 0
        for length, label in zip(lengths.tolist(), labels.tolist(), strict=True):
            text = " ".join(picks[start : start + length].tolist())
            start += length
            writer.writerow((text.replace(" . ", ". <br /><br />", 1), "positive" if label else "negative"))


def test_a_50000_row_imdb_sized_file_loads_in_seconds(tmp_path: Path) -> None:
    path = tmp_path / "IMDB Dataset.csv"
    write_imdb_sized(path)
    started = time.perf_counter()
    data = load_text_dataset(path, max_len=200, vocab_size=10000)
    seconds = time.perf_counter() - started
    print(f"\n50,000 rows ({path.stat().st_size / 1e6:.0f} MB) loaded and tokenised in {seconds:.1f} s")
    assert data.rows == 50_000 and data.train_ids.shape == (40_000, 200) and data.vocab_size == 10000
    assert seconds < 60


def test_padding_is_left_out_of_the_recorded_gradients_and_gate_means(tmp_path: Path) -> None:
    # Reviews of 1 to 6 words padded on the left to 9: early steps are mostly padding.
    rows = [(" ".join(["great"] * (1 + i % 6)), "positive" if i % 2 else "negative") for i in range(20)]
    run = Run(text_config(write_csv(tmp_path / "short.csv", rows)))
    learner = run.learners[1]
    x, y = run.task.generate(4, torch.Generator().manual_seed(3))
    record = learner.step(x, y, record=True)
    mask = (x != PAD).numpy()  # (T, B)
    grad_h = record.probes.grad_h[-1]
    assert np.all(np.isnan(grad_h[~mask.any(axis=1)]))  # no real word at t: no value, not a 0
    assert np.all(np.isfinite(grad_h[mask.any(axis=1)]))
    # Independently: the same step's total dL/dh_t, norms averaged over the real words only.
    fresh = Run(text_config(write_csv(tmp_path / "short.csv", rows)))
    model = fresh.learners[1].model
    outputs, _, traces = model(x, observe=True)
    # Each sequence's own loss (the probe is per sequence, not per batch): B times the batch mean.
    loss = fresh.task.loss(model.head(fresh.task.readout(outputs)), y) * x.shape[1]
    (grads,) = torch.autograd.grad(loss, [traces[-1].probes[0]])  # (T, B, H): every total dL/dh_t
    for t in np.nonzero(mask.any(axis=1))[0]:
        norms = torch.linalg.vector_norm(grads[t].double(), dim=-1).numpy()
        assert grad_h[t] == pytest.approx(norms[mask[t]].mean(), rel=1e-4)
    forget = traces[-1].values["forget"].double().mean(dim=-1).numpy()  # (T, B)
    means = record.probes.gate_means["forget"][-1]
    for t in np.nonzero(mask.any(axis=1))[0]:
        assert means[t] == pytest.approx(forget[t][mask[t]].mean(), rel=1e-4)


def test_reports_show_a_review_through_every_model_and_score_them(imdb_file: Path) -> None:
    from gradviz.engine.reports import evaluation_report, example_count, is_text_task, word_report

    run = Run(text_config(imdb_file, vocab_size=50))
    assert is_text_task(run.task) and example_count(run.task) == 2
    report = word_report(run, 3)  # wraps into the two held-out reviews
    assert report.example == 1 and report.labels == ["tanh RNN", "LSTM"] and report.decisive is None
    ids, label = run.task.example(1)
    for words, learner in zip(report.words, run.learners, strict=True):
        alone = word_gradients(learner.model, run.task, ids, label)
        np.testing.assert_array_equal(words.grad_norms, alone.grad_norms)
    scores = evaluation_report(run)
    assert [e.total for e in scores.evaluations] == [2, 2]
    assert "LSTM after 0 steps" in scores.table() and "accuracy" in scores.table()
    synthetic = Run(RunConfig(task=TaskConfig(name="reviews", seq_len=12, distance=4, batch=4),
                              models=text_config(imdb_file).models, device="cpu"))
    words = word_report(synthetic, 0)
    assert words.decisive == 12 - 1 - 4
    assert words.words[0].tokens[words.decisive] in POSITIVE_WORDS + NEGATIVE_WORDS
    assert not is_text_task(make_task("adding", 10))


def test_the_evaluation_table_counts_one_step_in_the_singular():
    from gradviz.engine.evaluate import classification_report
    from gradviz.engine.text_reports import EvaluationReport

    scores = classification_report([0, 1], [0, 1], ("negative", "positive"))
    assert EvaluationReport(1, ["LSTM"], [scores]).table().startswith("LSTM after 1 step\n")
    assert EvaluationReport(2, ["LSTM"], [scores]).table().startswith("LSTM after 2 steps\n")
