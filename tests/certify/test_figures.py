"""Figures read well at their default size: the title fits the canvas, the legend covers no curve (issue 24)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

import certify
import games
from certify import plots


def _kept_figure(monkeypatch):
    kept = []
    monkeypatch.setattr(plt, "close", lambda fig=None: kept.append(fig))
    return kept


@pytest.mark.slow
def test_phase_plot_title_fits_and_legend_is_off_the_axes(tmp_path, monkeypatch):
    kept = _kept_figure(monkeypatch)
    game = games.get_game("tanh-sin", coupling=0.8)
    plots.plot_phase(certify.certify(game), game, str(tmp_path / "p.png"))
    fig = kept[-1]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    title = ax.title.get_window_extent(renderer)
    assert title.x0 >= 0
    assert title.x1 <= fig.bbox.x1  # it used to run off the right edge
    legend = ax.get_legend().get_window_extent(renderer)
    assert not legend.overlaps(ax.get_window_extent(renderer))  # below the axes, over nothing drawn
    plt.close("all")


def test_mirror_sweep_plot_has_no_euclidean_curve(tmp_path, monkeypatch):
    kept = _kept_figure(monkeypatch)
    plots.plot_sweep(certify.sweep_parameter("coordination", "tau", [1.5, 2.0]), str(tmp_path / "s.png"))
    labels = [t.get_text() for t in kept[-1].axes[0].get_legend().get_texts()]
    assert not any("Euclidean" in x for x in labels)
    plt.close("all")
