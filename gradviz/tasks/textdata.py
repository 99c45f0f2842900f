"""Labelled text from the user's CSV/TSV file: read, tokenise, build a vocabulary, split, encode.

gradviz never downloads data: the user brings a file such as the IMDB Movie Reviews CSV
(50,000 rows, columns ``review`` and ``sentiment``). ``load_text_dataset`` reads it in one
streaming pass (``progress(bytes_read, total_bytes)`` is called as it goes, for a progress
bar), tokenises every row, splits the rows with a seeded permutation, builds the vocabulary
from the training split only, and encodes every review as ``max_len`` token ids:

- tokens: HTML entities unescaped (``&amp;`` -> ``&``), tags such as IMDB's ``<br />`` removed,
  lower case, words (with an inner apostrophe, straight or typographic: ``don't``, ``don’t``)
  and single punctuation marks;
- vocabulary: ``<pad>`` = 0, ``<unk>`` = 1, then the most frequent training tokens (ties in
  alphabetical order), ``vocab_size`` ids in all;
- a review longer than ``max_len`` keeps its *last* ``max_len`` tokens; a shorter one is
  padded on the *left*, so every review ends at the last step, where a many-to-one model
  reads its answer, and ``ids != PAD`` is the mask of real words.

Every problem with the file raises ``TextDataError`` with a message that names it (the file,
the line, the columns found): an unclosed quote that would merge rows, CR-only line endings,
or a file whose data, projected from the part read so far, would not fit in memory (checked
every few MB while reading, so a huge file is refused early, not after filling the memory). No Qt, no torch: numpy only.
"""

from __future__ import annotations

import csv
import html
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gradviz.budget import MemoryRefused, check_text

PAD, UNK = 0, 1
PAD_TOKEN, UNK_TOKEN = "<pad>", "<unk>"
MAX_FIELD_BYTES = 1_000_000  # one review longer than this is not a review
MAX_CLASSES = 20  # more distinct labels than this: almost surely the wrong column
PROGRESS_EVERY_BYTES = 1 << 20
MEMORY_CHECK_BYTES = 4 << 20  # a file's projected memory is checked this often while it is read

_TAG = re.compile(r"<[a-zA-Z/][^<>]{0,200}>")
# Words with inner apostrophes (straight or typographic: don't, don’t) stay one token.
_TOKEN = re.compile(r"\w+(?:['\u2019\u02bc]\w+)*|[^\w\s]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'"})

Progress = Callable[[int, int], None]


class TextDataError(ValueError):
    """A text file that cannot be used; the message names the file and the problem."""


def tokenize(text: str) -> list[str]:
    """Lower-case words and punctuation marks; HTML entities unescaped, then tags removed.

    >>> tokenize("A <br />great film, isn't it? Tom &amp; Jerry don’t")
    ['a', 'great', 'film', ',', "isn't", 'it', '?', 'tom', '&', 'jerry', "don't"]
    """
    return _TOKEN.findall(clean(text))


def clean(text: str) -> str:
    """Entities unescaped (``&amp;`` -> ``&``), tags dropped, lower case, typographic apostrophes
    made straight, so that "don’t" and "don't" are one word."""
    if "&" in text:
        text = html.unescape(text)
    return _TAG.sub(" ", text).lower().translate(_APOSTROPHES)


@dataclass(frozen=True)
class Vocabulary:
    """Token <-> id; id 0 is ``<pad>``, id 1 ``<unk>`` (every token not in the list)."""

    tokens: tuple[str, ...]
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tokens[:2] != (PAD_TOKEN, UNK_TOKEN):
            raise ValueError("a vocabulary starts with <pad> and <unk>")
        object.__setattr__(self, "index", {token: i for i, token in enumerate(self.tokens)})

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: list[str]) -> list[int]:
        index = self.index
        return [index.get(token, UNK) for token in tokens]

    def decode(self, ids) -> list[str]:
        return [self.tokens[int(i)] for i in ids]

    @classmethod
    def from_counts(cls, counts: dict[str, int], size: int) -> Vocabulary:
        """The ``size - 2`` most frequent tokens after ``<pad>`` and ``<unk>``."""
        if size < 3:
            raise ValueError(f"vocab_size must be at least 3 (<pad>, <unk> and a word), got {size}")
        ranked = sorted(counts, key=lambda token: (-counts[token], token))
        return cls((PAD_TOKEN, UNK_TOKEN, *ranked[: size - 2]))


def pad_left(sequences: list[np.ndarray], max_len: int, pad: int = PAD) -> np.ndarray:
    """(N, max_len) int64: each sequence's last ``max_len`` ids, padded on the left."""
    out = np.full((len(sequences), max_len), pad, dtype=np.int64)
    for row, seq in enumerate(sequences):
        kept = seq[-max_len:]
        if len(kept):
            out[row, max_len - len(kept) :] = kept
    return out


@dataclass
class TextDataset:
    """A file's reviews as padded token ids, split into train and test.

    ``train_ids`` (N_train, max_len) and ``test_ids`` (N_test, max_len) hold ids into
    ``vocab``, padded on the left with ``PAD``; ``*_labels`` are indices into ``classes``
    (the label column's distinct values, sorted: ``negative``, ``positive``).
    """

    path: str
    text_column: str
    label_column: str
    classes: tuple[str, ...]
    vocab: Vocabulary
    max_len: int
    train_ids: np.ndarray
    train_labels: np.ndarray
    test_ids: np.ndarray
    test_labels: np.ndarray
    rows: int = 0  # data rows read (empty texts included)
    empty_texts: int = 0  # rows whose text had no tokens: left out
    truncated: int = 0  # reviews longer than max_len (their start is cut)
    mean_tokens: float = 0.0  # average tokens per kept review, before truncation
    unknown_fraction: float = 0.0  # share of training tokens (within max_len) that are <unk>
    seconds: float = 0.0  # time to read, tokenise and encode

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def class_counts(self, split: str = "train") -> np.ndarray:
        labels = self.train_labels if split == "train" else self.test_labels
        return np.bincount(labels, minlength=len(self.classes))

    def describe(self) -> str:
        counts = ", ".join(f"{name} {n}" for name, n in zip(self.classes, self.class_counts(), strict=True))
        return (
            f"{Path(self.path).name}: {len(self.train_ids)} train / {len(self.test_ids)} test reviews "
            f"({counts} in train), vocabulary {self.vocab_size}, {self.mean_tokens:.0f} tokens per "
            f"review on average, {self.truncated} cut to the last {self.max_len}, "
            f"{self.unknown_fraction:.1%} <unk>; read in {self.seconds:.1f} s"
        )


# ---- reading the file ---------------------------------------------------------------------


def _delimiter(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix in (".tsv", ".tab"):
        return "\t"
    if suffix == ".csv":
        return ","
    sample = head.decode("utf-8", errors="ignore")
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return "\t" if sample.count("\t") > sample.count(",") else ","


class _Lines:
    """Decoded lines of a binary file, with byte offsets for errors and progress."""

    def __init__(self, handle, path: Path, total: int, progress: Progress | None):
        self.handle, self.path, self.total, self.progress = handle, path, total, progress
        self.offset = 0
        self.line = 0
        self._next_report = 0

    def __iter__(self) -> Iterator[str]:
        limit = 2 * MAX_FIELD_BYTES
        for raw in iter(lambda: self.handle.readline(limit), b""):
            self.line += 1
            if len(raw) == limit and not raw.endswith(b"\n"):
                raise TextDataError(
                    f"{self.path}: line {self.line} is longer than {limit // 1_000_000} MB; "
                    f"this does not look like a file of reviews (wrong file or wrong delimiter?)"
                )
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise TextDataError(
                    f"{self.path} is not UTF-8 text: byte {self.offset + exc.start} (line {self.line}) "
                    f"is 0x{raw[exc.start]:02x}; save the file as UTF-8 and try again"
                ) from None
            if self.line == 1:
                text = text.removeprefix("\ufeff")  # a byte-order mark, as Excel writes
            self.offset += len(raw)
            if self.progress is not None and self.offset >= self._next_report:
                self._next_report = self.offset + PROGRESS_EVERY_BYTES
                self.progress(self.offset, self.grown())
            yield text

    def grown(self) -> int:
        """The file's size now: a file that grows while it is read (a log being written, a
        download) is projected and shown at its real size, not at its size when it was opened."""
        try:
            now = os.fstat(self.handle.fileno()).st_size
        except (OSError, AttributeError, ValueError):
            now = 0
        self.total = max(self.total, now, self.offset)
        return self.total


def _column(header: list[str], name: str, role: str, path: Path) -> int:
    if name in header:
        return header.index(name)
    found = ", ".join(repr(h) for h in header) or "none"
    raise TextDataError(f"{path}: no {role} column {name!r}; the columns found are {found}")


class _Ids(dict):
    """token -> provisional id, a new id for every new token: ``map(ids.__getitem__, tokens)``
    runs the lookups in C and calls Python only for a token seen for the first time."""

    def __missing__(self, token: str) -> int:
        value = self[token] = len(self)
        return value


@dataclass
class _Rows:
    texts: list[np.ndarray]  # provisional ids per row (ids into ``words``)
    labels: list[str]
    words: dict[str, int]
    rows: int
    empty: int
    token_count: int


def _check_merged(record: list[str], delimiter: str, width: int, label_at: int, seen: set[str], started: int,
                  ended: int, path: Path) -> None:
    """A record spanning lines whose inner lines look like rows of their own (enough fields, and
    a label already seen where the label goes): an unclosed quote swallowed them, and csv would
    silently merge them into one review. A review that merely holds a line break passes."""
    known = seen | {record[label_at].strip()} if len(record) > label_at else set(seen)
    for cell in record:
        if "\n" not in cell:
            continue
        found: list[str] = []  # label-like last fields of inner lines that have enough fields
        for inner in cell.splitlines()[1:]:
            parts = inner.split(delimiter)
            if len(parts) >= width:
                found.extend({parts[label_at].strip().strip('"'), parts[label_at - width].strip().strip('"')})
        if set(found) & known or len(found) > len(set(found)):
            raise TextDataError(
                f"{path}: a quote opened on line {started} is not closed until line {ended}, which merges "
                f"lines {started}-{ended} into one row; close the quote (or double it: \"\") and try again"
            )


def _projected(tokens: int, rows: int, max_len: int, read: int, total: int) -> int:
    """Bytes the dataset will take once the whole file is read, from what has been read so far:
    each row's ids (int32 plus an array header), then the padded (rows, max_len) int64 ids twice
    (the split copies)."""
    so_far = 4 * tokens + 112 * rows + 2 * 8 * max_len * rows
    return so_far * max(total, read, 1) // max(read, 1)  # never less than what is already held


def _read_rows(path: Path, text_column: str, label_column: str, progress: Progress | None,
               max_len: int = 200) -> _Rows:
    total = path.stat().st_size
    if total == 0:
        raise TextDataError(f"{path} is empty")
    words = _Ids()
    texts: list[np.ndarray] = []
    labels: list[str] = []
    rows = empty = token_count = 0
    next_check = MEMORY_CHECK_BYTES
    seen: set[str] = set()  # labels so far: what an unclosed quote's swallowed rows end with
    lines: _Lines | None = None
    old_limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD_BYTES)  # process-wide in the csv module: restored below
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
            if b"\r" in head and b"\n" not in head:
                raise TextDataError(
                    f"{path} has old Mac line endings (CR only); save it with ordinary line endings "
                    f"(LF or CRLF) and try again"
                )
            delimiter = _delimiter(path, head)
            handle.seek(0)
            lines = _Lines(handle, path, total, progress)
            reader = csv.reader(lines, delimiter=delimiter)
            header = next(reader, None)
            if header is None or not any(cell.strip() for cell in header):
                raise TextDataError(f"{path} has no header line (expected columns such as {text_column!r})")
            header = [cell.strip() for cell in header]
            text_at = _column(header, text_column, "text", path)
            label_at = _column(header, label_column, "label", path)
            width = len(header)
            find, lookup = _TOKEN.findall, words.__getitem__
            ended = reader.line_num
            for record in reader:
                started, ended = ended + 1, reader.line_num
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue  # blank line
                if ended > started:
                    _check_merged(record, delimiter, width, label_at, seen, started, ended, path)
                if len(record) != width and ended > started:
                    raise TextDataError(
                        f"{path}: a quote opened on line {started} is not closed before line {ended} (or the "
                        f"end of the file), which merges lines {started}-{ended}; close the quote and try again"
                    )
                if len(record) != width:
                    raise TextDataError(
                        f"{path}: line {reader.line_num} has {len(record)} fields, the header has {width} "
                        f"(an unquoted {delimiter!r} in a review? fields holding the delimiter must be quoted)"
                    )
                label = record[label_at].strip()
                if not label:
                    raise TextDataError(f"{path}: line {reader.line_num} has an empty {label_column!r} label")
                rows += 1
                tokens = find(clean(record[text_at]))
                if not tokens:
                    empty += 1
                    continue
                token_count += len(tokens)
                texts.append(np.fromiter(map(lookup, tokens), dtype=np.int32, count=len(tokens)))
                labels.append(label)
                seen.add(label)
                if lines.offset >= next_check:  # the data so far, projected over the whole file
                    next_check = lines.offset + MEMORY_CHECK_BYTES
                    size = lines.grown()
                    check_text(lines.offset, size, _projected(token_count, rows, max_len, lines.offset, size),
                               path=str(path))
    except csv.Error as exc:
        line = lines.line if lines is not None else 0
        if "field larger than field limit" in str(exc):
            raise TextDataError(
                f"{path}: a field near line {line} is longer than {MAX_FIELD_BYTES // 1_000_000} MB; "
                f"this does not look like a file of reviews (an unclosed quote?)"
            ) from None
        if "new-line character" in str(exc):
            raise TextDataError(
                f"{path}: a line break inside an unquoted field near line {line} (a file with old Mac line "
                f"endings, CR only?); save it with ordinary line endings (LF or CRLF) and try again"
            ) from None
        raise TextDataError(f"{path}: not readable as CSV near line {line}: {exc}") from None
    except MemoryRefused as exc:
        raise TextDataError(str(exc)) from None
    except OSError as exc:
        raise TextDataError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        csv.field_size_limit(old_limit)
    if progress is not None:
        progress(total, total)
    if not texts:
        what = "no data rows" if rows == 0 else f"{rows} rows but every {text_column!r} text is empty"
        raise TextDataError(f"{path} has {what}")
    return _Rows(texts, labels, words, rows, empty, token_count)


def load_text_dataset(
    path: str | Path,
    text_column: str = "review",
    label_column: str = "sentiment",
    vocab_size: int = 10000,
    max_len: int = 200,
    test_fraction: float = 0.2,
    seed: int = 0,
    max_classes: int = MAX_CLASSES,
    progress: Progress | None = None,
) -> TextDataset:
    """Read, tokenise, split and encode a labelled text file (see the module docstring)."""
    started = time.perf_counter()
    path = Path(path).expanduser()
    if not path.exists():
        raise TextDataError(f"{path} does not exist")
    if not path.is_file():
        raise TextDataError(f"{path} is not a file")
    if text_column == label_column:
        raise TextDataError(f"the text and label columns must differ, both are {text_column!r}")
    if max_len < 1:
        raise TextDataError(f"max_len must be at least 1, got {max_len}")
    if not 0.0 < test_fraction < 1.0:
        raise TextDataError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    data = _read_rows(path, text_column, label_column, progress, max_len)

    classes = tuple(sorted(set(data.labels)))
    if len(classes) < 2:
        raise TextDataError(
            f"{path}: every row has the label {classes[0]!r} in column {label_column!r}; "
            f"a classifier needs at least two classes"
        )
    if len(classes) > max_classes:
        shown = ", ".join(repr(c[:20]) for c in classes[:5])
        raise TextDataError(
            f"{path}: column {label_column!r} has {len(classes)} distinct labels ({shown}, ...); "
            f"the model is set up for at most {max_classes} classes (is it the right column?)"
        )
    class_of = {name: i for i, name in enumerate(classes)}
    labels = np.array([class_of[label] for label in data.labels], dtype=np.int64)

    count = len(data.texts)
    n_test = int(round(count * test_fraction))
    if n_test < 1 or n_test >= count:
        raise TextDataError(
            f"{path}: {count} reviews cannot be split {1 - test_fraction:.0%} / {test_fraction:.0%} "
            f"into a non-empty train and test set"
        )
    order = np.random.default_rng(seed).permutation(count)
    test_rows, train_rows = order[:n_test], order[n_test:]

    # The vocabulary comes from the training split only: test words it lacks become <unk>.
    train_tokens = np.concatenate([data.texts[i] for i in train_rows])
    frequency = np.bincount(train_tokens, minlength=len(data.words))
    words = np.array(list(data.words), dtype=object)
    present = np.nonzero(frequency)[0]
    vocab = Vocabulary.from_counts(dict(zip(words[present].tolist(), frequency[present].tolist(), strict=True)),
                                   vocab_size)
    remap = np.full(len(data.words), UNK, dtype=np.int64)  # provisional id -> vocabulary id
    for token, new_id in vocab.index.items():
        old_id = data.words.get(token)
        if old_id is not None:
            remap[old_id] = new_id

    def encode(rows: np.ndarray) -> np.ndarray:
        return pad_left([remap[data.texts[i][-max_len:]] for i in rows], max_len)

    train_ids, test_ids = encode(train_rows), encode(test_rows)
    lengths = np.array([len(t) for t in data.texts])
    real = train_ids != PAD
    return TextDataset(
        path=str(path),
        text_column=text_column,
        label_column=label_column,
        classes=classes,
        vocab=vocab,
        max_len=max_len,
        train_ids=train_ids,
        train_labels=labels[train_rows],
        test_ids=test_ids,
        test_labels=labels[test_rows],
        rows=data.rows,
        empty_texts=data.empty,
        truncated=int(np.count_nonzero(lengths > max_len)),
        mean_tokens=float(lengths.mean()),
        unknown_fraction=float(np.count_nonzero(train_ids[real] == UNK) / max(1, np.count_nonzero(real))),
        seconds=time.perf_counter() - started,
    )


# ---- one loaded file kept, so the GUI thread and the worker do not read it twice ---------

_cache_lock = threading.Lock()
_cache: tuple[tuple, TextDataset] | None = None


def _cache_key(path: Path, *options) -> tuple:
    try:
        stat = path.stat()
        return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, *options)
    except OSError:
        return (str(path), None, None, *options)


def load_text_dataset_cached(path: str | Path, **options) -> TextDataset:
    """``load_text_dataset``, but the last file loaded (same path, size, mtime and options)
    is returned again without reading it: building a Run twice costs one read."""
    global _cache
    key = _cache_key(Path(path).expanduser(), *sorted((k, v) for k, v in options.items() if k != "progress"))
    with _cache_lock:
        if _cache is not None and _cache[0] == key:
            return _cache[1]
    dataset = load_text_dataset(path, **options)
    with _cache_lock:
        _cache = (key, dataset)
    return dataset

