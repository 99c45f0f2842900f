"""Initialisations of the recurrent weights: the knob between vanishing and exploding.

- ``default``: PyTorch's U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias.
- ``orthogonal``: each H x H gate block of W_hh orthogonal (all singular values 1).
- ``identity``: each W_hh block the identity and all biases 0, with input weights drawn
  from N(0, 0.001^2), as in the IRNN of Le, Jaitly and Hinton (2015).
- ``1997``: every weight and bias U(-0.1, 0.1); an LSTM's input gates biased towards closed,
  -3 for the first half of the units and -6 for the second, as Hochreiter and Schmidhuber
  (1997) biased the input gates of their two cell blocks for the adding problem (their remedy
  for internal state drift). The bias sits in b_ih; b_hh's slice is 0.
- ``spectral_radius`` > 0 then rescales each W_hh block to that spectral radius.
- LSTM: the forget-gate bias (b_ih slice plus b_hh slice) is set to ``forget_bias``, +1 by
  default after Jozefowicz, Zaremba and Sutskever (2015).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gradviz.boundary import spectral_radius  # on the CPU in float64, whatever the device
from gradviz.config import ModelConfig


def gate_blocks(weight_hh: Tensor, hidden: int) -> list[Tensor]:
    """The square H x H blocks of W_hh, one per gate (views, so in-place edits stick)."""
    return list(weight_hh.split(hidden, dim=0))


@torch.no_grad()
def initialise_head(head: nn.Linear, config: ModelConfig) -> None:
    """The readout's initialisation: torch's default, but U(-0.1, 0.1) under ``1997`` (the paper
    initialised every weight, the output layer's too, in that range)."""
    if config.init == "1997":
        for weight in (head.weight, head.bias):
            nn.init.uniform_(weight, -0.1, 0.1)


@torch.no_grad()
def initialise(rnn: nn.RNNBase, config: ModelConfig) -> None:
    """Apply ``config``'s initialisation in place (uses torch's global RNG: seed it first)."""
    hidden = rnn.hidden_size
    for layer in range(rnn.num_layers):
        w_ih = getattr(rnn, f"weight_ih_l{layer}")
        w_hh = getattr(rnn, f"weight_hh_l{layer}")
        biases = [getattr(rnn, f"bias_ih_l{layer}"), getattr(rnn, f"bias_hh_l{layer}")]
        if config.init == "orthogonal":
            for block in gate_blocks(w_hh, hidden):
                nn.init.orthogonal_(block)
        elif config.init == "1997":
            for weight in (w_ih, w_hh, *biases):
                nn.init.uniform_(weight, -0.1, 0.1)
            if config.kind == "lstm":  # torch's gate order is i, f, g, o: the input slice is [0, H)
                half = hidden // 2
                biases[0][:half], biases[0][half:hidden] = -3.0, -6.0
                biases[1][:hidden] = 0.0
        elif config.init == "identity":
            for block in gate_blocks(w_hh, hidden):
                block.copy_(torch.eye(hidden))
            nn.init.normal_(w_ih, std=0.001)
            for bias in biases:
                bias.zero_()
        if config.spectral_radius > 0:
            for block in gate_blocks(w_hh, hidden):
                radius = spectral_radius(block)
                if radius > 0:
                    block.mul_(config.spectral_radius / radius)
        if config.kind == "lstm" and config.forget_gate:  # (without one, f_t = 1 and the slice is unused)
            # torch's gate order is i, f, g, o: the forget slice is [H, 2H).
            biases[0][hidden : 2 * hidden] = config.forget_bias
            biases[1][hidden : 2 * hidden] = 0.0
