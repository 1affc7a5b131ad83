"""Chunked denoising of long recordings and files."""

import itertools
import logging

import numpy as np
import pytest
import soundfile as sf

from skdenoise.audio import ArrayReader
from skdenoise.engine import Job
from skdenoise.spectral import SpectralSettings, plan_chunks
from skdenoise.streaming import Denoiser, denoise_file
from tests.conftest import noisy_pairs


def test_chunked_output_equals_a_whole_file_run_on_30_seconds(fitted_tiny):
    noisy, _ = noisy_pairs(seed=9, lengths=(30 * 8000,))
    whole = fitted_tiny.predict(noisy, sample_rate=8000)[0]
    for seconds in (1.0, 3.3, 7.0):
        chunked = Denoiser(fitted_tiny, chunk_seconds=seconds).denoise_array(noisy[0])
        assert chunked.shape == whole.shape
        assert np.max(np.abs(chunked - whole)) < 1e-3


def test_chunked_equality_holds_with_overlapping_frames_and_dry_mix(fitted_tiny):
    from sklearn.base import clone

    pipe = clone(fitted_tiny)
    pipe.set_params(spec__frame_hop=4032, rebuild__dry=0.2)
    noisy, clean = noisy_pairs(seed=3, lengths=(12000, 9000, 15000))
    pipe.fit(noisy, clean)
    x = noisy_pairs(seed=4, lengths=(100_003,))[0][0]
    np.testing.assert_allclose(
        Denoiser(pipe, chunk_seconds=2.0).denoise_array(x),
        pipe.predict([x], sample_rate=8000)[0],
        atol=1e-5,
    )


def test_chunk_plans_cover_every_sample_once():
    settings = SpectralSettings()
    for n in (16_200, 100_000, 480_001):
        plans = plan_chunks(n, settings, 20_000)
        assert plans[0].a == 0 and plans[-1].b == n
        assert all(p.b == q.a for p, q in itertools.pairwise(plans))
        assert all(p.s_lo <= p.a and p.s_hi >= p.b for p in plans)


def test_file_output_keeps_the_input_rate_and_length(fitted_tiny, tmp_path):
    rng = np.random.default_rng(0)
    stereo = 0.1 * rng.standard_normal((44100 * 3 + 17, 2))
    src = tmp_path / "stereo44k.wav"
    sf.write(src, stereo, 44100)
    out = denoise_file(fitted_tiny, src, tmp_path / "out.wav")
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.frames) == (44100, 1, len(stereo))
    assert info.subtype == sf.info(src).subtype


def test_files_never_overwrite_and_bad_files_do_not_stop_the_rest(fitted_tiny, tmp_path):
    noisy, _ = noisy_pairs(seed=2, lengths=(9000, 20000))
    good = []
    for i, x in enumerate(noisy):
        good.append(tmp_path / f"good{i}.wav")
        sf.write(good[-1], x, 8000)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF....WAVEjunk")
    before = good[0].read_bytes()
    results = Denoiser(fitted_tiny).denoise_files(
        [(good[0], good[0]), (corrupt, tmp_path / "c_out.wav"), (good[1], tmp_path / "g_out.wav")]
    )
    assert "pass --overwrite" in results[0].error and good[0].read_bytes() == before
    assert "corrupt.wav" in results[1].error
    assert results[2].error is None and sf.info(tmp_path / "g_out.wav").frames == 20000
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "corrupt.wav",
        "g_out.wav",
        "good0.wav",
        "good1.wav",
    ]  # no temporaries left
    (again,) = Denoiser(fitted_tiny).denoise_files([(good[0], good[0])], overwrite=True)
    assert again.error is None and good[0].read_bytes() != before


def test_nan_samples_in_a_file_are_reported(fitted_tiny, tmp_path):
    x = np.zeros(30000, np.float32)
    x[20000] = np.nan
    src = tmp_path / "nan.wav"
    sf.write(src, x, 8000, subtype="FLOAT")
    with pytest.raises(Exception, match=r"nan.wav.*NaN"):
        denoise_file(fitted_tiny, src, tmp_path / "o.wav")
    assert not (tmp_path / "o.wav").exists()


def test_inference_graph_is_traced_once_for_any_file_lengths(fitted_tiny, tmp_path):
    import pickle

    pipe = pickle.loads(pickle.dumps(fitted_tiny))  # fresh, untraced graph
    pipe.set_params(unet__backend="tensorflow")
    lengths = (300, 9000, 20_000, 65_000, 8064)
    noisy, _ = noisy_pairs(seed=6, lengths=lengths)
    pairs = []
    for i, x in enumerate(noisy):
        src = tmp_path / f"in{i}.wav"
        sf.write(src, x, 8000)
        pairs.append((src, tmp_path / f"out{i}.wav"))
    Denoiser(pipe, chunk_seconds=2.0, batch_frames=3).denoise_files(pairs)
    pipe.predict(noisy, sample_rate=8000)
    assert pipe.named_steps["unet"]._runner().fn.experimental_get_tracing_count() == 1


def test_model_calls_take_whole_batches_and_files_share_them(fitted_tiny, monkeypatch):
    from skdenoise.runner import INFERENCE_BATCH

    pipe = fitted_tiny
    lengths = (300, 9000, 20_000, 65_000, 8064, 17_000, 40_000, 12_345) * 2
    noisy, _ = noisy_pairs(seed=12, lengths=lengths)
    alone = [Denoiser(pipe, chunk_seconds=2.0).denoise_array(x) for x in noisy]

    unet = pipe.named_steps["unet"]
    sizes: list[int] = []
    real = type(unet).denoise_frames

    def spy(self, frames):
        sizes.append(len(frames))
        return real(self, frames)

    monkeypatch.setattr(type(unet), "denoise_frames", spy)
    denoiser = Denoiser(pipe, chunk_seconds=2.0, batch_frames=5)
    got = [[] for _ in noisy]
    jobs = [
        Job(
            f"x{i}",
            ArrayReader(x),
            len(x),
            lambda out, last, p=p: p.append(out),
            finish=lambda: None,
            fail=pytest.fail,
        )
        for i, (x, p) in enumerate(zip(noisy, got))
    ]
    denoiser.run(jobs)
    settings = unet.settings_
    total = sum(settings.n_frames(settings.n_columns(n)) for n in lengths)
    assert sum(sizes) >= total  # chunks may share a frame at their border
    assert len(sizes) >= 3 and all(s % INFERENCE_BATCH == 0 for s in sizes[:-1])
    for parts, x in zip(got, alone):  # tasks split between calls are put back together
        np.testing.assert_allclose(np.concatenate(parts), x, atol=1e-5)


def test_snr_bypass_in_the_engine_matches_the_pipeline(fitted_tiny, caplog):
    import pickle

    from skdenoise.spectral import estimated_snr_db

    noisy, _ = noisy_pairs(seed=13, lengths=(5000, 20_000))
    pipe = pickle.loads(pickle.dumps(fitted_tiny))
    for x in noisy:  # a threshold halfway up the ramp for this recording
        bypass = estimated_snr_db(pipe.predict([x], sample_rate=8000)[0], x) + 2.5
        pipe.set_params(rebuild__bypass_snr_db=bypass)
        np.testing.assert_allclose(
            Denoiser(pipe).denoise_array(x), pipe.predict([x], sample_rate=8000)[0], atol=1e-5
        )
        assert Denoiser(pipe, bypass_snr_db=-200.0).denoise_array(x) == pytest.approx(x)
        # the bypasses judge the network's own output (no dry mix, no bypass)
        judged = estimated_snr_db(fitted_tiny.predict([x], sample_rate=8000)[0], x)
        with caplog.at_level(logging.INFO, logger="skdenoise.engine"):
            caplog.clear()
            Denoiser(pipe, bypass_low_snr_db=judged + 0.5).denoise_array(x)
            assert f"estimated SNR {judged:.1f} dB, handed over unprocessed" in caplog.text
            caplog.clear()
            Denoiser(pipe, bypass_low_snr_db=judged - 0.5).denoise_array(x)
            assert "handed over" not in caplog.text  # processed: nothing said
        # the low bypass reaches the engine, as set or given: judged below it, the input
        assert Denoiser(pipe, bypass_low_snr_db=judged + 0.5).denoise_array(x) == pytest.approx(x)
        pipe.set_params(rebuild__bypass_low_snr_db=judged + 0.5)
        assert Denoiser(pipe).denoise_array(x) == pytest.approx(x)
        pipe.set_params(rebuild__bypass_low_snr_db=None)
        for ramp in (0.0, 1.0, 4.0):  # the ramp's width reaches the engine, as set or given
            pipe.set_params(rebuild__bypass_ramp_db=ramp)
            np.testing.assert_allclose(
                Denoiser(pipe).denoise_array(x), pipe.predict([x], sample_rate=8000)[0], atol=1e-5
            )
            np.testing.assert_allclose(
                Denoiser(
                    pipe.set_params(rebuild__bypass_ramp_db=5.0), bypass_ramp_db=ramp
                ).denoise_array(x),
                pipe.set_params(rebuild__bypass_ramp_db=ramp).predict([x], sample_rate=8000)[0],
                atol=1e-5,
            )
        pipe.set_params(rebuild__bypass_ramp_db=5.0)


def test_bypass_fades_between_chunks_it_judges_differently():
    from skdenoise.engine import ChunkEngine

    settings = SpectralSettings(sample_rate=8000)
    rate, n1 = 8000, 16000  # two chunks of 2 s
    t = np.arange(2 * n1) / rate
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(2 * n1) * np.where(np.arange(2 * n1) < n1, 1e-5, 0.05)
    x = (0.5 * np.sin(2 * np.pi * 440 * t) + noise).astype(np.float32)

    def gate(frames):  # keeps the tone's bins, removes the noise's
        return np.where(frames > 0.0, frames, settings.floor_db)

    def run(crossfade_seconds):
        engine = ChunkEngine(
            gate,
            settings,
            dry=0.2,
            bypass_snr_db=30.0,
            bypass_ramp_db=0.0,
            chunk_seconds=2.0,
            crossfade_seconds=crossfade_seconds,
        )
        return engine.denoise([x])[0]

    faded, abrupt = run(0.05), run(0.0)
    k = 400  # 50 ms at 8 kHz
    # The first chunk (tone, no noise to speak of) is handed over whole, the second (noise
    # 17 dB below the tone) is denoised at dry 0.2; the fade only touches its first 50 ms.
    np.testing.assert_array_equal(faded[:n1], x[:n1])
    np.testing.assert_array_equal(faded[n1 + k :], abrupt[n1 + k :])
    assert np.max(np.abs(abrupt[n1:] - x[n1:])) > 0.05  # the second chunk is processed
    enhanced = (abrupt - 0.2 * x) / 0.8
    w = 1.0 - 0.8 * np.arange(1, k + 1) / (k + 1)  # dry mix from 1 down to 0.2
    expected = (1.0 - w) * enhanced[n1 : n1 + k] + w * x[n1 : n1 + k]
    np.testing.assert_allclose(faded[n1 : n1 + k], expected, atol=1e-5)
    # No click: right after the boundary the output is still (nearly) the input, where
    # without the fade it jumps by 80 % of the removed noise.
    start = slice(n1, n1 + 10)
    assert np.max(np.abs(faded[start] - x[start])) < 0.05 * np.max(np.abs(abrupt[start] - x[start]))


def test_overlapped_network_calls_give_the_same_samples_in_order():
    """With ``overlap`` the network runs on a worker thread while the engine prepares and
    finishes chunks: every output sample, and the order of emits per job, are the same."""
    import threading

    from skdenoise.engine import ChunkEngine

    settings = SpectralSettings(sample_rate=8000)
    threads: set[str] = set()

    def network(frames):  # a fixed, frame-dependent attenuation
        threads.add(threading.current_thread().name)
        return frames - 6.0 * np.tanh(frames / 40.0) - 1.0

    lengths = (300, 9000, 20_000, 65_000, 8064, 17_000, 40_000, 12_345, 100_000)
    noisy, _ = noisy_pairs(seed=13, lengths=lengths)
    runs = {}
    for overlap in (False, True):
        engine = ChunkEngine(
            network, settings, chunk_seconds=2.0, batch_frames=3, model_batch=2,
            overlap=overlap,
        )  # fmt: skip
        emitted: list[tuple[int, int]] = []
        got = [[] for _ in noisy]
        jobs = [
            Job(
                f"x{i}",
                ArrayReader(x),
                len(x),
                lambda out, last, i=i, p=p, e=emitted: (p.append(out), e.append((i, len(out)))),
                finish=lambda: None,
                fail=pytest.fail,
            )
            for i, (x, p) in enumerate(zip(noisy, got))
        ]
        threads.clear()
        engine.run(jobs)
        runs[overlap] = ([np.concatenate(p) for p in got], emitted, set(threads))
    (plain, plain_order, plain_threads), (over, over_order, over_threads) = runs[0], runs[1]
    for a, b, n in zip(plain, over, lengths):
        assert len(a) == n
        np.testing.assert_array_equal(a, b)
    assert plain_order == over_order
    assert plain_threads == {threading.current_thread().name}
    assert over_threads and threading.current_thread().name not in over_threads


def test_a_network_error_ends_the_run_and_leaves_no_partial_file(fitted_tiny, tmp_path):
    """An error of the network (on the worker thread) is no file's: it reaches the caller,
    finished outputs stay whole, and nothing half-written is left."""
    from skdenoise.engine import ChunkEngine

    calls = []

    def broken_second_call(frames):
        calls.append(len(frames))
        if len(calls) == 2:
            raise RuntimeError("the network broke")
        return frames

    engine = ChunkEngine(broken_second_call, SpectralSettings(sample_rate=8000), batch_frames=2)
    with pytest.raises(RuntimeError, match="the network broke"):
        engine.denoise([np.ones(30_000, np.float32)] * 3)

    denoiser = Denoiser(fitted_tiny, batch_frames=2)
    real = denoiser.engine.denoise_frames
    calls.clear()

    def fails_later(frames):
        calls.append(len(frames))
        if len(calls) == 2:  # calls take 32 frames: 16 files of 2 frames each
            raise RuntimeError("the network broke")
        return real(frames)

    denoiser.engine.denoise_frames = fails_later
    noisy, _ = noisy_pairs(seed=14, lengths=(9000,) * 40)
    pairs = []
    for k, x in enumerate(noisy):
        sf.write(tmp_path / f"in{k}.wav", x, 8000, subtype="FLOAT")
        pairs.append((tmp_path / f"in{k}.wav", tmp_path / "out" / f"in{k}.wav"))
    (tmp_path / "out").mkdir()
    with pytest.raises(RuntimeError, match="the network broke"):
        denoiser.denoise_files(pairs)
    left = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert 0 < len(left) < len(pairs)
    assert all(name.startswith("in") and name.endswith(".wav") for name in left)
    whole = Denoiser(fitted_tiny)
    for name in left:  # finished outputs are complete and right
        k = int(name[2:-4])
        np.testing.assert_allclose(
            sf.read(tmp_path / "out" / name, dtype="float32")[0],
            whole.denoise_array(noisy[k]),
            atol=1e-4,
        )
