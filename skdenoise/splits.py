"""Splitting rows (recordings, mixtures) into train and dev sides that share no speaker and
no noise file."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

logger = logging.getLogger("skdenoise.datasets")

__all__ = ["train_dev_split"]


# ----------------------------------------------------------------------------- splits


def train_dev_split(
    rows: Sequence[dict],
    by: Sequence[str] = ("speaker", "noise_file"),
    *,
    dev_fraction: float = 0.2,
    stratify: str | None = None,
    dev_values: dict[str, Sequence[str]] | None = None,
    random_state: int | None = 0,
) -> tuple[list[dict], list[dict]]:
    """Split rows so that no value of any ``by`` column is shared by train and dev.

    For each column in ``by`` a seeded share ``dev_fraction`` of its distinct values (at
    least one) is chosen for dev, or taken from ``dev_values``. A row goes to dev when
    *all* its ``by`` values are dev values, to train when *none* is; a row with some of
    each (a dev speaker mixed with a training noise, say) is dropped, and the number dropped
    is logged. To lose no rows, split the *sources* (speech by speaker, noise by file)
    before mixing, then mix train and dev separately.

    Parameters
    ----------
    rows : sequence of dict
        Manifest rows.
    by : sequence of str
        Columns that must not cross the split (default speaker and noise file).
    dev_fraction : float
        Share of the distinct values of each column sent to dev, in (0, 1).
    stratify : str, optional
        Column within whose groups values are chosen (e.g. ``"category"``, so that each
        noise category gives some dev files); groups with a single value stay in train.
    dev_values : dict, optional
        Explicit dev values per column; columns not named are drawn.
    random_state : int, optional

    Returns
    -------
    train, dev : list of dict

    Examples
    --------
    >>> from skdenoise.datasets import train_dev_split
    >>> rows = [{"speaker": s, "noise_file": n} for s in "abcde" for n in "xyz"]
    >>> train, dev = train_dev_split(rows, dev_fraction=0.4, random_state=0)
    >>> {r["speaker"] for r in train} & {r["speaker"] for r in dev}
    set()
    """
    rows = list(rows)
    if not rows:
        raise ValueError("no rows to split.")
    if not 0.0 < dev_fraction < 1.0:
        raise ValueError(f"dev_fraction must be within (0, 1), got {dev_fraction!r}.")
    for column in by:
        if column not in rows[0]:
            raise KeyError(f"no column {column!r} in the rows; columns: {sorted(rows[0])}.")
    rng = np.random.default_rng(random_state)
    chosen: dict[str, set] = {}
    for column in by:
        if dev_values and column in dev_values:
            chosen[column] = set(dev_values[column])
            continue
        groups: dict[str, list] = defaultdict(list)
        for row in rows:
            key = row.get(stratify, "") if stratify else ""
            if row[column] not in groups[key]:
                groups[key].append(row[column])
        picked: set = set()
        for key in sorted(groups):
            values = sorted(groups[key])
            if stratify and len(values) < 2:
                continue
            k = max(1, round(dev_fraction * len(values)))
            k = min(k, len(values) - 1) if len(values) > 1 else k
            picked.update(values[j] for j in rng.choice(len(values), size=k, replace=False))
        chosen[column] = picked
    train, dev, dropped = [], [], 0
    for row in rows:
        flags = [row[column] in chosen[column] for column in by]
        if all(flags):
            dev.append(row)
        elif not any(flags):
            train.append(row)
        else:
            dropped += 1
    if dropped:
        logger.info("train_dev_split: %d rows mix dev and train values and were dropped.", dropped)
    if not dev or not train:
        raise ValueError(
            f"the split left {len(train)} train and {len(dev)} dev rows: adjust dev_fraction "
            "or dev_values."
        )
    return train, dev
