"""Unpaired and many-domain translation on the drawn faces, measured against the truth real data never has.

    python tests/benchmarks/bench_unpaired.py --family cyclegan [--domains smile] [--minutes 10]
    python tests/benchmarks/bench_unpaired.py --family discogan [--option gan_curriculum=2000]
    python tests/benchmarks/bench_unpaired.py --family stargan --minutes 15

Trains the family's CPU default at 32 px (RGB faces) for the given wall-clock minutes on this machine's
cores, then measures on the run's held-out faces (ganstudio/metrics/domains.py):

- two domains: the share of translations whose domain factor the attribute model reads on the other
  side (target ≥ 0.90), the change of yaw and hair colour as a share of their range (target < 0.10), and
  the L1 to each face's counterfactual over the identity mapping's (target ≤ 0.6), over the whole image
  and over the pixels the counterfactual changes.
- StarGAN: each held-out face with each of the five attributes flipped in turn: the share whose
  requested attribute the attribute model reads (target ≥ 0.85) and the share of unrequested ones kept
  (target ≥ 0.85).

The same readings of the real counterfactuals (or real attributes) are printed as the ceiling the
attribute model allows. The attribute model is trained before the clock starts.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

from ganstudio.config import RunConfig
from ganstudio.data import load_dataset
from ganstudio.metrics.domains import attribute_quality, face_attributes_read, unpaired_quality
from ganstudio.metrics.features import domain_features
from ganstudio.models import family_class
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer

SAMPLES = 500


def numbers(pairs: list[str]) -> dict[str, float]:
    """NAME=VALUE pairs; whole numbers as int (a seed must be one)."""
    return {k: int(v) if v.lstrip("-").isdigit() else float(v) for k, v in (p.split("=", 1) for p in pairs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="cyclegan", choices=("cyclegan", "discogan", "stargan"))
    parser.add_argument("--domains", default="smile")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--width", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--option", action="append", default=[], help="a family option, NAME=VALUE")
    parser.add_argument("--train", action="append", default=[], help="a training setting, NAME=VALUE (e.g. lr_d=6e-4)")
    parser.add_argument("--out", default=None, help="keep the run folder here")
    args = parser.parse_args()
    os.environ.setdefault("GANSTUDIO_CACHE", tempfile.mkdtemp(prefix="ganstudio-bench-cache-"))
    two_domains = args.family != "stargan"
    data = {"image_size": 32, "channels": 3, **({"domains": args.domains} if two_domains else {})}
    train = {**family_class(args.family).train_defaults(), "max_minutes": args.minutes, "epochs": 10**6,
             "device": "cpu", "eval_every": 0, "sample_every": 1000, "checkpoint_every": 10**6}
    if args.batch_size:
        train["batch_size"] = args.batch_size
    train |= numbers(args.train)
    config = RunConfig().replace(data=data, model={"family": args.family, "width": args.width,
                                                   "options": numbers(args.option)}, train=train)
    # Ceiling first, and the attribute model trained before the clock starts.
    faces = load_dataset(config.data)
    features = domain_features(config.data, faces)
    out = args.out or tempfile.mkdtemp(prefix="bench-unpaired-")
    start = time.perf_counter()
    trainer = Trainer(config, out=out, report_interval_s=1.0)
    ended = trainer.run()
    minutes = (time.perf_counter() - start) / 60
    snapshot = GeneratorSnapshot.from_checkpoint(ended.checkpoint)
    _, held = family_class(args.family).split_data(faces, config.train.num_samples, config.train.seed)
    print(f"{args.family} {'on ' + args.domains if two_domains else ''}: {ended.step:,} steps in {minutes:.1f} min "
          f"(width {trainer.family.width}, batch {config.train.batch_size}, lr G {config.train.lr_g:g} D "
          f"{config.train.lr_d:g}, seed {config.train.seed}, {trainer.family.precision()}, options {config.model.options}); "
          f"run: {trainer.run_folder.path}")
    if two_domains:
        record = unpaired_quality(snapshot, held, features, SAMPLES)
        truth = held.counterfactuals.permute(0, 2, 3, 1).numpy()
        read = features.attributes.predict(torch.from_numpy(truth).permute(0, 3, 1, 2).float() / 127.5 - 1)
        column = features.attributes.names.index(args.domains)
        from ganstudio.data.faces import DOMAINS
        ceiling = float(((read[:, column] > DOMAINS[args.domains][0]) == (held.domains.numpy() == 0)).mean())
        print(f"  flipped            {record['flipped']:.3f}   (target >= 0.90; the real counterfactuals read "
              f"flipped: {ceiling:.3f}); A -> B {record['flipped_ab']:.3f}, B -> A {record['flipped_ba']:.3f}")
        for key in ("yaw_change", "hair_change"):
            if key in record:
                print(f"  {key:<18} {record[key]:.3f}   (target < 0.10 of the range)")
        print(f"  counterfactual L1  {record['counterfactual_l1']:.4f} = {record['counterfactual_ratio']:.2f} x the "
              f"identity mapping's (target <= 0.6); on the changed pixels "
              f"{record['counterfactual_ratio_changed']:.2f} x")
        print(f"  FID A->B {record['fid_domain_ab']:.2f}, B->A {record['fid_domain_ba']:.2f} (domain features)")
    else:
        record = attribute_quality(snapshot, held, features, SAMPLES)
        images = held.images[:SAMPLES].permute(0, 2, 3, 1).numpy()
        right = face_attributes_read(features, images) == (held.attributes[:SAMPLES].numpy() > 0.5)
        print(f"  requested          {record['requested']:.3f}   (target >= 0.85; the attribute model reads the "
              f"real faces' attributes right on {right.mean():.3f}: "
              + ", ".join(f"{n} {v:.3f}" for n, v in zip(snapshot.domain_names, right.mean(0), strict=True)) + ")")
        print(f"  kept               {record['kept']:.3f}   (target >= 0.85)")
        print(f"  requested (D)      {record['requested_by_d']:.3f}   (the model's own classifier)")
        real = held.attributes[:SAMPLES].numpy() > 0.5
        d_right = (snapshot.read_attributes(images) > 0.5) == real
        print(f"  D reads the real held-out faces' attributes right on {d_right.mean():.3f}: "
              + ", ".join(f"{n} {v:.2f}" for n, v in zip(snapshot.domain_names, d_right.mean(0), strict=True)))
        print(f"  FID                {record['fid_domain']:.2f} (domain features)")
    print("  per-attribute/factor detail:", {k: round(v, 3) for k, v in record.items()})


if __name__ == "__main__":
    main()
