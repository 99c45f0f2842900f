"""Gradients over words: how much of one review's loss reaches each of its words.

``word_gradients`` runs a model's observable forward on a single review and returns, for every
real word (padding left out), the norm |dL/dh_t| of the top layer's hidden state at that word,
the same quantity as the main gradient plot (see probes/gradients.py), with the cross-entropy
of the review's true class as L; and the gate activations there, averaged over the units.
This is what ``gui/panels/words.py`` draws.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gradviz.boundary import host_arrays, host_list
from gradviz.engine.text_reports import WordGradients
from gradviz.models import LayerTrace, SequenceModel
from gradviz.probes.gradients import sample_norms
from gradviz.tasks import Task


def word_gradients(model: SequenceModel, task: Task, ids: torch.Tensor, label: int) -> WordGradients:
    """Measure review ``ids`` (T,) of class ``label`` on ``model`` (nothing is updated)."""
    device = next(model.parameters()).device
    x = ids.reshape(-1, 1).to(device)  # (T, 1)
    y = torch.tensor([label], device=device)
    traces = [LayerTrace() for _ in range(model.config.layers)]
    with torch.enable_grad():
        outputs, _ = model.rnn.forward_observed(model.embed(x), traces=traces)
        logits = model.head(task.readout(outputs))
        loss = task.loss(logits, y)
        top = traces[-1]
        states = top.hidden + top.cell
        grads = torch.autograd.grad(loss, states, allow_unused=True)
    steps = len(top.hidden)

    def norms(grad_list) -> Tensor:
        return torch.stack([grad.new_zeros(()) if grad is None else sample_norms(grad)[0] for grad in grad_list])

    mask = task.mask(x)
    on_device = {
        "grad_norms": norms(grads[:steps]),
        "probabilities": torch.softmax(logits.detach()[0], dim=-1),
        **{f"gate/{name}": torch.stack(top.gates[name])[:, 0].mean(dim=-1) for name in model.gate_names},
    }
    if top.cell:
        on_device["grad_c"] = norms(grads[steps:])
    if mask is not None:
        on_device["keep"] = mask[:, 0]
    host = {name: value.astype(np.float64) for name, value in host_arrays(on_device).items()}  # one copy
    keep = host["keep"] > 0 if "keep" in host else np.ones(steps, dtype=bool)
    tokens_of = getattr(task, "tokens", None)
    all_tokens = tokens_of(host_list(ids)) if tokens_of else [str(i) for i in host_list(ids)]
    return WordGradients(
        tokens=[token for token, real in zip(all_tokens, keep, strict=True) if real],
        grad_norms=host["grad_norms"][keep],
        grad_c=host["grad_c"][keep] if top.cell else None,
        gates={name: host[f"gate/{name}"][keep] for name in model.gate_names},
        label=int(label),
        probabilities=host["probabilities"],
    )
