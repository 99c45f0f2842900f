"""Property test over configurations: every config is either rejected with a message that
names a field, or trains a step and records a finite snapshot."""

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradviz.config import INITS, MODEL_KINDS, NONLINEARITIES, OPTIMIZERS, TASK_NAMES, ConfigError, RunConfig
from gradviz.engine import Run

model = st.fixed_dictionaries({
    "kind": st.sampled_from(MODEL_KINDS + ("transformer",)),
    "hidden": st.integers(-2, 12),
    "layers": st.integers(0, 3),
    "nonlinearity": st.sampled_from(NONLINEARITIES),
    "init": st.sampled_from(INITS),
    "spectral_radius": st.one_of(st.floats(-1, 3, allow_subnormal=False), st.just(float("nan"))),
    "forget_bias": st.floats(-5, 5, allow_subnormal=False),
    "forget_gate": st.booleans(),
})
train = st.fixed_dictionaries({
    "optimizer": st.sampled_from(OPTIMIZERS),
    "lr": st.floats(-0.1, 0.5, allow_subnormal=False),
    "clip": st.floats(0, 5, allow_subnormal=False),
    "tbptt": st.integers(0, 12),
})
config = st.fixed_dictionaries({
    "task": st.fixed_dictionaries({
        "name": st.sampled_from(TASK_NAMES),
        "seq_len": st.integers(0, 24),
        "batch": st.integers(0, 6),
        "distance": st.integers(0, 30),
    }),
    "models": st.lists(st.fixed_dictionaries({"label": st.text(min_size=0, max_size=3), "model": model,
                                              "train": train}), min_size=0, max_size=3),
    "seed": st.integers(-1, 5),
    "record_every": st.integers(0, 3),
    "device": st.just("cpu"),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config)
def test_every_config_is_rejected_clearly_or_records_a_finite_step(data):
    try:
        run_config = RunConfig.from_dict(data)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 300
        assert any(word in message for word in ("task", "models", "seed", "record_every", "label", "config")), message
        return
    record = Run(run_config).train_step(record=True)
    for model_record in record.models:
        assert math.isfinite(model_record.loss)
        probes = model_record.probes
        assert probes is not None
        assert np.all(np.isfinite(probes.grad_h)) and np.all(probes.grad_h >= 0)
        assert all(np.all(np.isfinite(v)) for v in probes.gates.values())
        assert all(math.isfinite(v) for v in probes.param_grad_norms.values())
