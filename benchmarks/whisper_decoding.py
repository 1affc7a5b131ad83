"""How Whisper tiny.en decodes noisy speech: greedy decoding's repetition loops and the guard.

    python benchmarks/whisper_decoding.py --speech runs/realistic/train_speech_8k.tsv \
        --noise runs/realistic/train_noise_8k.tsv --n 90

Greedy decoding (the yardstick's recogniser) sometimes falls into a repetition loop on
noisy or band-limited speech and writes one phrase until the decoder's 224-token limit;
one such file adds some 200 errors to a corpus WER. This compares decodings on the
*training side* (the transcribed mixtures of ``asr_preset.py``: the validation speakers and
noises of the training run, -5 to 15 dB through the telephone channel and rooms), never on
the dev set: the clean sentences, the noisy mixtures and the shipped model's output, with
the corpus WER and the number of transcripts that fail Whisper's compression test (zlib
ratio above 2.4, a loop).

Decodings: plain greedy (``WhisperTranscriber(loop_guard=False)``), greedy with the loop
guard (the default: a failed segment is decoded again without repeated trigrams), and, for
comparison, faster-whisper options applied to every file: no repeated trigram, a repetition
penalty of 1.1, timestamps on, beam search of 5.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

#: faster-whisper options beside plain greedy decoding, applied to every file.
ALWAYS = {
    "greedy, no repeated trigram (every file)": {"no_repeat_ngram_size": 3},
    "greedy, repetition penalty 1.1 (every file)": {"repetition_penalty": 1.1},
    "greedy with timestamps": {"without_timestamps": False},
    "beam search 5": {"beam_size": 5},
}


def looped(text: str) -> bool:
    """Whisper's test of a failed decode (the loop guard's), on a whole transcript."""
    from faster_whisper.transcribe import get_compression_ratio

    from skdenoise.asr import LOOP_COMPRESSION_RATIO

    return get_compression_ratio(text) > LOOP_COMPRESSION_RATIO


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speech", required=True, action="append")
    parser.add_argument("--noise", required=True, action="append")
    parser.add_argument("--n", type=int, default=90, help="transcribed mixtures")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from asr_preset import selection_set
    from machine import describe

    from skdenoise.asr import WhisperTranscriber
    from skdenoise.metrics import wer
    from skdenoise.pipeline import load_pretrained

    rate = 8000
    noisy, clean, texts, _, _ = selection_set(
        args.speech, args.noise, rate=rate, n=args.n, seed=args.seed
    )
    enhanced = load_pretrained(rate).predict(noisy, sample_rate=rate)
    conditions = {"clean": clean, "noisy": noisy, "shipped model": list(enhanced)}

    plain = WhisperTranscriber(cpu_threads=args.threads, loop_guard=False)
    decoders = {
        "greedy (plain; the yardstick until now)": plain.transcribe,
        "greedy with the loop guard (default now)": WhisperTranscriber(
            cpu_threads=args.threads
        ).transcribe,
    }
    for name, options in ALWAYS.items():
        decoders[name] = lambda w, r, options=options: " ".join(
            s.text.strip() for s in plain._decode(plain._at_rate(np.asarray(w), r), **options)
        ).strip()

    minutes = sum(len(x) for x in noisy) / rate / 60
    print(
        f"{len(noisy)} transcribed mixtures ({minutes:.1f} min), validation speakers and "
        f"noises, -5 to 15 dB, seed {args.seed}; Whisper tiny.en int8, {args.threads} threads; "
        f"{describe()}"
    )
    print(
        "| decoding | "
        + " | ".join(f"{c} WER | loops" for c in conditions)
        + " | seconds |\n|---|"
        + "---|---|" * len(conditions)
        + "---|"
    )
    for name, decode in decoders.items():
        started = time.time()
        cells = []
        for waves in conditions.values():
            hypotheses = [decode(w, rate) for w in waves]
            cells.append(f"{100 * wer(texts, hypotheses):.1f}% | {sum(map(looped, hypotheses))}")
        print(f"| {name} | " + " | ".join(cells) + f" | {time.time() - started:.0f} |", flush=True)


if __name__ == "__main__":
    main()
