"""Plots: training curves, metric-by-SNR curves and spectrogram comparisons.

Every function draws on a new matplotlib figure (Agg backend, no display needed), writes a
PNG when ``path`` is given, and returns the figure.
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


def _save(fig, path: PathLike | None) -> None:
    if path is None:
        return
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")


def plot_history(
    history: Mapping[str, Sequence[float]], path: PathLike | None = None, *, title: str = "Training"
):
    """Loss per epoch (``loss`` and, if present, ``val_loss``).

    Parameters
    ----------
    history : mapping of str to sequence of float
        e.g. ``UNetNoiseRegressor.history_``.
    path : path, optional
        Where to write the PNG.
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
    _save(fig, path)
    plt.close(fig)
    return fig


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
    _save(fig, path)
    plt.close(fig)
    return fig


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
    _save(fig, path)
    plt.close(fig)
    return fig
