"""Gate-exposing RNN, LSTM and GRU layers, numerically equal to torch.nn's, and their builders."""

from gradviz.models.cells import GATE_NAMES, LayerTrace
from gradviz.models.init import spectral_radius
from gradviz.models.recurrent import ObservableGRU, ObservableLSTM, ObservableRNN
from gradviz.models.sequence import SequenceModel, build_model

__all__ = [
    "GATE_NAMES",
    "LayerTrace",
    "ObservableGRU",
    "ObservableLSTM",
    "ObservableRNN",
    "SequenceModel",
    "build_model",
    "spectral_radius",
]
