"""The colours every picture of gradviz uses, the window's plots and file figures alike (no Qt,
no matplotlib: both the GUI and gradviz/figures import it)."""

# Okabe & Ito (2008), minus black and yellow, which vanish on dark or light backgrounds.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00")
MODEL_COLOURS = ("#D55E00", "#0072B2", "#009E73")  # model 1, 2, 3 in every plot
GATE_COLOURS = {
    "forget": "#009E73",
    "input": "#0072B2",
    "output": "#CC79A7",
    "cell": "#E69F00",
    "update": "#009E73",
    "reset": "#0072B2",
    "new": "#E69F00",
    "cell_state": "#56B4E9",
    "hidden": "#D55E00",
}
GRADIENT_MAP = "inferno"  # log10 |dL/dh_t| over training
GATE_MAP = "viridis"  # activations
