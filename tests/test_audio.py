"""Audio I/O: loading, resampling, channel mixing and atomic writing."""

import os

import numpy as np
import pytest
import soundfile as sf

from skdenoise import WaveformLoader, read_audio, write_wav
from skdenoise.audio import to_waveform


def test_stereo_file_at_another_rate_is_mixed_and_resampled(tmp_path):
    t = np.arange(16000) / 16000
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1)
    path = tmp_path / "stereo.wav"
    sf.write(path, 0.5 * stereo, 16000, subtype="FLOAT")
    (wave,) = WaveformLoader(sample_rate=8000).transform([path]).waveforms
    assert wave.shape == (8000,) and wave.dtype == np.float32
    assert np.abs(wave).max() == pytest.approx(0.5, abs=0.02)


def test_arrays_with_their_own_rate_and_channel_layouts():
    x = np.random.default_rng(0).standard_normal(1600).astype(np.float32)
    assert to_waveform((x, 16000), sample_rate=8000).shape == (800,)
    both = np.stack([x, x])  # (channels, samples), librosa's layout
    np.testing.assert_allclose(to_waveform(both, sample_rate=8000), x, atol=1e-6)
    np.testing.assert_allclose(to_waveform(both.T, sample_rate=8000), x, atol=1e-6)


def test_integer_pcm_arrays_are_scaled():
    pcm = np.array([0, 16384, -32768], dtype=np.int16)
    np.testing.assert_allclose(to_waveform(pcm, sample_rate=8000), [0, 0.5, -1.0])


def test_two_d_array_of_recordings_is_rows():
    X = np.random.default_rng(0).standard_normal((3, 500))
    batch = WaveformLoader(array_rate=8000).transform(X)
    assert len(batch) == 3 and batch.names == ("X[0]", "X[1]", "X[2]")


def test_write_wav_round_trip_and_replaces_existing(tmp_path):
    path = tmp_path / "a.wav"
    path.write_bytes(b"old content")
    x = (0.25 * np.sin(np.arange(800) / 3)).astype(np.float32)
    write_wav(path, x, 8000, subtype="FLOAT")
    y, rate = read_audio(path)
    assert rate == 8000
    np.testing.assert_array_equal(x, y)
    assert os.listdir(tmp_path) == ["a.wav"]  # no temporary left behind


def test_write_wav_crash_leaves_original_untouched(tmp_path, monkeypatch):
    path = tmp_path / "keep.wav"
    original = (0.1 * np.ones(100)).astype(np.float32)
    write_wav(path, original, 8000, subtype="FLOAT")
    before = path.read_bytes()

    real_write = sf.SoundFile.write

    def crash(self, data):
        real_write(self, data[: len(data) // 2])  # half a file on disk, then the failure
        raise OSError("disk full")

    monkeypatch.setattr(sf.SoundFile, "write", crash)
    with pytest.raises(OSError, match="disk full"):
        write_wav(path, np.zeros(100), 8000)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["keep.wav"]


def test_write_wav_clips_integer_formats(tmp_path):
    path = write_wav(tmp_path / "loud.wav", np.array([2.0, -2.0, 0.5]), 8000)
    y, _ = read_audio(path)
    assert np.abs(y).max() <= 1.0


def test_write_wav_needs_an_extension(tmp_path):
    from skdenoise import AudioError

    with pytest.raises(AudioError, match="extension"):
        write_wav(tmp_path / "noext", np.zeros(10), 8000)


def test_flac_output_by_extension(tmp_path):
    path = write_wav(tmp_path / "x.flac", 0.1 * np.ones(100), 8000)
    assert sf.info(path).format == "FLAC"


def test_written_files_get_ordinary_permissions_not_the_temporary_files(tmp_path):
    """A new file gets 0o666 less the umask; a replaced file keeps its mode."""
    import stat

    from skdenoise.audio import _UMASK

    wave = np.zeros(800, np.float32)
    new = write_wav(tmp_path / "new.wav", wave, 8000)
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o666 & ~_UMASK
    kept = tmp_path / "kept.wav"
    write_wav(kept, wave, 8000)
    os.chmod(kept, 0o640)
    write_wav(kept, wave + 0.1, 8000)
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o640


def test_fit_length_cuts_or_zero_pads_the_last_axis():
    from skdenoise.audio import fit_length

    x = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(fit_length(x, 2), [[1, 2], [4, 5]])
    np.testing.assert_array_equal(fit_length(x, 4), [[1, 2, 3, 0], [4, 5, 6, 0]])
    np.testing.assert_array_equal(fit_length(x[0], 3), [1, 2, 3])
