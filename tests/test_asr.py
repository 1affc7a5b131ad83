"""The offline recogniser and the transcriber protocol."""

import socket

import numpy as np
import pytest

from skdenoise.asr import CachedTranscriber, PocketSphinxTranscriber, as_transcriber
from tests.conftest import syllables


@pytest.fixture(scope="module")
def sphinx():
    return PocketSphinxTranscriber()


def test_pocketsphinx_hears_words_in_speech_like_audio(sphinx):
    for rate in (16000, 8000):  # 8 kHz is upsampled inside the transcriber
        text = sphinx.transcribe(syllables(rate=rate), rate)
        assert isinstance(text, str) and text.strip()


def test_runs_with_the_network_disabled(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    fresh = PocketSphinxTranscriber()  # loads its model files from the wheel
    assert fresh.transcribe(syllables(rate=16000), 16000).strip()


def test_same_recording_decodes_the_same_whatever_came_before(sphinx):
    target = syllables("ta ko mi", rate=16000, seed=1)
    first = sphinx.transcribe(target, 16000)
    for prior in ("do re mi fa so", "ba di gu ke po"):
        sphinx.transcribe(syllables(prior, rate=16000, seed=2) * 0.2, 16000)
        assert sphinx.transcribe(target, 16000) == first


def test_pickles_without_its_decoder(sphinx):
    import pickle

    sphinx.transcribe(syllables(rate=16000), 16000)
    clone = pickle.loads(pickle.dumps(sphinx))
    assert clone.transcribe(syllables(rate=16000), 16000) == sphinx.transcribe(
        syllables(rate=16000), 16000
    )


def test_any_callable_is_a_transcriber():
    wrapped = as_transcriber(lambda wave, rate: f"{len(wave)} at {rate}")
    assert wrapped.transcribe(np.zeros(10), 8000) == "10 at 8000"
    with pytest.raises(TypeError, match="transcribe"):
        as_transcriber(42)


def test_cache_decodes_each_audio_once():
    calls = []
    cached = CachedTranscriber(as_transcriber(lambda w, r: calls.append(1) or "x"))
    a = np.ones(100, np.float32)
    for _ in range(3):
        cached.transcribe(a, 8000)
    cached.transcribe(a, 16000)  # another rate is other audio
    cached.transcribe(a * 2, 8000)
    assert len(calls) == 3 and cached.hits == 2


class _Counting:
    """A transcriber with a stable repr that counts its decodings."""

    def __init__(self, name: str = "a"):
        self.name = name
        self.calls = 0

    def __repr__(self) -> str:
        return f"Counting({self.name!r})"

    def transcribe(self, waveform, sample_rate):
        self.calls += 1
        return f"{self.name} {len(waveform)}"


def test_transcript_file_is_read_back_by_later_runs(tmp_path):
    path = tmp_path / "cache" / "transcripts.jsonl"
    a, b = np.ones(100, np.float32), np.ones(200, np.float32)
    first = _Counting()
    CachedTranscriber(first, path=path).transcribe(a, 8000)
    assert first.calls == 1 and path.exists()

    again = _Counting()
    cached = CachedTranscriber(again, path=path)
    assert cached.transcribe(a, 8000) == "a 100" and again.calls == 0
    cached.transcribe(b, 8000)
    assert again.calls == 1

    other = _Counting("b")  # another recogniser never reads the first one's transcripts
    assert CachedTranscriber(other, path=path).transcribe(a, 8000) == "b 100"
    assert other.calls == 1


def test_transcript_file_survives_a_cut_line_and_pickling(tmp_path):
    import pickle

    path = tmp_path / "t.jsonl"
    a = np.ones(100, np.float32)
    CachedTranscriber(_Counting(), path=path).transcribe(a, 8000)
    with open(path, "a") as fh:
        fh.write('{"key": "abc", "te')  # a crash in the middle of a line
    revived = pickle.loads(pickle.dumps(CachedTranscriber(_Counting(), path=path)))
    assert revived.transcribe(a, 8000) == "a 100" and revived.transcriber.calls == 0
    b = np.ones(300, np.float32)
    revived.transcribe(b, 8000)  # appended on a line of its own
    later = CachedTranscriber(_Counting(), path=path)
    assert later.transcribe(b, 8000) == "a 300" and later.transcriber.calls == 0


def test_transcript_file_needs_a_stable_repr(tmp_path):
    class NoRepr:
        def transcribe(self, waveform, sample_rate):
            return ""

    with pytest.raises(ValueError, match="repr"):
        CachedTranscriber(NoRepr(), path=tmp_path / "t.jsonl")
