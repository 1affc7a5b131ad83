"""The package's parts and which may import which (read by the import-rule test and
rendered on the architecture page). Lower parts never import higher ones."""

#: Part name -> its modules, from the bottom up.
LAYERS: dict[str, tuple[str, ...]] = {
    # Arrays in, arrays out: audio I/O, STFT, the network, metrics, degradations, engines.
    # Knows no estimator, no scikit-learn and no command line.
    "core": (
        "audio",
        "spectral",
        "model",
        "modelfile",
        "recipe",
        "metrics",
        "augment",
        "synthetic",
        "parallel",
        "compiled",
        "runner",
        "engine",
        "inference",
        "batch",
        "asr",
        "whisper_features",
        "plotting",
    ),
    # Corpora, manifests, mixtures, splits and frame streams for training and evaluation.
    "data": ("mixing", "manifests", "splits", "streams", "datasets", "devset"),
    # The scikit-learn layer: transformers, the U-Net regressor, the pipeline and its file.
    "estimators": ("transformers", "fitting", "regressor", "pipeline"),
    # What users run: file denoising, evaluation, scorers, the training recipe.
    "applications": ("streaming", "evaluation", "scoring", "training"),
    # The command line; nothing imports it.
    "cli": ("cli", "__main__"),
}
