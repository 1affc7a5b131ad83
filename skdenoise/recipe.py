"""The training defaults, in one place: the reference method and the training recipe.

:data:`REFERENCE` is the seed method (5 levels, 16 filters, Huber loss on the noise
log-magnitude, no bound): the defaults of :class:`skdenoise.UNetNoiseRegressor`, so that an
estimator built with no arguments is the reference. :data:`RECIPE` is what
:func:`skdenoise.training.train_model` and ``skdenoise train`` use when not told otherwise:
the reference with the changes measured to pay off (a shallower network on 2x2 patches,
a 40 dB bound, longer training with learning-rate halving) plus the data settings of
on-the-fly mixing. Both are read, never copied: the estimator's signature, the training
function's and the command line's defaults come from here (a test checks it).

Examples
--------
>>> from skdenoise.recipe import RECIPE, REFERENCE
>>> REFERENCE["depth"], RECIPE["depth"]
(5, 4)
>>> sorted(k for k in RECIPE if RECIPE[k] != REFERENCE.get(k, RECIPE[k]))
['depth', 'epochs', 'lr_reduce_patience', 'max_attenuation_db', 'patch_size', 'patience']
"""

from __future__ import annotations

from .model import MAGNITUDE_EXPONENT

__all__ = ["RECIPE", "REFERENCE"]

#: Network and fitting defaults of the reference method (``UNetNoiseRegressor()``).
REFERENCE: dict = {
    "filters": 16,
    "depth": 5,
    "dropout": 0.5,
    "kernel_size": 3,
    "patch_size": 1,
    "loss": "huber",
    "magnitude_exponent": MAGNITUDE_EXPONENT,
    "learning_rate": 1e-3,
    "epochs": 10,
    "batch_size": 16,
    "validation_fraction": 0.1,
    "patience": 5,
    "lr_reduce_patience": None,
    "max_attenuation_db": None,
    "output_activation": None,
}

#: Defaults of ``train_model`` and ``skdenoise train``: the reference, changed where
#: measurements said so, and the mixing settings of the training stream.
RECIPE: dict = {
    **REFERENCE,
    "depth": 4,
    "patch_size": 2,
    "epochs": 100,
    "patience": 10,
    "lr_reduce_patience": 4,
    "max_attenuation_db": 40.0,
    # on-the-fly mixing
    "sample_rate": 8000,
    "snr_range": (-5.0, 20.0),
    "gain_db_range": (-15.0, 5.0),
    "segment_seconds": 6.0,
    # the saved pipeline's rebuild step and the seed
    "dry": 0.0,
    "random_state": 0,
}
