"""A recurrent stack with a linear readout: the model a task trains.

``SequenceModel`` owns ``rnn`` (an observable torch.nn.RNN/LSTM/GRU) and ``head`` (a
``nn.Linear`` from H to the task's output size). ``torch_parameter_names`` gives the names
the run files use: torch's own for the recurrent layers, ``head.weight`` for the readout.

For a task over words (``vocab_size`` given) an ``embedding`` (``nn.Embedding`` with
``vocab_size`` rows of width ``input_size``; row 0, the padding id, stays zero and gets no
gradient) sits in front of the recurrent stack: the model then takes token ids (T, B) and
its first parameter is ``embedding.weight``. Without ``vocab_size`` nothing changes.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gradviz import threads
from gradviz.config import ModelConfig
from gradviz.models.cells import GATE_NAMES, LayerTrace
from gradviz.models.init import initialise, initialise_head
from gradviz.models.recurrent import ObservableGRU, ObservableLSTM, ObservableRNN, State


class SequenceModel(nn.Module):
    """Recurrent layers plus a linear readout, built and initialised from a ModelConfig."""

    def __init__(self, config: ModelConfig, input_size: int, output_size: int, vocab_size: int | None = None):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(vocab_size, input_size, padding_idx=0) if vocab_size else None
        if config.kind == "lstm":
            self.rnn = ObservableLSTM(input_size, config.hidden, config.layers, config.forget_gate)
        elif config.kind == "gru":
            self.rnn = ObservableGRU(input_size, config.hidden, config.layers)
        elif config.kind == "rnn":
            self.rnn = ObservableRNN(input_size, config.hidden, config.layers, config.nonlinearity)
        else:
            raise ValueError(f"unknown model kind {config.kind!r}")
        self.head = nn.Linear(config.hidden, output_size)
        initialise(self.rnn, config)
        initialise_head(self.head, config)

    @property
    def gate_names(self) -> tuple[str, ...]:
        return GATE_NAMES[self.config.kind]

    def embed(self, x: Tensor) -> Tensor:
        """Token ids (T, B) -> (T, B, I) through the embedding; numeric input passes unchanged."""
        return x if self.embedding is None else self.embedding(x)

    def forward(
        self,
        x: Tensor,  # (T, B, I), or (T, B) token ids with an embedding
        observe: bool = False,
        tbptt: int = 0,
    ) -> tuple[Tensor, State, list[LayerTrace] | None]:
        """Top-layer outputs (T, B, H), final state, and per-layer traces if ``observe``.

        Unobserved calls take torch's fused kernel where it computes the same function.
        """
        x = self.embed(x)
        if not observe and self.rnn.can_fuse:
            outputs, state = self.rnn.forward_fused(x, tbptt=tbptt)
            return outputs, state, None
        # Every timestep at once (no per-step leaves); the top layer's backward pass marks where
        # its Jacobian is exactly zero, from the factors it multiplies by anyway.
        layers = self.config.layers
        traces = None
        if observe:
            traces = [LayerTrace(per_step=False, wants_zero=layer == layers - 1) for layer in range(layers)]
        outputs, state = self.rnn.forward_observed(x, tbptt=tbptt, traces=traces)
        return outputs, state, traces

    def torch_parameter_names(self) -> dict[str, nn.Parameter]:
        """Parameters keyed as in torch.nn (``weight_hh_l0``) and ``head.weight``/``head.bias``."""
        named = {}
        for name, param in self.named_parameters():
            named[name.removeprefix("rnn.")] = param
        return named


def build_model(
    config: ModelConfig, input_size: int, output_size: int, seed: int, vocab_size: int | None = None
) -> SequenceModel:
    """A freshly initialised model; the same seed gives the same weights on every device, and
    whatever torch's thread count: the model is built on one intra-op thread (an orthogonal
    initialisation's QR on two threads rounds differently, so the window's trainer, ``gradviz
    train`` and ``gradviz probe``, which have different counts, started from different W_hh)."""
    with torch.random.fork_rng(devices=[]), threads.one_op_thread():
        torch.manual_seed(seed)
        return SequenceModel(config, input_size, output_size, vocab_size)
