"""Command line: ``ganstudio`` opens the app; sub-commands do the same work headless.

    ganstudio train --family dcgan --dataset faces --image-size 64 --channels 3 --epochs 5
    ganstudio train --resume runs/<run> --epochs 10
    ganstudio sample runs/<run> -n 64 -o grid.png
    ganstudio directions runs/<run> --method sefa -k 10 -o dirs.json
    ganstudio traverse runs/<run> --direction dirs.json:0 --seed 3 -o strip.png
    ganstudio eval runs/<run> [--features inception_standard]
    ganstudio upscale runs/<srgan run> photo.jpg -o photo_x4.png [--alpha 0.5]   # or a folder -> a folder
    ganstudio enhance runs/<segan run> noisy.wav -o enhanced.wav                  # or a folder -> a folder
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import sys
import time
from pathlib import Path

from ganstudio import distributed
from ganstudio.config import DOMAIN_FACTORS, FEATURE_KINDS, IMAGE_SIZES, PAIR_TRANSFORMS, RunConfig
from ganstudio.errors import UserError
from ganstudio.events import format_duration
from ganstudio.training.engine import TrainerCallback

EPILOG = "Run 'ganstudio COMMAND --help' for a command's options."


def build_parser() -> argparse.ArgumentParser:
    from ganstudio.data import list_datasets
    from ganstudio.models import list_families

    parser = argparse.ArgumentParser(
        prog="ganstudio", epilog=EPILOG,
        description="Train a GAN on your own images, watch it learn live, explore its latent space. "
                    "Without a command, the desktop app opens.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("gui", help="open the desktop app (the default)", description="Open the desktop app.")

    train = sub.add_parser("train", help="train a GAN headless (servers, scripts)",
                           description="Train a GAN without the GUI. Writes a run folder with config.json, "
                                       "metrics.jsonl, sample grids and checkpoints. Ctrl-C stops after the "
                                       "current step and saves a checkpoint.")
    families = list_families()
    datasets = list_datasets()
    g = train.add_argument_group("what to train")
    g.add_argument("--family", choices=list(families), help="GAN family (default: dcgan). " +
                   "; ".join(f"{n}: {c.description}" for n, c in families.items()))
    g.add_argument("--dataset", choices=list(datasets), help="data set (default: faces; segan: speech). " +
                   "; ".join(f"{n}: {d}" for n, d in datasets.items()))
    g.add_argument("--data-root", metavar="DIR",
                   help="image folder (folder data set), paired folder (pairs: A/ and B/, or side-by-side "
                        "images), or torchvision root (MNIST files in DIR/MNIST/raw/)")
    g.add_argument("--image-size", type=int, choices=IMAGE_SIZES,
                   help="image size in pixels (default: 28; pix2pix: 32 to 256)")
    g.add_argument("--channels", type=int, choices=(1, 3), help="1 grey or 3 RGB (default: 1)")
    g.add_argument("--num-images", type=int, metavar="N", help="use at most N images")
    g.add_argument("--labels", action="store_true", default=None,
                   help="image folders: sub-folders are classes (StarGAN: domains)")
    g.add_argument("--domains", choices=DOMAIN_FACTORS,
                   help="faces as two unpaired domains for CycleGAN/DiscoGAN, split by this factor: serious | "
                        "smiling, light | dark hair, looking left | right, lit from the left | right")
    g.add_argument("--attributes", metavar="FILE",
                   help="image folders: binary attributes per image for StarGAN (CelebA's list_attr_celeba.txt "
                        "layout, or a CSV with a header row)")
    g.add_argument("--pair-from", choices=PAIR_TRANSFORMS,
                   help="paired data for pix2pix: each image's input made by this transform (edges: a line "
                        "drawing; grey: its luminance; blur; downscale: 4x smaller; relight, faces only: the "
                        "face lit from the other side)")
    g.add_argument("--window", type=int, metavar="N",
                   help="speech: samples per clip at 16 kHz, a power of two (default: 4,096; the SEGAN paper: 16,384)")
    g.add_argument("--noise", metavar="KINDS", type=_names,
                   help="speech: the noises mixed in, taking turns, comma-separated: white, pink, brown, hum, babble, "
                        "folder (the WAVs of --noise-root) (default: babble,white)")
    g.add_argument("--snr", metavar="DB", type=_numbers,
                   help="speech: the signal-to-noise ratios in dB to mix at, one drawn per clip (default: 0,5,10,15)")
    g.add_argument("--noise-root", metavar="DIR", help="speech: a folder of noise WAV files (--noise folder)")
    g.add_argument("--latent-dim", type=int, metavar="N", help="size of z (default: 100)")
    g.add_argument("--width", type=int, metavar="N",
                   help="base channels of the convolutional families (default: 32, fast on a CPU; DCGAN's "
                        "tutorial uses 112 at 28 px, the paper 64 at 64 px)")
    g.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a family's own setting, repeatable: " + "; ".join(
                       f"{n}: {', '.join(f'{o.key} ({o.default:g})' for o in c.options)}"
                       for n, c in families.items() if c.options))
    g = train.add_argument_group("how to train")
    g.add_argument("--epochs", type=int, help="passes over the data (default: 5)")
    g.add_argument("--max-steps", type=int, metavar="N", help="stop after N steps in total")
    g.add_argument("--max-minutes", type=float, metavar="M", help="stop after M minutes (a checkpoint is saved)")
    g.add_argument("--batch-size", type=int, help="images per step (default: the family's; 60 as in the tutorial)")
    g.add_argument("--lr-g", type=float, help="generator learning rate (default: the family's; 2e-4 as in the tutorial)")
    g.add_argument("--lr-d", type=float, help="discriminator learning rate (default: the family's; 2e-4)")
    g.add_argument("--beta1", type=float, help="Adam beta1 (default: the family's; 0.5)")
    g.add_argument("--beta2", type=float, help="Adam beta2 (default: the family's; 0.999)")
    g.add_argument("--seed", type=int, help="random seed (default: 0)")
    g.add_argument("--device", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps (default: auto)")
    g.add_argument("--no-amp", dest="amp", action="store_false", default=None,
                   help="no bf16 mixed precision (on CUDA; on CPUs with bf16, for the families that use it)")
    g.add_argument("--threads", type=int, metavar="N", help="CPU threads for training")
    g.add_argument("--sample-every", type=int, metavar="N", help="steps between sample grids (default: 200)")
    g.add_argument("--checkpoint-every", type=int, metavar="N", help="steps between checkpoints (default: 1000)")
    g.add_argument("--eval-every", type=int, metavar="N",
                   help="steps between quality evaluations (FID, KID, precision/recall; default: 1000; 0: off)")
    g.add_argument("--eval-samples", type=int, metavar="N", help="images per quality evaluation (default: 1000)")
    g.add_argument("--eval-features", choices=FEATURE_KINDS,
                   help="feature network of the quality measures, as for 'eval --features' (default: domain)")
    g.add_argument("--stop-after-no-improvement", type=int, metavar="K",
                   help="stop when the FID has not improved for K evaluations (default: never)")
    g = train.add_argument_group("where")
    g.add_argument("--out", default="runs", metavar="DIR", help="parent folder of new runs (default: runs/)")
    g.add_argument("--tensorboard", action=argparse.BooleanOptionalAction,
                   help="also write TensorBoard event files under RUN/tb/ (default: on when the extra is installed: "
                        'pip install "ganstudio[tensorboard]")')
    g.add_argument("--resume", metavar="RUN", help="continue this run folder from its latest checkpoint")
    g.add_argument("--from-best", action="store_true",
                   help="with --resume: roll back to the checkpoint with the best FID instead of the latest "
                        "(the later checkpoints and grids are set aside in the run's branches/ folder)")
    g.add_argument("--lr-scale", type=float, metavar="X",
                   help="with --resume: multiply the learning rates by X from here on (--from-best: default 0.5, "
                        "so that the rollback does not replay the same path)")
    g.add_argument("--new-seed", type=int, nargs="?", const=-1, metavar="N",
                   help="with --resume: new noise and data order from seed N (random when N is left out)")

    sample = sub.add_parser("sample", help="generate images from a trained run",
                            description="Generate images with a run's generator. Translation models (pix2pix) "
                                        "draw rows of input | output | target from the run's held-out pairs.")
    sample.add_argument("run", help="run folder, or a checkpoint (.json/.safetensors)")
    sample.add_argument("-n", type=int, default=64, help="number of images or held-out pairs (default: 64)")
    sample.add_argument("--seed", type=int, default=0, help="seed of the random z (default: 0)")
    sample.add_argument("--checkpoint", metavar="FILE", help="a checkpoint of the run (default: the latest)")
    sample.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    sample.add_argument("--class", dest="label", metavar="NAME|INDEX",
                        help="conditional models: draw only this class (default: one row per class)")
    sample.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="OUT.png: one grid; a folder (existing, or ending in /): one PNG per image; "
                             "OUT.npz: the uint8 array (N, H, W, C) as 'images'")

    from ganstudio.latent.discover import DISCOVERY_METHODS

    directions = sub.add_parser("directions", help="find latent directions of a trained run",
                                description="Find directions in z that change one aspect of the images and "
                                            "write them as JSON (load them in the app's explorer, or use them "
                                            "with 'ganstudio traverse').")
    directions.add_argument("run", help="run folder, a checkpoint (.json/.safetensors), or an ONNX generator (.onnx)")
    directions.add_argument("--method", choices=list(DISCOVERY_METHODS), default="sefa",
                            help="; ".join(f"{n}: {d}" for n, d in DISCOVERY_METHODS.items()) + " (default: sefa)")
    directions.add_argument("-k", type=int, default=10, help="how many directions (default: 10)")
    directions.add_argument("--checkpoint", metavar="FILE", help="a checkpoint of the run (default: the latest)")
    directions.add_argument("--layer", help="pca: the non-linearity to take activations from (default: the first)")
    directions.add_argument("--samples", type=int, metavar="N", help="pca: codes to sample (default: 20000); "
                            "supervised: images to label (default: 3000)")
    directions.add_argument("--seed", type=int, default=0, help="seed of the sampled codes (default: 0)")
    directions.add_argument("--class", dest="label", metavar="NAME|INDEX",
                            help="conditional models: the class to explore (default: the first)")
    directions.add_argument("-o", "--output", required=True, metavar="FILE.json", help="where to write them")

    evaluate = sub.add_parser("eval", help="measure the sample quality of a trained run",
                              description="FID, KID, precision and recall of a checkpoint's samples against the "
                                          "run's real images, in a feature network's space; for faces also how "
                                          "well each factor is covered, for labelled data the classes. "
                                          "Translation models (pix2pix): L1, PSNR, SSIM and the FID of outputs "
                                          "against targets on the run's held-out pairs.")
    evaluate.add_argument("run", help="run folder, a checkpoint (.json/.safetensors), or an ONNX generator (.onnx)")
    evaluate.add_argument("--checkpoint", metavar="FILE", help="a checkpoint of the run (default: the latest)")
    evaluate.add_argument("-n", type=int, default=2000, help="generated and real images (default: 2000)")
    evaluate.add_argument("--features", choices=FEATURE_KINDS, default="domain",
                          help="domain: a net trained on the run's data (works offline); inception: "
                               "Inception-v3 with torchvision's ImageNet weights; inception_standard: the TF "
                               "Inception of published FIDs (pip install \"ganstudio[fid]\"); both download "
                               "once (default: domain)")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the generated and real samples")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")

    traverse = sub.add_parser("traverse", help="render a strip of images along a direction",
                              description="Move one z along a direction from -RANGE to +RANGE and render "
                                          "the images as one row (.png) or an animation (.gif).")
    traverse.add_argument("run", help="run folder, a checkpoint (.json/.safetensors), or an ONNX generator (.onnx)")
    traverse.add_argument("--direction", required=True, metavar="FILE.json:WHICH",
                          help="a direction file and which direction: its index (from 0) or its name")
    traverse.add_argument("--checkpoint", metavar="FILE", help="a checkpoint of the run (default: the latest)")
    traverse.add_argument("--seed", type=int, default=0, help="seed of the z to start from (default: 0)")
    traverse.add_argument("--class", dest="label", metavar="NAME|INDEX",
                          help="conditional models: the class to draw (default: the first)")
    traverse.add_argument("--steps", type=int, default=7, help="images in the strip (default: 7)")
    traverse.add_argument("--range", type=float, default=3.0, dest="extent",
                          help="strength at the ends, in the direction's units (default: 3)")
    traverse.add_argument("-o", "--output", required=True, metavar="OUT",
                          help="OUT.png: one row; OUT.gif or OUT.mp4 (needs ffmpeg): animated")
    translate = sub.add_parser("translate", help="translate images with an image-to-image run (pix2pix, CycleGAN, "
                                                 "DiscoGAN, StarGAN)",
                               description="Translate an image, or every image of a folder, with an image-to-image "
                                           "run: inputs are resized to the model's size and channels; outputs keep "
                                           "the input's file name.")
    translate.add_argument("run", help="run folder, a checkpoint (.json/.safetensors), or an ONNX generator (.onnx)")
    translate.add_argument("input", help="an image file, or a folder of images")
    translate.add_argument("-o", "--output", required=True, metavar="OUT",
                           help="an image file for one input; a folder for a folder")
    translate.add_argument("--checkpoint", metavar="FILE", help="a checkpoint of the run (default: the latest)")
    translate.add_argument("--noise-seed", type=int, default=0,
                           help="seed of the dropout noise pix2pix renders with (default: 0)")
    translate.add_argument("--direction", choices=("AtoB", "BtoA"),
                           help="CycleGAN and DiscoGAN: into domain B (AtoB, the default) or into A (BtoA)")
    translate.add_argument("--domain", metavar="NAME=VALUE,...",
                           help='StarGAN: the attributes to set, e.g. "smiling=1,hair_light=0" (values 0..1; '
                                "beyond that extrapolates); the others keep what the model's classifier reads "
                                "on each input")
    upscale = sub.add_parser("upscale", help="enlarge images with a super-resolution run (SRGAN)",
                             description="Enlarge an image, or every image under a folder, ×2 or ×4 with a "
                                         "super-resolution run. Images of any size are read at their own size "
                                         "(upright, transparency on white) and run tile by tile, without seams; "
                                         "outputs are PNG.")
    upscale.add_argument("run", help="run folder, a checkpoint (.json/.safetensors), or an ONNX generator (.onnx)")
    upscale.add_argument("input", help="an image file, or a folder of images (sub-folders included)")
    upscale.add_argument("-o", "--output", required=True, metavar="OUT",
                         help="OUT.png (or a folder) for one input; a folder for a folder (same relative paths)")
    upscale.add_argument("--checkpoint", metavar="FILE", help="a checkpoint of the run (default: the latest)")
    upscale.add_argument("--alpha", type=float, default=1.0,
                         help="blend of the weights: 0 the MSE phase's (smooth, faithful), 1 the GAN's (sharp, "
                              "invented detail) (default: 1)")
    upscale.add_argument("--tile", type=int, default=128, metavar="N",
                         help="input pixels per tile side; smaller needs less memory (default: 128)")
    enhance = sub.add_parser("enhance", help="remove noise from speech with a speech-enhancement run (SEGAN)",
                             description="Enhance a WAV file, or every WAV under a folder, with a SEGAN run. "
                                         "Files of any length, channels, bit depth and rate are read as 16 kHz "
                                         "mono and enhanced in half-overlapping windows; outputs are 16-bit "
                                         "16 kHz mono WAV.")
    enhance.add_argument("run", help="run folder, a checkpoint (.json/.safetensors), or an ONNX generator (.onnx)")
    enhance.add_argument("input", help="a WAV file, or a folder of them (sub-folders included)")
    enhance.add_argument("-o", "--output", required=True, metavar="OUT",
                         help="OUT.wav (or a folder) for one input; a folder for a folder (same relative paths)")
    enhance.add_argument("--checkpoint", metavar="FILE", help="a checkpoint of the run (default: the latest)")
    enhance.add_argument("--seed", type=int, default=0, help="the seed of G's z (default: 0)")
    project = sub.add_parser("project", help="find the z of a real image (GAN inversion) and edit it",
                             description="Project a real image into a z-model's latent space (the image is "
                                         "centre-cropped and resized like the training data), write its z as "
                                         "JSON, and optionally the reconstruction and an edit along named "
                                         "directions.")
    project.add_argument("run", help="run folder, or a checkpoint (.json/.safetensors)")
    project.add_argument("image", help="an image file")
    project.add_argument("-o", "--output", required=True, metavar="Z.json", help="where to write z (JSON)")
    project.add_argument("--checkpoint", metavar="FILE", help="a checkpoint of the run (default: the latest)")
    project.add_argument("--reconstruction", metavar="OUT.png", help="write G(z) here")
    project.add_argument("--edit", action="append", default=[], metavar="NAME=STRENGTH",
                         help="move z along a named direction, repeatable, e.g. --edit yaw=+2")
    project.add_argument("--edited", metavar="OUT.png", help="write the edited image here (with --edit)")
    project.add_argument("--directions", metavar="FILE.json",
                         help="directions to edit along (default: named from the data's factors or classes)")
    project.add_argument("--starts", type=int, default=12, help="random starts optimised together (default: 12)")
    project.add_argument("--steps", type=int, default=250, help="optimisation steps (default: 250)")
    # Not inception_standard: it reads uint8 pixels, through which no gradient flows.
    project.add_argument("--features", choices=("domain", "inception"), default="domain",
                         help="the perceptual term's network: domain (trained on the run's data, offline) or "
                              "inception (torchvision's weights when present; slow on a CPU) (default: domain)")
    project.add_argument("--pixels-only", action="store_true",
                         help="no perceptual term (no feature network to train or load)")
    export = sub.add_parser("export", help="write a run's generator as ONNX or TorchScript for other tools",
                            description="Write the generator of a run as ONNX (onnxruntime, TensorRT, the browser, "
                                        "other explorers) or TorchScript, with a JSON sidecar (G.onnx.json) that says "
                                        "what its inputs mean and how its outputs are scaled. The app's Explore "
                                        "tab opens ONNX generators (File → Open ONNX generator).")
    export.add_argument("run", help="run folder, or a checkpoint (.json/.safetensors)")
    export.add_argument("-o", "--output", required=True, metavar="G.onnx", help="the file to write (.onnx or .pt)")
    export.add_argument("--format", choices=("onnx", "torchscript"),
                        help="default: from the file name (.onnx: onnx, .pt: torchscript)")
    export.add_argument("--checkpoint", metavar="FILE", help="a checkpoint of the run (default: the latest)")
    return parser


# -- train ----------------------------------------------------------------------------------------

_DATA_ARGS = {"dataset": "dataset", "data_root": "root", "image_size": "image_size", "channels": "channels",
              "num_images": "num_images", "labels": "labels", "pair_from": "pair_from", "domains": "domains",
              "attributes": "attributes_file", "window": "window", "noise": "noises", "snr": "snrs",
              "noise_root": "noise_root"}
_MODEL_ARGS = {"family": "family", "latent_dim": "latent_dim", "width": "width"}
_TRAIN_ARGS = ("epochs", "max_steps", "max_minutes", "batch_size", "lr_g", "lr_d", "beta1", "beta2", "seed",
               "device", "amp", "threads", "sample_every", "checkpoint_every", "eval_every", "eval_samples",
               "eval_features", "stop_after_no_improvement", "tensorboard")


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _numbers(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(value) for value in _names(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, e.g. 0,5,10, not '{text}'") from None


def _given(args: argparse.Namespace, names) -> dict:
    pairs = names.items() if isinstance(names, dict) else ((n, n) for n in names)
    return {field: getattr(args, arg) for arg, field in pairs if getattr(args, arg) is not None}


def _parse_numbers(pairs: list[str], flag: str, example: str) -> dict[str, float]:
    """["KEY=NUMBER", ...] -> {key: number}; a malformed pair is a UserError naming ``flag``."""
    numbers = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        try:
            numbers[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not key.strip():
            raise UserError(f"{flag} needs KEY=NUMBER, e.g. {flag} {example}, not '{pair}'")
    return numbers


def cmd_train(args: argparse.Namespace) -> int:
    from ganstudio.config import ModelConfig
    from ganstudio.training.control import TrainingControl
    from ganstudio.training.engine import BranchChange, Trainer
    from ganstudio.training.tensorboard_log import INSTALL_HINT, tensorboard_available

    if args.tensorboard and not tensorboard_available():
        raise UserError(f"--tensorboard needs the TensorBoard extra: {INSTALL_HINT}")
    interactive = sys.stdout.isatty()
    report_interval = 0.1 if interactive else 1.0
    if (args.from_best or args.lr_scale is not None or args.new_seed is not None) and not args.resume:
        raise UserError("--from-best, --lr-scale and --new-seed go with --resume RUN")
    if args.resume:
        fixed = _given(args, _DATA_ARGS) | _given(args, _MODEL_ARGS) | ({"option": 1} if args.option else {})
        if fixed:
            raise UserError(f"a resumed run keeps its data and model; drop {', '.join(sorted(fixed))}")
        checkpoint = None
        if args.from_best:
            from ganstudio.training.runs import RunFolder

            best = RunFolder.open(args.resume).best_checkpoint()
            if best is None:
                raise UserError(f"{args.resume} has no checkpoint with a quality evaluation to roll back to")
            checkpoint = best[1]
        change = BranchChange(lr_scale=args.lr_scale if args.lr_scale is not None else 0.5 if args.from_best else 1.0,
                              seed=secrets.randbelow(2**31) if args.new_seed == -1 else args.new_seed)
        if args.from_best:
            print(f"Rolling back to step {best[0]:,} (FID {best[2]:.3g})"
                  + (f" with {change.describe()}." if change.describe() else "."), file=sys.stderr)
        trainer = Trainer.resume(args.resume, checkpoint, train_overrides=_given(args, _TRAIN_ARGS), change=change,
                                 report_interval_s=report_interval)
    else:
        from ganstudio.models import family_class

        given = _given(args, _MODEL_ARGS)
        family = given.get("family", ModelConfig().family)
        model = ModelConfig(**{"width": family_class(family).start_width(), **given},
                            options=_parse_numbers(args.option, "--option", "n_critic=5"))
        defaults = family_class(model.family).train_defaults()
        data = {"dataset": family_class(family).default_dataset} | _given(args, _DATA_ARGS)
        config = RunConfig().replace(data=data, model=model,
                                     train=defaults | _given(args, _TRAIN_ARGS))
        trainer = Trainer(config, out=args.out, report_interval_s=report_interval)

    control = TrainingControl()
    printer = TerminalProgress() if interactive else JsonLinesProgress()
    shard = distributed.start(trainer.config.train.device) if distributed.launched_by_torchrun() else None
    lead = shard is None or shard.lead

    def on_sigint(signum, frame):
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C interrupts at once
        if lead:
            printer.note("Stopping after this step (Ctrl-C again to abort without a checkpoint)...")
        control.stop()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        ended = trainer.run(control, callbacks=[printer] if lead else [])
    finally:
        signal.signal(signal.SIGINT, previous)
    if shard is not None:  # after an error torchrun ends the other processes; no barrier that would hang
        distributed.stop()
    return 0 if ended.reason in ("finished", "stopped", "time_limit", "no_improvement") else 1


class TerminalProgress(TrainerCallback):
    """A one-line progress bar rewritten in place: steps, epoch, losses, images/s, ETA."""

    def __init__(self, stream=sys.stdout, width: int = 24):
        self.stream, self.width = stream, width
        self.line_open = False

    def _write_line(self, text: str) -> None:
        self.stream.write("\r\033[K" + text)
        self.stream.flush()
        self.line_open = True

    def note(self, text: str) -> None:
        if self.line_open:
            self.stream.write("\n")
            self.line_open = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def on_step(self, e):
        filled = int(self.width * e.step / max(e.total_steps, 1))
        bar = "#" * filled + "-" * (self.width - filled)
        metrics = " ".join(f"{k}={v:.3f}" for k, v in e.metrics.items())
        self._write_line(f"[{bar}] {e.step}/{e.total_steps} ep {e.epoch:.2f} | {metrics} | "
                         f"{e.images_per_s:,.0f} img/s | {format_duration(e.elapsed_s)} ETA "
                         f"{format_duration(e.eta_s)}")

    def on_start(self, e):
        self.note(f"Run folder: {e.run_dir}\nDevice: {e.device}; steps {e.start_step}/{e.total_steps} "
                  f"({e.steps_per_epoch} per epoch)" + (f"\nResumed with {e.resumed}." if e.resumed else ""))

    def on_status(self, e):
        self.note(e.message)

    def on_warning(self, e):
        self.note(f"Warning: {e.message}")

    def on_quality(self, e):
        values = ", ".join(f"{k} {v:.3g}" for k, v in e.values.items() if not k.startswith("coverage_"))
        self.note(f"Quality at step {e.step} ({e.features}, {e.seconds:.1f} s): {values}")

    def on_end(self, e):
        self.note(e.message + (f"\nCheckpoint: {e.checkpoint}" if e.checkpoint else ""))


class JsonLinesProgress(TrainerCallback):
    """One JSON object per line and event, for logs and scripts (used when stdout is no terminal)."""

    def __init__(self, stream=sys.stdout):
        self.stream = stream

    def _emit(self, event: str, **fields) -> None:
        self.stream.write(json.dumps({"event": event, "time": round(time.time(), 3), **fields}, default=str) + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        self._emit("note", message=text)

    def on_start(self, e):
        self._emit("start", run_dir=e.run_dir, device=e.device, start_step=e.start_step, total_steps=e.total_steps,
                   resumed=e.resumed)

    def on_status(self, e):
        self._emit("status", step=e.step, message=e.message)

    def on_step(self, e):
        self._emit("step", step=e.step, total_steps=e.total_steps, epoch=round(e.epoch, 4),
                   images_per_s=round(e.images_per_s, 1), eta_s=None if e.eta_s is None else round(e.eta_s, 1),
                   **e.metrics)

    def on_checkpoint(self, e):
        self._emit("checkpoint", step=e.step, path=e.path)

    def on_warning(self, e):
        self._emit("warning", step=e.step, kind=e.kind, message=e.message)

    def on_quality(self, e):
        self._emit("quality", step=e.step, features=e.features, seconds=e.seconds, **e.values)

    def on_end(self, e):
        self._emit("end", step=e.step, reason=e.reason, message=e.message, checkpoint=e.checkpoint)


def _open_generator(args: argparse.Namespace):
    """The generator to render with: a run's checkpoint (``--checkpoint``, else the run folder's latest), or
    an ONNX generator (``RUN`` given as a .onnx file)."""
    from ganstudio.snapshot import GeneratorSnapshot

    if str(args.run).lower().endswith(".onnx") and not getattr(args, "checkpoint", None):
        from ganstudio.interop.onnx_generator import open_onnx_generator

        return open_onnx_generator(args.run)
    return GeneratorSnapshot.from_checkpoint(args.checkpoint or args.run)


# -- sample ---------------------------------------------------------------------------------------

def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from ganstudio.checkpoint import load_generator
    from ganstudio.images import image_grid, save_images, save_png
    from ganstudio.training.device import select_device

    if args.n < 1:
        raise UserError("-n must be at least 1")
    out = args.output
    as_folder = out.endswith(("/", "\\")) or Path(out).is_dir()
    if not as_folder and Path(out).suffix.lower() not in (".png", ".npz"):
        raise UserError(f"cannot tell what to write to '{out}': use a .png, a .npz or a folder ending in /")
    family, info, _ = load_generator(args.checkpoint or args.run, select_device(args.device))
    images, columns = _sampled_images(family, RunConfig.from_dict(info.config), args)
    path = Path(out)
    if as_folder:
        save_images(images, path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".png":
            save_png(image_grid(images, columns=columns), path)
        else:
            np.savez(path, images=images)
    print(f"Wrote {len(images)} images from step {info.step} to {path}")
    return 0


def _sampled_images(family, config: RunConfig, args: argparse.Namespace):
    """(images (N, H, W, C) uint8, grid columns or None): z families draw ``-n`` z (one row per class, or
    ``--class``); translation families give their grid's rows (e.g. input | output | target) for ``-n``
    held-out inputs."""
    import torch

    from ganstudio.data.base import LABEL, NOISY, SOURCE
    from ganstudio.images import to_uint8

    if args.label is not None and not family.takes(LABEL):
        raise UserError(f"{family.name} is not conditional: it has no classes to choose from")
    if family.takes(SOURCE) or family.takes(NOISY):
        inputs = family.fixed_inputs(args.n, torch.Generator().manual_seed(args.seed), _held_out_batch(config, args.n))
        tiles, columns = family.sample_tiles(inputs, family.render(inputs))
        return to_uint8(tiles), columns
    z = family.sample_latent(args.n, generator=torch.Generator().manual_seed(args.seed))
    if not family.takes(LABEL):
        return to_uint8(family.generate(z)), None
    if args.label is not None:
        return to_uint8(family.generate(z, torch.full((args.n,), _class_index(args.label, family.class_names)))), None
    columns = -(-args.n // len(family.class_names))  # one row per class
    return to_uint8(family.generate(z, torch.arange(args.n) // columns)), columns


def _held_out_data(config: RunConfig):
    """The run's held-out data (translation families: the pairs kept out of training)."""
    from ganstudio.data import load_dataset
    from ganstudio.models import family_class

    _, held = family_class(config.model.family).split_data(load_dataset(config.data), config.train.num_samples,
                                                           config.train.seed)
    return held


def _held_out_batch(config: RunConfig, n: int):
    """The first ``n`` held-out pairs as a batch: {"source", "image"} in [-1, 1]."""
    from ganstudio.data.batches import as_model_input

    held = _held_out_data(config)
    return as_model_input({name: t[:n] for name, t in held.tensors().items()})


# -- directions and traversals --------------------------------------------------------------------

def cmd_directions(args: argparse.Namespace) -> int:
    from ganstudio.latent.directions import save_directions
    from ganstudio.latent.discover import discover_directions

    if not args.output.lower().endswith(".json"):
        raise UserError(f"directions are written as JSON: give an output ending in .json, not '{args.output}'")
    if args.k < 1:
        raise UserError("-k must be at least 1")
    snapshot = _snapshot(args)
    found = discover_directions(snapshot, args.method, args.k, args.layer, args.samples, args.seed)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    save_directions(found, args.output, snapshot.latent_dim)
    print(f"{len(found)} {args.method} directions of {snapshot.source} (layer {found[0].layer}):")
    for i, d in enumerate(found):
        print(f"  {i:>2}  {d.name:<14} score {d.score:.4g}")
    print(f"Wrote {args.output}")
    return 0


def _class_index(spec: str, class_names: tuple[str, ...]) -> int:
    """A class given by index or name -> its index."""
    if spec.isdigit() and int(spec) < len(class_names):
        return int(spec)
    if spec in class_names:
        return class_names.index(spec)
    raise UserError(f"no class '{spec}'; the classes are: " + ", ".join(f"{i} {n}" for i, n in enumerate(class_names)))


def _snapshot(args: argparse.Namespace):
    """The run's generator for directions and traversals, bound to ``--class`` if the model is conditional."""

    snapshot = _open_generator(args)
    if snapshot.translates:
        raise UserError(f"{snapshot.config.model.family} translates images; it has no z to find directions in")
    if args.label is None:
        return snapshot
    if snapshot.label is None:
        raise UserError("this model is not conditional: it has no classes to choose from")
    return snapshot.with_label(_class_index(args.label, snapshot.class_names))


def _pick_direction(spec: str, latent_dim: int):
    from ganstudio.latent.directions import load_directions

    path, sep, which = spec.rpartition(":")
    if not sep or not path:
        raise UserError(f"--direction needs FILE.json:WHICH (an index or a name), not '{spec}'")
    found = load_directions(path, latent_dim)
    if which.isdigit():
        if int(which) >= len(found):
            raise UserError(f"{path} holds {len(found)} directions (0 to {len(found) - 1}); there is no {which}")
        return found[int(which)]
    named = [d for d in found if d.name == which]
    if not named:
        raise UserError(f"{path} has no direction named '{which}'; it has: {', '.join(d.name for d in found)}")
    return named[0]


def cmd_traverse(args: argparse.Namespace) -> int:
    import torch

    from ganstudio.images import save_gif, save_mp4, save_png
    from ganstudio.latent.discover import strip, traversal_frames

    suffix = Path(args.output).suffix.lower()
    if suffix not in (".png", ".gif", ".mp4"):
        raise UserError(f"cannot tell what to write to '{args.output}': use .png (a strip), .gif or .mp4 (animated)")
    if args.steps < 2:
        raise UserError("--steps must be at least 2")
    snapshot = _snapshot(args)
    direction = _pick_direction(args.direction, snapshot.latent_dim)
    z = torch.randn(1, snapshot.latent_dim, generator=torch.Generator().manual_seed(args.seed))[0].numpy()
    frames = traversal_frames(snapshot, direction, z, args.steps, args.extent)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        save_png(strip(frames), args.output)
    else:
        there_and_back, scale = list(frames) + list(frames[::-1][1:-1]), max(1, 192 // frames.shape[1])
        if suffix == ".gif":
            save_gif(there_and_back, args.output, frame_ms=100, scale=scale)
        else:
            save_mp4(there_and_back, args.output, fps=10, scale=scale)
    print(f"Wrote {args.steps} images along '{direction.name}' from {-args.extent:g} to {args.extent:g} "
          f"to {args.output}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import torch

    from ganstudio.data import load_dataset
    from ganstudio.metrics.evaluate import evaluate
    from ganstudio.metrics.features import feature_network
    from ganstudio.metrics.translation import held_out_quality

    if args.n < 10:
        raise UserError("-n must be at least 10")
    start = time.perf_counter()
    snapshot = _open_generator(args)
    if snapshot.enhances:  # speech: against the clean clips the run held out, no feature network
        values = held_out_quality(snapshot, _held_out_data(snapshot.config), None, args.n)
        if args.json:
            print(json.dumps({"step": snapshot.step, **values}))
            return 0
        print(f"{snapshot.source}: up to {args.n} held-out clips ({time.perf_counter() - start:.1f} s)")
        for key, value in values.items():
            print(f"  {key:<24} {value:.4g}")
        return 0
    data = load_dataset(snapshot.config.data)
    features, note = feature_network(args.features, snapshot.config.data, data)
    if note:
        print(f"note: {note}", file=sys.stderr)
    if snapshot.translates:  # on the data the run held out
        held = _held_out_data(snapshot.config)
        values = held_out_quality(snapshot, held, features, args.n)
        what = f"up to {args.n} held-out items" if held.sources is None else f"{min(args.n, len(held))} held-out pairs"
    else:
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(args.seed + 2))[:args.n]
        values = evaluate(snapshot, data.images[order].permute(0, 2, 3, 1).numpy(), features, args.n, args.seed)
        what = f"{args.n} samples"
    if args.json:
        print(json.dumps({"step": snapshot.step, "features": features.name, **values}))
        return 0
    print(f"{snapshot.source}: {what}, {features.description} ({time.perf_counter() - start:.1f} s)")
    for key, value in values.items():
        print(f"  {key:<24} {value:.4g}")
    return 0


def cmd_translate(args: argparse.Namespace) -> int:
    from ganstudio.data.folder import IMAGE_EXTENSIONS
    from ganstudio.images import save_image
    from ganstudio.latent.encoding import image_from_file

    source, out = Path(args.input), Path(args.output)
    if not source.exists():
        raise UserError(f"{source} does not exist")
    snapshot = _open_generator(args)
    if not snapshot.translates:
        raise UserError(f"{snapshot.config.model.family} draws images from z; 'translate' needs an image-to-image "
                        "run (pix2pix, cyclegan, discogan, stargan)")
    if (args.direction or args.domain) and not snapshot.takes_target:
        raise UserError(f"{snapshot.config.model.family} translates one way: --direction and --domain are for "
                        "CycleGAN, DiscoGAN and StarGAN")
    if args.domain and snapshot.target_size == 1:
        raise UserError(f"{snapshot.config.model.family} has two domains: choose one with --direction AtoB|BtoA")
    if args.direction and snapshot.target_size > 1:
        raise UserError('stargan translates into attributes: give them with --domain "name=1,other=0"')
    files = sorted(f for f in source.iterdir() if f.suffix.lower() in IMAGE_EXTENSIONS) if source.is_dir() else [source]
    if source.is_dir():
        if not files:
            raise UserError(f"{source} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))})")
        if out.exists() and not out.is_dir():
            raise UserError(f"{out} is a file; a folder of inputs needs an output folder")
        targets = [out / f.name for f in files]
    else:
        targets = [out]
    size = snapshot.image_shape[1]
    for file, target in zip(files, targets, strict=True):
        image = image_from_file(file, (snapshot.source_channels, size, size))
        target.parent.mkdir(parents=True, exist_ok=True)
        code = _target_code(snapshot, image, args) if snapshot.takes_target else None
        save_image(snapshot.translate(image[None], noise_seed=args.noise_seed, target=code)[0], target)
    into = ""
    if snapshot.target_size == 1:
        into = f" ({' -> '.join(snapshot.domain_names[::1 if args.direction != 'BtoA' else -1])})"
    print(f"Translated {len(files)} image(s) at {size} px with {snapshot.source}{into} into "
          f"{out if source.is_dir() else targets[0]}")
    return 0


def _target_code(snapshot, image, args):
    """The target domain code for one input: 1 (into B) or 0 (into A) for the two-domain families; for
    StarGAN the attributes its classifier reads on ``image`` with those of ``--domain`` set."""
    if snapshot.target_size == 1:
        return 0.0 if args.direction == "BtoA" else 1.0
    names = snapshot.domain_names
    wanted = _parse_numbers([p for p in (args.domain or "").split(",") if p.strip()], "--domain",
                            f"{names[0]}=1")
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise UserError(f"the model has no attribute {', '.join(unknown)}; its attributes: {', '.join(names)}")
    code = (snapshot.read_attributes(image[None])[0] > 0.5).astype("float32")
    for name, value in wanted.items():
        code[names.index(name)] = value
    return code


def _input_and_output(args: argparse.Namespace, suffix: str, what: str) -> tuple[Path, Path]:
    """(input, output) of a file-or-folder command: a folder goes into a folder; one file into a file ending
    in ``suffix`` or, given a folder (or a path ending in /), into that folder under the input's name."""
    source, out = Path(args.input), Path(args.output)
    if not source.exists():
        raise UserError(f"{source} does not exist")
    if source.is_dir() and out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; a folder of inputs needs an output folder")
    if not source.is_dir():
        if args.output.endswith(("/", "\\")) or out.is_dir():
            out = out / f"{source.stem}{suffix}"
        elif out.suffix.lower() != suffix:
            raise UserError(f"{what}: give an output ending in {suffix}, not '{out}'")
    return source, out


def cmd_upscale(args: argparse.Namespace) -> int:
    from ganstudio.data.folder import skipped_warning
    from ganstudio.upscale import upscale_file, upscale_files

    if not 0.0 <= args.alpha <= 1.0:
        raise UserError(f"--alpha goes from 0 (the MSE phase's weights) to 1 (the GAN's), not {args.alpha:g}")
    if args.tile < 8:
        raise UserError("--tile must be at least 8")
    source, out = _input_and_output(args, ".png", "upscaled images are written as PNG")
    snapshot = _open_generator(args)
    if snapshot.scale < 2:
        what = "translates images at their own size" if snapshot.translates else "draws images from z"
        raise UserError(f"{snapshot.source} is a {snapshot.config.model.family} model, which {what}; 'upscale' "
                        "needs a super-resolution run (srgan)")
    if args.alpha != 1.0:
        if snapshot.blend_ends is None:
            raise UserError(f"{snapshot.source} is still in its MSE phase: there are no GAN weights to blend with "
                            "yet, so --alpha must be 1 (train past the MSE phase, or leave --alpha out)")
        snapshot = snapshot.with_alpha(args.alpha)
    tty = sys.stdout.isatty()

    def on_tile(name: str, done: int, total: int) -> None:
        if tty:
            sys.stdout.write(f"\r\033[K{name}: tile {done}/{total}")
            sys.stdout.flush()

    def on_file(done) -> None:
        print(("\r\033[K" if tty else "") + done.describe(), flush=True)

    if source.is_dir():
        skipped = upscale_files(snapshot, source, out, args.tile, on_file, on_tile)
        if skipped:
            print(f"warning: {skipped_warning(skipped)}", file=sys.stderr)
    else:
        on_file(upscale_file(snapshot, source, out, args.tile,
                             progress=lambda done, total: on_tile(source.name, done, total)))
    blend = f", α {snapshot.alpha:g}" if snapshot.blend_ends is not None else ""
    print(f"Upscaled ×{snapshot.scale} with {snapshot.source}{blend} into {out}")
    return 0


def cmd_enhance(args: argparse.Namespace) -> int:
    from ganstudio.enhance import enhance_files

    source, out = _input_and_output(args, ".wav", "enhanced speech is written as WAV")
    snapshot = _open_generator(args)
    if not snapshot.enhances:
        raise UserError(f"{snapshot.source} is a {snapshot.config.model.family} model, which makes images; "
                        "'enhance' needs a speech-enhancement run (segan)")
    written = enhance_files(snapshot, source, out, args.seed, report=lambda line: print(line, flush=True))
    print(f"Enhanced {written} file{'s' if written != 1 else ''} with {snapshot.source} into {out}")
    return 0


def cmd_project(args: argparse.Namespace) -> int:
    import json

    from ganstudio.fileio import atomic_write_text
    from ganstudio.images import save_image
    from ganstudio.latent.directions import apply_directions
    from ganstudio.latent.encoding import image_from_file
    from ganstudio.latent.projection import project
    from ganstudio.metrics.features import feature_network

    edits = _parse_numbers(args.edit, "--edit", "yaw=+2")
    if edits and not args.edited:
        raise UserError("--edit needs --edited OUT.png to write the edited image to")
    if args.starts < 1 or args.steps < 1:
        raise UserError("--starts and --steps must be at least 1")
    snapshot = _open_generator(args)
    if snapshot.translates:
        raise UserError(f"{snapshot.config.model.family} translates images; it has no z to project into")
    if not snapshot.differentiable:
        raise UserError(f"{snapshot.source} runs in onnxruntime, which gives no gradients to project with; "
                        "project with the run it was exported from")
    image = image_from_file(args.image, snapshot.image_shape)
    features = None
    if not args.pixels_only:
        network, note = feature_network(args.features, snapshot.config.data)
        if note:
            print(f"{note}; using the domain features")
        features = network.net
    found = project(snapshot, image, features, starts=args.starts, steps=args.steps)
    if found.label is not None:
        snapshot = snapshot.with_label(found.label)
    document = {"format": "ganstudio-code/1", "latent_dim": snapshot.latent_dim, "z": found.z.tolist(),
                "label": found.label, "class": snapshot.class_names[found.label] if found.label is not None else None,
                "psnr_db": round(found.psnr, 2), "image": str(args.image), "source": snapshot.source}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.output, json.dumps(document, indent=1))
    print(f"Projected {args.image} into {snapshot.source} in {found.seconds:.1f} s: reconstruction PSNR "
          f"{found.psnr:.1f} dB" + (f", class {document['class']}" if found.label is not None else "")
          + f"; z written to {args.output}")
    if args.reconstruction:
        save_image(found.reconstruction, args.reconstruction)
        print(f"Wrote the reconstruction to {args.reconstruction}")
    if edits:
        directions = _named_directions(snapshot, args.directions, list(edits))
        edited = apply_directions(found.z[None], directions, list(edits.values()))
        save_image(snapshot.render(edited)[0], args.edited)
        print(f"Wrote the image edited by {', '.join(f'{k} {v:+g}' for k, v in edits.items())} to {args.edited}")
    return 0


def _named_directions(snapshot, path: str | None, names: list[str]):
    """The directions called ``names``: from a direction file, else named after the data's factors or classes."""
    from ganstudio.latent.directions import load_directions
    from ganstudio.latent.discover import discover_directions

    found = load_directions(path, snapshot.latent_dim) if path else discover_directions(snapshot, "supervised", 100)
    by_name = {d.name: d for d in found}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise UserError(f"no direction named {', '.join(missing)}; there are: {', '.join(by_name)}")
    return [by_name[name] for name in names]


def cmd_export(args: argparse.Namespace) -> int:
    from ganstudio.interop.export import export_generator

    exported = export_generator(args.checkpoint or args.run, args.output, args.format)
    checked = (f"; onnxruntime's output matches torch's within {exported.max_difference:.1g}"
               if exported.max_difference is not None else "")
    if exported.stochastic:
        checked = "; it draws its noise inside the graph (as in training), so each run's output differs a little"
    print(f"Wrote {exported.path} and {exported.sidecar.name} (what its inputs and outputs are){checked}")
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from ganstudio.gui.app import run_app

    return run_app()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = {"train": cmd_train, "sample": cmd_sample, "directions": cmd_directions, "traverse": cmd_traverse,
               "eval": cmd_eval, "translate": cmd_translate, "upscale": cmd_upscale, "enhance": cmd_enhance, "project": cmd_project, "export": cmd_export,
               "gui": cmd_gui,
               None: cmd_gui}[args.command]
    try:
        return command(args)
    except UserError as e:
        print(f"ganstudio: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nganstudio: interrupted", file=sys.stderr)
        return 130
