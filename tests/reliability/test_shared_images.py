"""Two sessions showing the same page at once: Gradio's image cache must never serve a cut file.

Gradio names a cached image by the hash of its bytes and (unpatched) rewrites it in place on every
use, so a download streaming that file from another session could read it truncated. This was
seen in ``test_ui_stays_responsive_during_a_long_render`` (two sessions opening the same report:
"peer closed connection without sending complete message body").
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from app.ui import storage


def _page(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (300, 200), dtype=np.uint8))


def test_a_cached_image_is_written_once_and_kept(tmp_path):
    from gradio import processing_utils as pu

    storage.atomic_image_cache()
    storage.atomic_image_cache()  # idempotent
    first = pu.save_pil_to_cache(_page(1), str(tmp_path), format="png")
    inode, data = os.stat(first).st_ino, Path(first).read_bytes()
    again = pu.save_pil_to_cache(_page(1), str(tmp_path), format="png")
    assert again == first
    assert os.stat(again).st_ino == inode  # not rewritten: a download of it keeps streaming
    assert Path(again).read_bytes() == data
    assert Image.open(first).tobytes() == _page(1).tobytes()
    other = pu.save_pil_to_cache(_page(2), str(tmp_path), format="png")
    assert other != first
    assert not list(tmp_path.rglob(".*.tmp"))  # no temporary files left behind
    # through the numpy path the gallery uses as well
    assert pu.save_img_array_to_cache(np.asarray(_page(1)), str(tmp_path), format="png") == first


def test_concurrent_saves_never_expose_a_partial_file(tmp_path):
    from gradio import processing_utils as pu

    storage.atomic_image_cache()
    pages = [_page(i) for i in range(4)]
    paths = {pu.save_pil_to_cache(p, str(tmp_path), format="png") for p in pages}
    sizes = {path: os.path.getsize(path) for path in paths}
    for path in paths:  # as if the cache had been cleaned between two sessions
        os.unlink(path)
    stop = threading.Event()
    short_reads: list[tuple[str, int]] = []

    def writer(k: int) -> None:
        while not stop.is_set():
            pu.save_pil_to_cache(pages[k % 4], str(tmp_path), format="png")

    def reader() -> None:
        while not stop.is_set():
            for path in paths:
                try:
                    with open(path, "rb") as handle:
                        got = len(handle.read())
                except FileNotFoundError:
                    continue
                if got != sizes[path]:
                    short_reads.append((path, got))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    threading.Event().wait(1.5)
    stop.set()
    for thread in threads:
        thread.join()
    assert all(os.path.exists(p) for p in paths)
    assert short_reads == []
