"""SEGAN on the built-in synthesised speech, in a few minutes of this machine's CPU.

    python tests/benchmarks/bench_segan.py [--minutes 10] [--option pre_emphasis=0] [--width 8] [--window 4096]
    python tests/benchmarks/bench_segan.py --run RUN [--wav-dir DIR]   # measure a trained run (and real speech)

Trains the family's CPU default (noises babble and white at 0, 5, 10 and 15 dB) for the given wall-clock
minutes, then mixes the run's held-out clean clips afresh with each noise at each SNR and reports the
segmental SNR of the noisy input and of the enhanced output (ganstudio/metrics/speech.py).
Target (issue 17): at 5 dB, the enhanced segSNR ≥ the noisy input's + 5 dB, for babble and for white.

``--wav-dir``: speech no one synthesised (e.g. Debian's pocketsphinx-testdata, flite voices), read at 16 kHz,
cut into the run's windows and mixed the same way — the same table for real recordings.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from ganstudio.audio import read_wav
from ganstudio.config import RunConfig
from ganstudio.data import load_dataset
from ganstudio.data.noise import make_noise, mix_at_snr
from ganstudio.enhance import enhance_clips
from ganstudio.metrics.speech import segmental_snr, snr
from ganstudio.models import family_class
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer

NOISES = ("babble", "white")
SNRS = (0.0, 5.0, 10.0, 15.0)
CLIPS = 200


def table(snapshot: GeneratorSnapshot, clean: np.ndarray, title: str) -> None:
    """Mix (N, L) clean clips with each noise at each SNR, enhance, print segSNR and SNR before/after."""
    print(f"\n{title}: {len(clean)} clips of {clean.shape[1]} samples")
    print(f"  {'noise':8} {'SNR dB':>6}   {'segSNR noisy':>12} {'enhanced':>9} {'gain':>6}   "
          f"{'SNR noisy':>9} {'enhanced':>9}")
    for noise in NOISES:
        for level in SNRS:
            rng = np.random.default_rng(int(level) * 7 + len(noise))
            mixed = [mix_at_snr(c, make_noise(noise, len(c), rng), level) for c in clean]
            noisy, target = (np.stack(side) for side in zip(*mixed))
            enhanced = enhance_clips(snapshot, noisy)
            before, after = segmental_snr(target, noisy).mean(), segmental_snr(target, enhanced).mean()
            print(f"  {noise:8} {level:6.1f}   {before:12.2f} {after:9.2f} {after - before:+6.2f}   "
                  f"{snr(target, noisy).mean():9.2f} {snr(target, enhanced).mean():9.2f}", flush=True)


def recorded_clips(folder: Path, window: int) -> np.ndarray:
    """Voiced windows of every WAV under ``folder`` (RMS above -45 dBFS), up to CLIPS."""
    clips = []
    for path in sorted(folder.rglob("*.wav")):
        x = read_wav(path).samples
        for start in range(0, len(x) - window + 1, window):
            piece = x[start:start + window]
            if np.sqrt(np.mean(piece**2)) > 10 ** (-45 / 20):
                clips.append(piece)
    return np.stack(clips[:CLIPS])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--width", type=int)
    parser.add_argument("--window", type=int, default=4096)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--seed", type=int, help="the training seed: initial weights, batch order and which "
                        "clips are held out (default 0)")
    parser.add_argument("--threads", type=int, help="CPU threads (default: the engine's, 2 at most)")
    parser.add_argument("--option", action="append", default=[])
    parser.add_argument("--lr-g", type=float, help="G's learning rate (default: the family's, 1e-3)")
    parser.add_argument("--lr-d", type=float, help="D's learning rate (default: the family's, 2e-4)")
    parser.add_argument("--fp32", action="store_true", help="no bf16, also on a CPU that has it")
    parser.add_argument("--run", help="measure this run instead of training one")
    parser.add_argument("--wav-dir", type=Path, help="also measure on the recorded speech under this folder")
    args = parser.parse_args()
    os.environ.setdefault("GANSTUDIO_CACHE", tempfile.mkdtemp(prefix="ganstudio-bench-cache-"))
    if args.run:
        snapshot = GeneratorSnapshot.from_checkpoint(args.run)
        config = snapshot.config
    else:
        options = {k: float(v) for k, v in (o.split("=", 1) for o in args.option)}
        train = {**family_class("segan").train_defaults(), "max_minutes": args.minutes, "epochs": 10**6,
                 "device": "cpu", "eval_every": 500, "sample_every": 500, "checkpoint_every": 10**6}
        if args.batch_size:
            train["batch_size"] = args.batch_size
        train |= {key: value for key, value in (("lr_g", args.lr_g), ("lr_d", args.lr_d)) if value}
        if args.threads:
            train["threads"] = args.threads
        if args.seed is not None:
            train["seed"] = args.seed
        if args.fp32:
            train["amp"] = False
        config = RunConfig().replace(data={"dataset": "speech", "window": args.window},
                                     model={"family": "segan", "width": args.width, "options": options}, train=train)
        load_dataset(config.data)  # synthesised (and cached) before the clock starts
        start = time.perf_counter()
        trainer = Trainer(config, out=tempfile.mkdtemp(prefix="bench-segan-"), report_interval_s=1.0)
        ended = trainer.run()
        print(f"segan: {ended.step:,} steps in {(time.perf_counter() - start) / 60:.1f} min (width "
              f"{trainer.family.width}, window {args.window}, batch {config.train.batch_size}, threads "
              f"{config.train.threads or 'default'}, seed {config.train.seed}, lr G {config.train.lr_g:g} D "
              f"{config.train.lr_d:g}, {trainer.family.precision()}, options {config.model.options}); run: {trainer.run_folder.path}")
        snapshot = GeneratorSnapshot.from_checkpoint(ended.checkpoint)
    data = load_dataset(config.data)
    _, held = family_class("segan").split_data(data, config.train.num_samples, config.train.seed)
    table(snapshot, held.clean[:CLIPS, 0].float().numpy() / 32768, "held-out synthesised speech")
    if args.wav_dir:
        table(snapshot, recorded_clips(args.wav_dir, config.data.window), f"recorded speech under {args.wav_dir}")


if __name__ == "__main__":
    main()
