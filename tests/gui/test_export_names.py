"""The Export dialog's file name: an extension the user typed chooses the file type (a walk
typed "fig.svg" with PNG chosen and got "fig.svg.png")."""

from tests.gui.conftest import export_dialog_on, train_and_pause

FIGURES = ["png", "svg", "pdf", "csv", "npz"]


def test_a_typed_extension_of_a_type_that_applies_is_that_type():
    from gradviz.gui.export_dialog import file_and_type

    assert file_and_type("/t/fig.svg", "png", FIGURES) == ("/t/fig.svg", "svg")
    assert file_and_type("/t/fig.PDF", "png", FIGURES) == ("/t/fig.PDF", "pdf")
    assert file_and_type("/t/fig.png", "png", FIGURES) == ("/t/fig.png", "png")
    assert file_and_type("/t/fig", "svg", FIGURES) == ("/t/fig.svg", "svg")
    assert file_and_type("/t/fig.v2", "png", FIGURES) == ("/t/fig.v2.png", "png")  # not a type: kept, and added to
    # The whole window is a PNG only: a vector name is replaced, not appended to.
    assert file_and_type("/t/window.svg", "png", ["png"]) == ("/t/window.png", "png")


def test_exporting_fig_svg_with_png_chosen_writes_an_svg_named_fig_svg(qtbot, make_window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    window = train_and_pause(qtbot, make_window())
    dialog = export_dialog_on(qtbot, window, tmp_path, "gradient", "png")
    out = tmp_path / "fig.svg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(out), ""))
    dialog._save()
    qtbot.waitUntil(out.exists, timeout=20000)
    assert b"<svg" in out.read_bytes()[:2000]
    assert not (tmp_path / "fig.svg.png").exists()
    assert window.settings.value("export/type") == "svg"  # the next Export offers what was written
