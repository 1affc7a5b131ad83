"""One training recipe: the estimator, train_model and `skdenoise train` read their defaults
from skdenoise.recipe, and the command line maps its options to train_model's by name."""

import inspect

from skdenoise import UNetNoiseRegressor
from skdenoise.cli import _TRAIN_OPTIONS, build_parser
from skdenoise.recipe import RECIPE, REFERENCE
from skdenoise.training import train_model


def test_the_estimator_is_the_reference():
    params = UNetNoiseRegressor().get_params()
    assert {k: params[k] for k in REFERENCE} == REFERENCE


def test_train_model_defaults_are_the_recipe():
    signature = inspect.signature(train_model).parameters
    shared = [k for k in RECIPE if k in signature]
    assert set(RECIPE) - set(shared) == {"kernel_size"}  # train_model keeps the reference's
    assert {k: signature[k].default for k in shared} == {k: RECIPE[k] for k in shared}


def test_the_command_line_defaults_are_the_recipe():
    parser = build_parser()
    args = parser.parse_args(["train", "--speech", "s", "--noise", "n", "--out", "m.npz"])
    for name in _TRAIN_OPTIONS:
        value = getattr(args, name)
        expected = RECIPE[name]
        if name == "output_activation" and expected is None:
            expected = "linear"  # the command line's spelling of "no activation"
        assert value == expected, name
    assert (args.lr_reduce_patience or None) == RECIPE["lr_reduce_patience"]
    assert (args.max_attenuation_db or None) == RECIPE["max_attenuation_db"]
    assert args.seed == RECIPE["random_state"]
    # every option passed by name is a parameter of train_model
    assert set(_TRAIN_OPTIONS) <= set(inspect.signature(train_model).parameters)


def test_the_prediction_defaults_are_the_estimators():
    """A model file without a prediction-time parameter gets the same default through the
    pipeline (the estimators' signatures) as straight into an engine (PREDICTION)."""
    from skdenoise import WaveformRebuilder
    from skdenoise.modelfile import PRESET_PARAMS
    from skdenoise.recipe import PREDICTION

    steps = {"unet": UNetNoiseRegressor(), "rebuild": WaveformRebuilder()}
    for step, defaults in PREDICTION.items():
        params = steps[step].get_params()
        assert {k: params[k] for k in defaults} == defaults, step
    # every parameter a preset may set has a default here
    assert {p.replace("__", ".") for p in PRESET_PARAMS} <= {
        f"{step}.{name}" for step, names in PREDICTION.items() for name in names
    }


def test_the_recipe_stft_is_the_transformers_default():
    """The recipe's STFT and frame are LogSpectrogram's defaults: a model trained with
    ``skdenoise train`` and no STFT options reads what the estimator reads by default."""
    from skdenoise import LogSpectrogram

    params = LogSpectrogram().get_params()
    assert {k: params[k] for k in ("n_fft", "hop_length", "frame_length")} == {
        k: RECIPE[k] for k in ("n_fft", "hop_length", "frame_length")
    }
