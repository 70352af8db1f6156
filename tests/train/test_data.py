"""Training rows: validation, documents rendered once, pre-rendering with scripts/render_text.py,
the auxiliary OCR regions, and the tensors (loss on answer tokens only)."""

import json
import random
import runpy
import sys

import numpy as np
import pytest
from PIL import Image

from app.render import render, resolve_config
from app.train.config import load_train_config
from app.train.data import DataError, Documents, read_rows
from app.train.examples import IGNORE, answer_tokens, build_examples, collate, encode, length
from app.train.ocr_aux import sample_regions
from app.train.synth import make_qa_rows

SMALL = {"dpi": 48}  # small pages keep the tiny model's sequences short


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture(scope="module")
def processor(tiny_vlm_dir):
    from app.readers.vlm.processor import GlyphGlm4vProcessor

    return GlyphGlm4vProcessor.from_pretrained(tiny_vlm_dir)


# --- rows -------------------------------------------------------------------------------------


def test_rows_of_every_source_kind(tmp_path):
    (tmp_path / "pages").mkdir()
    Image.new("L", (56, 56), 255).save(tmp_path / "pages" / "p1.png")
    Image.new("L", (56, 56), 255).save(tmp_path / "pages" / "p2.png")
    (tmp_path / "doc.txt").write_text("Hello world.", encoding="utf-8")
    path = write_jsonl(
        tmp_path / "rows.jsonl",
        [
            {"id": "a", "image_path": "pages/p1.png", "question": "Q?", "answer": "A"},
            {
                "image_paths": ["pages/p1.png", "pages/p2.png"],
                "question": "Q?",
                "answers": ["x", "y"],
            },
            {"text": "Some text.", "question": "Q?", "answer": "A", "lang": "en"},
            {"path": "doc.txt", "question": "Q?", "answer": "A", "mode": "summary"},
        ],
    )
    rows = read_rows(path)
    assert [r.id for r in rows] == ["a", "line-2", "line-3", "line-4"]
    assert rows[0].images == [tmp_path / "pages" / "p1.png"]  # relative to the JSONL
    assert len(rows[1].images) == 2 and rows[1].answers == ["x", "y"] and rows[1].answer == "x"
    assert rows[2].text == "Some text." and rows[2].lang == "en"
    assert rows[3].path == tmp_path / "doc.txt" and rows[3].mode == "summary"
    docs = Documents("auto", SMALL)
    assert docs.get(rows[3]).text == "Hello world."  # ingested, then rendered
    assert docs.get(rows[3]).document.name == "doc.txt"
    pages = docs.get(rows[1])  # bare images: pages without text or layout
    assert len(pages.pages) == 2 and pages.text == "" and len(pages.layout) == 0


def test_invalid_rows_are_reported_with_line_numbers(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"text": "t", "question": "Q?", "answer": "A"}),
                "{not json",
                json.dumps({"text": "t", "image_path": "x.png", "question": "Q", "answer": "A"}),
                json.dumps({"text": "t", "answer": "A"}),
                json.dumps({"image_path": "missing.png", "question": "Q", "answer": "A"}),
                json.dumps({"text": "t", "question": "Q", "answer": ""}),
            ]
        ),
        encoding="utf-8",
    )
    with pytest.raises(DataError) as info:
        read_rows(path)
    message = info.value.en
    assert "5 invalid row(s)" in message
    for needle in (
        "line 2: not JSON",
        "line 3: needs exactly one",
        "line 4: 'question'",
        "line 5: image not found",
        "line 6: 'answer'",
    ):
        assert needle in message
    assert "无效" in info.value.zh
    # evaluation rows may come without an answer only when asked for
    assert (
        read_rows(
            write_jsonl(tmp_path / "q.jsonl", [{"text": "t", "question": "Q"}]), need_answer=False
        )[0].answers
        == []
    )
    with pytest.raises(DataError, match="does not exist"):
        read_rows(tmp_path / "nope.jsonl")


def test_documents_render_each_text_once():
    rows_data = make_qa_rows(4, lang="en", sentences=3, per_document=2)
    assert rows_data[0]["text"] == rows_data[1]["text"] != rows_data[2]["text"]
    docs = Documents("auto", SMALL)
    from app.train.data import Row

    rows = [
        Row(i, r["id"], r["question"], [r["answer"]], text=r["text"])
        for i, r in enumerate(rows_data)
    ]
    first = docs.get(rows[0])
    assert docs.get(rows[1]) is first
    assert len(docs) == 1
    docs.get(rows[2])
    assert len(docs) == 2
    assert first.text == rows_data[0]["text"] and first.pages
    bounded = Documents("auto", SMALL, keep=1)  # evaluation keeps only a few in memory
    for row in (rows[0], rows[1], rows[2], rows[0]):
        bounded.get(row)
    assert len(bounded) == 3  # rows[1] reused rows[0]'s render; rows[0] was evicted by rows[2]


def test_render_text_script_writes_training_rows(tmp_path):
    rows = make_qa_rows(6, lang="mix", sentences=3, per_document=2)
    Image.new("L", (56, 56), 255).save(tmp_path / "scan.png")
    rows.append({"id": "img", "image_path": "scan.png", "question": "Q?", "answer": "A"})
    source = write_jsonl(tmp_path / "train.jsonl", rows)
    out = tmp_path / "rendered"

    def run():
        argv = ["render_text.py", str(source), str(out), "--set", "dpi=48", "--no-progress"]
        old = sys.argv
        sys.argv = argv
        try:
            runpy.run_path("scripts/render_text.py", run_name="__main__")
        except SystemExit as exit_:
            return exit_.code
        finally:
            sys.argv = old

    assert run() == 0
    written = [json.loads(line) for line in (out / "train.jsonl").read_text("utf-8").splitlines()]
    assert [w["id"] for w in written] == [r["id"] for r in rows]
    assert all("text" not in w for w in written)
    assert written[0]["doc_dir"] == written[1]["doc_dir"] != written[2]["doc_dir"]
    assert len({w["doc_dir"] for w in written if "doc_dir" in w}) == 3  # one render per document
    assert written[-1]["image_paths"] == ["../scan.png"]  # relative to the new file
    again = read_rows(out / "train.jsonl")
    docs = Documents()
    for row, original in zip(again[:-1], rows[:-1], strict=True):
        assert all(p.is_file() for p in row.images)
        # the rendered directory brings back the exact text and layout (for the OCR task)
        assert docs.get(row).text == original["text"]
    first_mtime = (
        (out / "docs" / written[0]["doc_dir"].split("/")[-1] / "page_001.png").stat().st_mtime
    )
    assert run() == 0  # rerun: documents already rendered are skipped
    assert (
        out / "docs" / written[0]["doc_dir"].split("/")[-1] / "page_001.png"
    ).stat().st_mtime == first_mtime


# --- auxiliary OCR task ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_ocr_regions_crop_exactly_the_drawn_text(lang):
    text = make_qa_rows(1, lang=lang, sentences=6)[0]["text"]
    rendered = render(text, resolve_config("auto", text=text, dpi=48))
    regions = sample_regions(rendered, 12, random.Random(0), max_lines=3, margin=2)
    assert len(regions) == 12
    layout = rendered.layout
    for region in regions:
        x0, y0, x1, y1 = region.box
        # the target is the document's own text of the region (newlines and wrap spaces kept)
        assert region.text == rendered.text[region.start : region.end].strip() != ""
        drawn = np.flatnonzero(layout.page[region.start : region.end] >= 0) + region.start
        assert 1 <= len(np.unique(layout.line[drawn])) <= 3
        # every visible character of it was drawn on the region's page, inside the crop ...
        visible = [i for i in range(region.start, region.end) if not rendered.text[i].isspace()]
        assert set(visible) <= set(drawn.tolist())
        boxes = layout.boxes[drawn]
        assert (layout.page[drawn] == region.page).all()
        assert boxes[:, 0].min() >= x0 and boxes[:, 1].min() >= y0
        assert boxes[:, 2].max() <= x1 and boxes[:, 3].max() <= y1
        # ... and the crop holds ink
        crop = np.asarray(rendered.pages[region.page].image.convert("L").crop(region.box))
        assert crop.min() < 128


def test_build_examples_mixes_ocr_rows_at_the_ratio(processor):
    cfg = load_train_config("lora", ocr_aux_ratio=0.5, render_overrides=SMALL)
    rows_data = make_qa_rows(8, lang="mix", sentences=3)
    from app.train.data import Row

    rows = [
        Row(i, r["id"], r["question"], [r["answer"]], text=r["text"])
        for i, r in enumerate(rows_data)
    ]
    dataset = build_examples(rows, cfg, processor)
    assert (dataset.qa, dataset.ocr, dataset.documents) == (8, 4, 4)
    ocr = [e for e in dataset.examples if e.kind == "ocr"]
    assert all(len(e.images) == 1 and e.target for e in ocr)
    assert {e.instruction for e in ocr} <= {cfg.ocr_aux_prompt_en, cfg.ocr_aux_prompt_zh}
    # the QA prompt is the reader's template (train = inference)
    qa = dataset.examples[0]
    assert rows_data[0]["question"] in qa.instruction and "1 images above" in qa.instruction
    # too long for max_length: skipped and named
    short = build_examples(
        rows, load_train_config("lora", max_length=20, render_overrides=SMALL), processor
    )
    assert not short.examples and len(short.skipped) == 8


def test_encode_masks_everything_but_the_answer(processor):
    cfg = load_train_config("lora", render_overrides=SMALL)
    rows_data = make_qa_rows(2, lang="zh", sentences=3)
    from app.train.data import Row

    rows = [
        Row(i, r["id"], r["question"], [r["answer"]], text=r["text"])
        for i, r in enumerate(rows_data)
    ]
    examples = build_examples(rows, cfg, processor).examples
    tok = processor.tokenizer
    items = [encode(e, processor) for e in examples]
    for example, item in zip(examples, items, strict=True):
        ids, labels = item["input_ids"], item["labels"]
        answer = tok(example.target, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        kept = labels[labels != IGNORE].tolist()
        assert kept == answer and ids[-len(answer) :].tolist() == answer
        assert (labels[: len(ids) - len(answer)] == IGNORE).all()
        # image placeholders: as many as the grid's merged patches, all masked, typed 1
        image_positions = ids == processor.image_token_id
        grid = item["image_grid_thw"]
        assert int(image_positions.sum()) == int(grid.prod(dim=1).sum()) // 4
        assert (item["mm_token_type_ids"][image_positions] == 1).all()
        assert (item["mm_token_type_ids"][~image_positions] == 0).all()
        assert length(example, processor) == len(ids)
        prompt_text = tok.decode(ids[: len(ids) - len(answer)])
        assert example.instruction.split("\n")[-1] in prompt_text
    batch = collate(items, tok.pad_token_id)
    longest = max(len(i["input_ids"]) for i in items)
    assert batch["input_ids"].shape == (2, longest)
    assert batch["attention_mask"].sum().item() == sum(len(i["input_ids"]) for i in items)
    assert answer_tokens(batch) == sum(int((i["labels"] != IGNORE).sum()) for i in items)
    assert batch["pixel_values"].shape[0] == sum(i["pixel_values"].shape[0] for i in items)
