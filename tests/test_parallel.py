"""Beyond one process: searches, evaluation and denoising on Dask; multi-device training
options; bounded memory when training from large manifests."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import sklearn
import soundfile as sf
from sklearn.model_selection import GridSearchCV, KFold

from skdenoise import make_denoising_pipeline
from skdenoise.scoring import make_asr_scorer, si_sdr_scorer
from tests.conftest import RATE, harmonic, noisy_pairs

ROOT = Path(__file__).resolve().parents[1]


class LoudnessTranscriber:
    """Test stub whose "words" depend on the audio: one word per quarter of the recording,
    ``loud`` or ``soft`` by its level, so that a denoiser changes the transcript and the
    WER is not trivially 0 (it pickles, as a transcriber sent to workers must)."""

    def transcribe(self, waveform, sample_rate):
        quarters = np.array_split(np.asarray(waveform, dtype=np.float64), 4)
        return " ".join(
            "loud" if np.sqrt(np.mean(q**2)) > 0.045 else "soft" for q in quarters if len(q)
        )


@pytest.fixture(scope="module")
def dask_cluster():
    """A LocalCluster of two worker processes, one engine thread each, which can import
    this test module (for the stub transcriber)."""
    distributed = pytest.importorskip("distributed")

    env = worker_env("SKDENOISE_NO_JIT", "SKDENOISE_CACHE_DIR", "TF_CPP_MIN_LOG_LEVEL")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        env=env,
    ) as cluster:
        yield cluster


def worker_env(*names: str) -> dict:
    """Environment of worker processes: one engine thread, this module importable, and the
    named variables of this process (where set)."""
    from skdenoise.parallel import THREADS_ENV

    path = os.environ.get("PYTHONPATH")
    env = {THREADS_ENV: "1", "PYTHONPATH": os.pathsep.join([str(ROOT), *([path] if path else [])])}
    env.update({name: os.environ[name] for name in names if name in os.environ})
    return env


def _search(tiny_params, backend: str | None, scheduler: str | None = None):
    import joblib

    noisy, clean = noisy_pairs(seed=5, lengths=(9000, 9400, 9800, 10200, 10600, 11000))
    transcripts = [LoudnessTranscriber().transcribe(c, RATE) for c in clean]
    with sklearn.config_context(enable_metadata_routing=True):
        wer = make_asr_scorer("wer", LoudnessTranscriber()).set_score_request(transcripts=True)
        search = GridSearchCV(
            make_denoising_pipeline(**{**tiny_params, "unet__epochs": 1}),
            {"rebuild__dry": [0.0, 0.6]},
            scoring={"wer": wer, "si_sdr": si_sdr_scorer},
            refit=False,
            cv=KFold(3),
            n_jobs=None if backend is None else 2,
        )
        if backend is None:
            search.fit(noisy, clean, transcripts=transcripts)
        else:
            from distributed import Client

            with Client(scheduler), joblib.parallel_config(backend=backend):
                search.fit(noisy, clean, transcripts=transcripts)
    return search.cv_results_


def test_grid_search_on_dask_gives_the_default_backends_results(tiny_params, dask_cluster):
    """Estimators, the routed-transcript WER scorer and the SI-SDR scorer run in Dask
    workers (TensorFlow rebuilt there) and give the scores of the in-process search."""
    here = _search(tiny_params, None)
    there = _search(tiny_params, "dask", dask_cluster.scheduler_address)
    for key in here:
        if key.startswith(("split", "mean_test", "std_test", "rank_test")):
            np.testing.assert_allclose(there[key], here[key], rtol=1e-5, atol=1e-6, err_msg=key)
    # The scores say something: the WER differs from 0 somewhere and SI-SDR is finite.
    assert np.isfinite(here["mean_test_si_sdr"]).all()
    assert (np.asarray(here["mean_test_wer"]) != 0).any()


def _folder(tmp_path: Path, n: int = 6) -> Path:
    rng = np.random.default_rng(1)
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    for i in range(n):
        clean = harmonic(RATE + 2000 * i, rng)
        noisy = clean + 0.05 * rng.standard_normal(len(clean)).astype(np.float32)
        sf.write(folder / ("sub" if i % 2 else "") / f"f{i}.wav", noisy, RATE, subtype="PCM_16")
    return folder


def test_denoise_on_dask_writes_the_same_bytes(tmp_path, fitted_tiny, dask_cluster):
    """`skdenoise denoise --backend dask --scheduler ADDRESS` writes byte-identical files to
    the default run, with ordinary permissions and no temporary file left behind."""
    from skdenoise import save_model
    from skdenoise.cli import main

    model = str(save_model(fitted_tiny, tmp_path / "tiny.npz"))
    folder = _folder(tmp_path)
    common = ["denoise", "--input-dir", str(folder), "--model", model, "--no-progress"]
    assert main([*common, "--output-dir", str(tmp_path / "here")]) == 0
    assert (
        main(
            [
                *common,
                "--output-dir",
                str(tmp_path / "dask"),
                "--backend",
                "dask",
                "--scheduler",
                dask_cluster.scheduler_address,
            ]
        )
        == 0
    )
    assert main([*common, "--output-dir", str(tmp_path / "loky"), "--jobs", "2"]) == 0
    here = sorted(p.relative_to(tmp_path / "here") for p in (tmp_path / "here").rglob("*"))
    assert len([p for p in here if p.suffix == ".wav"]) == 6
    for other in ("dask", "loky"):
        there = sorted(p.relative_to(tmp_path / other) for p in (tmp_path / other).rglob("*"))
        assert there == here  # same files, nothing else (no temporaries)
        for rel in (r for r in here if r.suffix == ".wav"):
            assert (tmp_path / other / rel).read_bytes() == (tmp_path / "here" / rel).read_bytes()


def test_evaluate_on_dask_gives_the_same_scores(tmp_path, fitted_tiny, dask_cluster):
    from distributed import Client

    from skdenoise.evaluation import evaluate

    noisy, clean = noisy_pairs(seed=7, lengths=(9000, 11000, 13000, 15000))
    items = [
        {
            "name": f"x{i}",
            "noisy": n,
            "clean": c,
            "transcript": "loud loud loud loud",
            "snr_db": 10.0,
            "noise_type": "white",
        }
        for i, (n, c) in enumerate(zip(noisy, clean))
    ]
    kwargs = {"transcriber": LoudnessTranscriber(), "sample_rate": RATE}
    here = evaluate(items, fitted_tiny, **kwargs)
    with Client(dask_cluster.scheduler_address):
        there = evaluate(items, fitted_tiny, backend="dask", jobs=2, **kwargs)
    keys = ("pesq_output", "stoi_output", "si_sdr_output", "wer_output")
    for a, b in zip(here.rows, there.rows):
        assert a["name"] == b["name"]
        for key in keys:
            assert b[key] == pytest.approx(a[key], rel=1e-6, abs=1e-9), key


def test_backend_options_are_checked():
    from skdenoise.cli import main

    assert main(["denoise", "x.wav", "--scheduler", "tcp://h:1", "--backend", "loky"]) == 2
    assert main(["denoise", "x.wav", "--jobs", "0"]) == 2


def test_thread_limit_setting(monkeypatch):
    from skdenoise.parallel import THREADS_ENV, limit_threads, thread_limit

    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert thread_limit() is None
    monkeypatch.setenv(THREADS_ENV, "three")
    with pytest.raises(ValueError, match="positive integer"):
        thread_limit()
    for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
    assert limit_threads(3) == 3
    assert thread_limit() == 3
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == "3"


@pytest.mark.parametrize(
    "options",
    [
        {"unet__distribute": "mirrored"},
        {"unet__precision": "mixed_float16"},
        {"unet__distribute": "mirrored", "unet__precision": "mixed_float16"},
    ],
)
def test_mirrored_and_mixed_precision_fit_on_cpu(tiny_params, tmp_path, options):
    """Both options train on a CPU-only machine (one replica); the fitted model is float32,
    predicts, and resumes from its checkpoint."""
    noisy, clean = noisy_pairs(seed=3, lengths=(12000, 9000, 15000))
    params = {**tiny_params, **options, "unet__checkpoint_path": str(tmp_path / "ck.npz")}
    pipe = make_denoising_pipeline(**{**params, "unet__epochs": 1}).fit(noisy, clean)
    unet = pipe.named_steps["unet"]
    assert unet.model_.dtype_policy.name == "float32"
    assert len(unet.history_["loss"]) == 1 and np.isfinite(unet.history_["loss"]).all()
    out = pipe.predict(noisy, sample_rate=8000)
    assert [len(o) for o in out] == [len(x) for x in noisy]
    resumed = make_denoising_pipeline(**{**params, "unet__epochs": 2}).fit(noisy, clean)
    assert len(resumed.named_steps["unet"].history_["loss"]) == 2
    baseline = make_denoising_pipeline(**{**tiny_params, "unet__epochs": 1}).fit(noisy, clean)
    loss = unet.history_["loss"][0]
    # Mixed precision changes the arithmetic, not the training: the same loss to float16
    # rounding; mirrored on one replica is the plain run.
    tolerance = 1e-2 if "unet__precision" in options else 1e-6
    assert loss == pytest.approx(baseline.named_steps["unet"].history_["loss"][0], rel=tolerance)


def test_training_from_a_large_manifest_keeps_few_recordings_decoded(tmp_path, tiny_params):
    """500 tiny files streamed through a training epoch: decoded recordings are dropped as
    the stream moves on (the counter's peak stays small) although all 500 were read."""
    from skdenoise.audio import DECODED
    from skdenoise.datasets import MixtureStream

    rng = np.random.default_rng(0)
    speech = []
    for i in range(500):
        path = tmp_path / f"s{i:03d}.wav"
        sf.write(path, harmonic(2400, rng), RATE, subtype="PCM_16")
        speech.append({"path": str(path), "speaker": f"p{i % 50}", "duration_s": "0.3"})
    noise = []
    for i in range(3):
        path = tmp_path / f"n{i}.wav"
        sf.write(path, 0.05 * rng.standard_normal(RATE * 2).astype(np.float32), RATE)
        noise.append({"path": str(path), "category": f"c{i}", "duration_s": "2"})
    from skdenoise.datasets import write_manifest

    speech_tsv = write_manifest(speech, tmp_path / "speech.tsv")
    noise_tsv = write_manifest(noise, tmp_path / "noise.tsv")
    stream = MixtureStream.from_sources(speech_tsv, noise_tsv, sample_rate=RATE, random_state=0)
    assert len(stream.speech) == 500
    pipe = make_denoising_pipeline(**{**tiny_params, "unet__epochs": 1, "unet__batch_size": 32})
    alive = DECODED.reset()
    before = DECODED.total
    pipe.fit(stream)
    assert DECODED.total - before >= 500
    assert DECODED.peak - alive <= 16, DECODED.peak - alive


def test_grid_search_on_ray_smoke(tiny_params):
    """Ray's joblib backend (``ray.util.joblib.register_ray``) runs the same search and gives
    the same scores (runs where Ray is installed: ``pip install "skdenoise[ray]"``)."""
    ray = pytest.importorskip("ray")
    import joblib
    from ray.util.joblib import register_ray

    env = worker_env("SKDENOISE_NO_JIT", "SKDENOISE_CACHE_DIR")
    noisy, clean = noisy_pairs(seed=5, lengths=(9000, 9400, 9800, 10200, 10600, 11000))
    search = GridSearchCV(
        make_denoising_pipeline(**{**tiny_params, "unet__epochs": 1}),
        {"rebuild__dry": [0.0, 0.6]},
        scoring=si_sdr_scorer,
        cv=KFold(3),
        refit=False,
    )
    here = search.fit(noisy, clean).cv_results_["mean_test_score"]
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": env})
    try:
        register_ray()
        with joblib.parallel_config(backend="ray"):
            there = search.set_params(n_jobs=2).fit(noisy, clean).cv_results_["mean_test_score"]
    finally:
        ray.shutdown()
    np.testing.assert_allclose(there, here, rtol=1e-5)
