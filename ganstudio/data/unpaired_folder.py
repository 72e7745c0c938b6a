"""Two folders of unpaired images for CycleGAN and DiscoGAN: ``A/`` and ``B/`` (or ``a/`` and ``b/``) under
the root, any number of images each (at least 3), never matched by name or position.

Images are decoded, cached and skipped exactly as ``folder.py`` does for one folder; the skipped files of
both domains are named in one warning.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from ganstudio.config import DataConfig
from ganstudio.data import register_dataset
from ganstudio.data.base import DataError, ImageSet
from ganstudio.data.folder import check_root, decode_images, list_images, name_list, skipped_warning

MIN_PER_DOMAIN = 3  # held-out data takes at least one image of each domain, and never a domain's last


@register_dataset("unpaired", "two folders of unpaired images for CycleGAN/DiscoGAN: A/ and B/, any counts, "
                              "no name matching")
def load_unpaired(cfg: DataConfig) -> ImageSet:
    """images: A's images then B's, (N_a + N_b, cfg.channels, S, S) uint8, each domain in sorted path order.
    domains: (N_a + N_b,) int64, 0 for A and 1 for B; domain_names: the two sub-folders' names.
    ``cfg.num_images`` caps each domain at its share of that total (by the domains' sizes; at least 3)."""
    root = check_root(cfg.root)
    folders = [_domain_folder(root, side) for side in ("A", "B")]
    listed = [list_images(folder) for folder in folders]
    for folder, files in zip(folders, listed):
        if not files:
            raise DataError(f"{folder} holds no png, jpg, jpeg, webp or bmp images; each of A/ and B/ needs "
                            f"at least {MIN_PER_DOMAIN}.")
    total = sum(len(files) for files in listed)
    images, domains, skipped = [], [], []
    for domain, (folder, files) in enumerate(zip(folders, listed)):
        share = None if cfg.num_images is None else max(MIN_PER_DOMAIN, round(cfg.num_images * len(files) / total))
        decoded = decode_images(folder, files, dataclasses.replace(cfg, num_images=share), {})
        if len(decoded.images) < MIN_PER_DOMAIN:
            raise DataError(f"{folder} has only {len(decoded.images)} usable image(s); each of A/ and B/ needs at "
                            f"least {MIN_PER_DOMAIN}.")
        images.append(decoded.images)
        domains.append(torch.full((len(decoded.images),), domain, dtype=torch.int64))
        skipped += [f"{folder.name}/{name}" for name in decoded.skipped]
    return ImageSet(images=torch.cat(images), domains=torch.cat(domains),
                    domain_names=tuple(folder.name for folder in folders),
                    warnings=(skipped_warning(skipped),) if skipped else (), name=cfg.dataset)


def _domain_folder(root: Path, side: str) -> Path:
    """root/A (or root/a) for side "A"; DataError naming what the root holds instead."""
    for name in (side, side.lower()):
        if (root / name).is_dir():
            return root / name
    found = sorted(f"{p.name}/" for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    holds = f"it holds {name_list(found)}" if found else "it holds no sub-folders"
    raise DataError(f"{root} has no {side}/ folder ({holds}); unpaired data needs A/ and B/ sub-folders, one "
                    "per domain, with any number of images each.")
