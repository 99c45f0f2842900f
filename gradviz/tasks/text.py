"""The lecture's many-to-one example, sentiment of a movie review, as two tasks over words.

- ``SyntheticReviewsTask`` ("reviews") needs no file: generated reviews of neutral filler
  in which exactly one decisive word ("brilliant", "awful", ...) sits ``distance`` words
  before the end. Nothing else says anything about the label, so a model scores above
  chance (50%) only if its memory spans ``distance`` steps: the vanishing gradient in words.
- ``TextFileTask`` ("text") trains on the user's labelled file (IMDB's CSV, say) loaded by
  ``gradviz.tasks.textdata``; batches are sampled from its training split, evaluation uses the
  held-out test split.

Both feed token ids, not one-hot vectors: ``x`` is (T, B) int64 and the model's
``nn.Embedding`` (``vocab_size`` rows of width ``input_size``, row ``PAD`` = 0 fixed at zero)
turns it into (T, B, input_size). Padding, where there is any, is on the left: every review
ends at the last step, so the many-to-one readout ``outputs[-1]`` always sees a real word and
the loss never sees padding. ``mask(x)`` (``x != PAD``) marks the real words for plots.
Per-timestep gradients are |dL/dh_t| of the recurrent state, as for every other task.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from gradviz.tasks.base import MANY_TO_ONE, Baseline, ClassificationTask
from gradviz.tasks.textdata import PAD, PAD_TOKEN, UNK_TOKEN, TextDataset, Vocabulary

if TYPE_CHECKING:  # torch is imported where batches are made, not where a task is described
    import torch

EMBED_DIM = 32  # width of each word's embedding: the x_t the recurrent layer sees
EVALUATION_SEED = 2**31 - 1  # the synthetic task's fixed evaluation set, never a training seed

# Neutral filler for the synthetic reviews: it appears regardless of the label, so it carries
# no sentiment, even where it sounds like it might ("long", "slowly").
FILLER = (
    "the film was long and the actors spoke slowly .",
    "the story follows a family in a small town .",
    "the camera stays close to the main character .",
    "the music comes in during the second half .",
    "the director also wrote the script .",
    "some scenes are shot in black and white .",
    "the plot moves between the past and the present .",
    "there is a dinner scene near the end .",
    "it runs for about two hours .",
    "the cast includes several new faces .",
    "i watched it on a sunday evening with friends .",
    "the city at night is shown from above .",
)
NEGATIVE_WORDS = ("awful", "boring", "dreadful", "terrible", "tedious")
POSITIVE_WORDS = ("brilliant", "delightful", "superb", "wonderful", "moving")
STREAM_LENGTH = 4096  # filler words each review is a window of (wrapping around)
REVIEW_VOCABULARY = Vocabulary(
    (PAD_TOKEN, UNK_TOKEN, *sorted({w for s in FILLER for w in s.split()}), *NEGATIVE_WORDS, *POSITIVE_WORDS)
)


class _TextTask(ClassificationTask):
    """What both text tasks share: ids through an embedding, classes, a vocabulary, a mask."""

    kind = MANY_TO_ONE
    input_size = EMBED_DIM
    classes: tuple[str, ...] = ()
    vocab: Vocabulary

    def mask(self, x: torch.Tensor) -> torch.Tensor:
        """(T, B) bool: True at real words, False at padding."""
        return x != PAD

    def tokens(self, ids) -> list[str]:
        return self.vocab.decode(ids)

    def evaluation_batches(self, batch: int = 256) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The held-out set, in batches of (x (T, B), y (B,)) on the CPU."""
        raise NotImplementedError

    def example(self, index: int) -> tuple[torch.Tensor, int]:
        """Review ``index`` of the held-out set: ids (T,) and its class."""
        raise NotImplementedError

    @property
    def example_count(self) -> int:
        """How many reviews the held-out set has (``example`` takes 0 .. this - 1)."""
        raise NotImplementedError


class SyntheticReviewsTask(_TextTask):
    """Generated reviews: T words of filler with one decisive word ``distance`` words from the end.

    Each review is a window of T words from a fixed stream of neutral filler sentences (built
    once from ``FILLER`` with a fixed seed), starting at a random offset. The word at
    position T - 1 - ``distance`` (0-based; ``distance`` words follow it) is replaced by one of
    five positive or five negative words; the label (0 negative, 1 positive) is a fair coin.
    """

    name = "reviews"
    title = "Movie reviews: one decisive word (synthetic)"
    description = (
        "Many-to-one: tell positive from negative generated reviews, decided by one word a set "
        "distance before the end among neutral filler; chance is 50%."
    )
    classes = ("negative", "positive")
    output_size = len(classes)
    vocab = REVIEW_VOCABULARY
    vocab_size = len(REVIEW_VOCABULARY)
    evaluation_samples = 2048

    def __init__(self, seq_len: int, distance: int = 10) -> None:
        super().__init__(seq_len)
        if not 1 <= distance < seq_len:
            raise ValueError(
                f"distance must be at least 1 and smaller than seq_len ({seq_len}), got {distance}"
            )
        self.distance = distance

    @cached_property
    def stream(self) -> torch.Tensor:
        """(STREAM_LENGTH,) word ids: the filler sentences in an order fixed by seed 0, which
        every review is a window of (built at the first batch, not when the task is described)."""
        import torch

        index = self.vocab.index
        sentences = [torch.tensor([index[w] for w in s.split()]) for s in FILLER]
        order = torch.Generator().manual_seed(0)
        parts, length = [], 0
        while length < STREAM_LENGTH:
            for i in torch.randperm(len(sentences), generator=order).tolist():
                parts.append(sentences[i])
                length += len(sentences[i])
        return torch.cat(parts)[:STREAM_LENGTH]

    @cached_property
    def negative_ids(self) -> torch.Tensor:
        import torch

        return torch.tensor([self.vocab.index[w] for w in NEGATIVE_WORDS])

    @cached_property
    def positive_ids(self) -> torch.Tensor:
        import torch

        return torch.tensor([self.vocab.index[w] for w in POSITIVE_WORDS])

    def mask(self, x: torch.Tensor) -> None:
        """None: every generated review is T real words, there is no padding to leave out."""
        return None

    @property
    def example_count(self) -> int:
        return self.evaluation_samples

    @property
    def decisive_position(self) -> int:
        """0-based step of the decisive word."""
        return self.seq_len - 1 - self.distance

    def generate(
        self, batch: int, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        from gradviz.boundary import to_device

        steps = self.seq_len
        start = torch.randint(0, len(self.stream), (batch,), generator=generator)
        positions = (start.unsqueeze(0) + torch.arange(steps).unsqueeze(1)) % len(self.stream)
        x = self.stream[positions]  # (T, B) word ids
        y = torch.randint(0, 2, (batch,), generator=generator)  # (B,) 0 negative, 1 positive
        choice = torch.randint(0, len(POSITIVE_WORDS), (batch,), generator=generator)
        x[self.decisive_position] = torch.where(y == 1, self.positive_ids[choice], self.negative_ids[choice])
        return to_device(x, y, device=device)

    def baseline(self) -> Baseline:
        # The label is a fair coin and only the decisive word, `distance` steps back, shows it.
        n = len(self.classes)
        return Baseline(
            loss=math.log(n),
            metric=1.0 / n,
            explanation=f"the decisive word is forgotten: guess, cross-entropy ln({n}), chance {1 / n:.0%}",
        )

    def evaluation_batches(self, batch: int = 256) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        import torch
        generator = torch.Generator().manual_seed(EVALUATION_SEED)
        remaining = self.evaluation_samples
        while remaining > 0:
            size = min(batch, remaining)
            remaining -= size
            yield self.generate(size, generator)

    def example(self, index: int) -> tuple[torch.Tensor, int]:
        import torch
        x, y = self.generate(1, torch.Generator().manual_seed(EVALUATION_SEED + 1 + index))
        return x[:, 0], int(y[0])


class TextFileTask(_TextTask):
    """Reviews from the user's file: training batches drawn from the training split.

    T is the dataset's ``max_len``; shorter reviews are padded on the left (see the module
    docstring). Evaluation uses the test split, which the vocabulary never saw.
    """

    name = "text"
    title = "Movie reviews from a file (CSV/TSV)"
    description = (
        "Many-to-one: classify the reviews of a labelled CSV or TSV file you bring (such as "
        "IMDB's review and sentiment columns), scored on a held-out test split."
    )

    def __init__(self, dataset: TextDataset) -> None:
        import torch
        if dataset.max_len < 2:
            raise ValueError(f"max_len must be at least 2, got {dataset.max_len}")
        super().__init__(dataset.max_len)
        self.dataset = dataset
        self.classes = dataset.classes
        self.output_size = len(dataset.classes)
        self.vocab = dataset.vocab
        self.vocab_size = dataset.vocab_size
        self.train_ids = torch.from_numpy(dataset.train_ids)  # (N, T), shares memory
        self.train_labels = torch.from_numpy(dataset.train_labels)
        self.test_ids = torch.from_numpy(dataset.test_ids)
        self.test_labels = torch.from_numpy(dataset.test_labels)

    def generate(
        self, batch: int, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        from gradviz.boundary import to_device

        rows = torch.randint(0, len(self.train_ids), (batch,), generator=generator)
        x = self.train_ids[rows].t().contiguous()  # (T, B)
        return to_device(x, self.train_labels[rows], device=device)

    def baseline(self) -> Baseline:
        # Without reading, the best guess is the training split's class frequencies.
        prior = np.bincount(self.dataset.train_labels, minlength=len(self.classes)) / len(self.train_labels)
        entropy = -float(sum(p * math.log(p) for p in prior if p > 0))
        majority = int(np.argmax(prior))
        return Baseline(
            loss=entropy,
            metric=float(prior[majority]),
            explanation=(
                f"predict the training split's class frequencies: cross-entropy {entropy:.3f}, "
                f"always {self.classes[majority]!r} scores {prior[majority]:.0%}"
            ),
        )

    def evaluation_batches(self, batch: int = 256) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for start in range(0, len(self.test_ids), batch):
            yield self.test_ids[start : start + batch].t().contiguous(), self.test_labels[start : start + batch]

    def example(self, index: int) -> tuple[torch.Tensor, int]:
        return self.test_ids[index], int(self.test_labels[index])

    @property
    def example_count(self) -> int:
        return len(self.test_ids)
