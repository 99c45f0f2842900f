"""gradviz: watch gradients vanish through time in a vanilla RNN and survive in an LSTM."""

__version__ = "0.1.0"
