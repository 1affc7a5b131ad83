"""Plots: training curves, metric-by-SNR curves and spectrogram comparisons.

Every function draws on a new matplotlib figure (Agg backend, no display needed) and
returns it. With ``path`` the figure is written there (atomically) and closed; without, it
stays open for the caller to show, save or close (as in a notebook or the example gallery).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .audio import PathLike, atomic_path


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


__all__ = ["plot_history", "plot_metric_by_snr", "plot_spectrograms"]


def _finish(fig, path: PathLike | None):
    """Write ``fig`` to ``path`` and close it; without a path leave it open."""
    if path is None:
        return fig
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    _pyplot().close(fig)
    return fig


def plot_history(
    history: Mapping[str, Sequence[float]], path: PathLike | None = None, *, title: str = "Training"
):
    """Loss per epoch (``loss`` and, if present, ``val_loss``).

    Parameters
    ----------
    history : mapping of str to sequence of float
        e.g. ``UNetNoiseRegressor.history_``.
    path : path, optional
        Where to write the PNG (the figure is then closed).
    title : str
        Title of the plot.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from skdenoise.plotting import plot_history
    >>> fig = plot_history({"loss": [0.3, 0.2, 0.15], "val_loss": [0.35, 0.25, 0.2]})
    >>> fig.axes[0].get_xlabel()
    'epoch'
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key in ("loss", "val_loss"):
        values = history.get(key)
        if values:
            epochs = np.arange(1, len(values) + 1)
            ax.plot(
                epochs,
                values,
                marker="o",
                markersize=3,
                label={"loss": "training", "val_loss": "validation"}[key],
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (scaled noise dB)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(fig, path)


def plot_metric_by_snr(
    snrs: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    *,
    metric: str,
    path: PathLike | None = None,
    higher_is_better: bool = True,
):
    """A metric against input SNR, one curve per system (e.g. "noisy input", "skdenoise").

    Parameters
    ----------
    snrs : sequence of float
        x values (dB).
    curves : mapping of str to sequence of float
        y values per system, aligned with ``snrs`` (NaN where missing).
    metric : str
        Axis label, e.g. ``"WER"``.
    path : path, optional
        Where to write the PNG (the figure is then closed).
    higher_is_better : bool
        False adds "(lower is better)" to the axis label.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from skdenoise.plotting import plot_metric_by_snr
    >>> fig = plot_metric_by_snr([0, 5, 10], {"noisy input": [1.3, 1.6, 2.0],
    ...                                       "skdenoise": [1.7, 2.1, 2.5]}, metric="PESQ")
    >>> len(fig.axes[0].lines)
    2
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for name, values in curves.items():
        ax.plot(snrs, values, marker="o", label=name)
    ax.set_xlabel("input SNR (dB)")
    ax.set_ylabel(metric + ("" if higher_is_better else " (lower is better)"))
    ax.set_title(f"{metric} by SNR")
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(fig, path)


def plot_spectrograms(
    waveforms: Mapping[str, np.ndarray],
    sample_rate: int,
    *,
    path: PathLike | None = None,
    settings=None,
):
    """Log-magnitude spectrograms side by side (e.g. noisy, enhanced, clean).

    Parameters
    ----------
    waveforms : mapping of str to ndarray of shape (n_samples,)
        Titles and signals.
    sample_rate : int
        Hz.
    path : path, optional
        Where to write the PNG.
    settings : SpectralSettings, optional
        STFT settings (default: the package's, ``SpectralSettings(sample_rate=...)``).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per waveform, frequency (kHz) against time (s), -80 to 20 dB.

    Examples
    --------
    >>> import numpy as np
    >>> from skdenoise.plotting import plot_spectrograms
    >>> noise = np.random.default_rng(0).normal(0, 0.1, 8000).astype("float32")
    >>> fig = plot_spectrograms({"noise": noise, "quieter": noise / 10}, 8000)
    >>> len(fig.axes)  # two panels and the colour bar
    3
    """
    from .spectral import SpectralSettings, magnitude_to_db, stft

    if settings is None:
        settings = SpectralSettings(sample_rate=sample_rate)
    plt = _pyplot()
    fig, axes = plt.subplots(
        1, len(waveforms), figsize=(4 * len(waveforms), 3.2), sharey=True, squeeze=False
    )
    for ax, (title, wave) in zip(axes[0], waveforms.items()):
        db = magnitude_to_db(np.abs(stft(np.asarray(wave, np.float32), settings)), settings)
        extent = (0, len(wave) / sample_rate, 0, sample_rate / 2000)
        image = ax.imshow(
            db, origin="lower", aspect="auto", extent=extent, vmin=-80, vmax=20, cmap="magma"
        )
        ax.set_title(title)
        ax.set_xlabel("time (s)")
    axes[0][0].set_ylabel("frequency (kHz)")
    fig.colorbar(image, ax=axes[0].tolist(), label="dB")
    return _finish(fig, path)
