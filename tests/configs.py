"""Run configurations the core and the GUI tests share (no Qt here: core tests import it)."""

from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig


def small_config(models: int = 2) -> RunConfig:
    """The default demo's shape (tanh RNN vs LSTM, adding problem), small enough to be quick."""
    setups = (
        ModelSetup("tanh RNN", ModelConfig(kind="rnn", hidden=8), TrainConfig(lr=0.02)),
        ModelSetup("LSTM", ModelConfig(kind="lstm", hidden=8), TrainConfig(lr=0.02)),
        ModelSetup("GRU", ModelConfig(kind="gru", hidden=8), TrainConfig(lr=0.02)),
    )
    task = TaskConfig("adding", seq_len=12, batch=8)
    return RunConfig(task=task, models=setups[:models], record_every=2, device="cpu")


# A ReLU RNN with spectral radius 6, SGD at lr 10 and no clipping: it diverges within steps.
EXPLODING = RunConfig(
    task=TaskConfig("adding", 20, 8),
    models=(ModelSetup("RNN", ModelConfig(kind="rnn", nonlinearity="relu", hidden=8, spectral_radius=6.0),
                       TrainConfig(optimizer="sgd", lr=10.0, clip=0.0)),),
    record_every=1,
    device="cpu",
)
