"""The OpenAI-compatible reader against a local server speaking chat-completions SSE streaming."""

import base64
import math
import time

import pytest

from app.datamodel import Mode
from app.errors import ReaderError
from app.readers import load_reader
from app.readers.openai import OpenAIReader
from tests.helpers.fake_render import fake_render
from tests.helpers.openai_server import MODEL, FakeServer
from tests.helpers.reading import ask

DOC = "\n".join(
    ["Quarterly report of the ACME company.", "Revenue grew by 12% to 4.5 million dollars."] * 12
    + ["The auditor was Jane Smith from Berlin."]
)


@pytest.fixture
def server():
    s = FakeServer()
    yield s
    s.close()


@pytest.fixture
def rendered():
    return fake_render(DOC, cols=40, rows=10)


def make_reader(settings, server, **overrides):
    values = {"openai_base_url": server.url, "openai_api_key": "sk-test", "max_new_tokens": 64}
    values.update(overrides)
    return OpenAIReader(settings.model_copy(update=values))


def final_of(chunks):
    assert chunks[-1].kind == "final" and sum(c.kind == "final" for c in chunks) == 1
    return chunks[-1].answer


REASONING_STREAM = [
    {"delta": {"role": "assistant", "content": ""}},
    {"delta": {"reasoning_content": "The report says "}},
    {"delta": {"reasoning_content": "revenue grew 12%."}},
    {
        "delta": {"content": "Revenue grew by <|begin_"},
        "logprobs": [
            ("Revenue", -0.1),
            (" grew", -0.2),
            (" by ", -0.1),
            ("<|begin_of_box|>", -0.01),
        ],
    },
    {
        "delta": {"content": "of_box|>12%<|end_of_box|>"},
        "logprobs": [("12", -0.3), ("%", -0.2), ("<|end_of_box|>", -0.01)],
    },
]


def test_streams_reasoning_and_answer_and_sends_pages_as_data_urls(settings, server, rendered):
    server.deltas = REASONING_STREAM
    reader = make_reader(settings, server)
    chunks = list(reader.answer(rendered, "How much did revenue grow?"))
    answer = final_of(chunks)
    assert answer.thinking == "The report says revenue grew 12%."
    assert answer.text == "Revenue grew by 12%"
    assert "".join(c.text for c in chunks if c.kind == "thinking") == answer.thinking
    assert "".join(c.text for c in chunks if c.kind == "answer") == answer.text
    assert answer.reader == "openai" and answer.pages_read == list(range(len(rendered.pages)))
    assert answer.stats.prompt_tokens == 321 and answer.stats.output_tokens == 9
    assert answer.stats.visual_tokens == len(rendered.pages) * 36  # 240×100 px pages
    assert answer.stats.text_tokens > 0 and answer.stats.prefill_s >= 0
    assert answer.stats.decode_s >= 0 and answer.timings["request"] > 0

    (request,) = server.chats
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == "Bearer sk-test"
    body = request["body"]
    assert body["model"] == MODEL and body["stream"] is True and body["max_tokens"] == 64
    assert body["stream_options"] == {"include_usage": True} and body["logprobs"] is True
    (message,) = body["messages"]
    parts = message["content"]
    images, text = parts[:-1], parts[-1]
    assert len(images) == len(rendered.pages)
    for part, page in zip(images, rendered.pages, strict=True):
        url = part["image_url"]["url"]
        assert url.startswith("data:image/png;base64,")
        assert base64.b64decode(url.split(",", 1)[1]) == page.png_bytes()
    assert text["type"] == "text" and "How much did revenue grow?" in text["text"]


def test_think_tags_in_content_without_reasoning_parser(settings, server, rendered):
    server.deltas = [
        {"delta": {"content": "<thi"}},
        {"delta": {"content": "nk>Looking at page 1.</think><answer>Jane"}},
        {"delta": {"content": " Smith</answer>"}},
    ]
    reader = make_reader(settings, server)
    chunks = list(reader.answer(rendered, "Who was the auditor?"))
    answer = final_of(chunks)
    assert (answer.thinking, answer.text) == ("Looking at page 1.", "Jane Smith")
    assert "".join(c.text for c in chunks if c.kind == "answer") == "Jane Smith"
    # no log-probabilities from this server: confidence is not invented
    assert answer.confidence == 1.0 and any(
        "log-probabilities" in n for n in map(str, answer.notes)
    )


def test_confidence_from_answer_token_logprobs(settings, server, rendered):
    server.deltas = REASONING_STREAM
    lenient = make_reader(settings, server, review_threshold=0.8)
    answer = ask(lenient, rendered, "How much did revenue grow?")
    expected = math.exp((-0.1 - 0.2 - 0.1 - 0.3 - 0.2) / 5)  # box markers are not answer tokens
    assert answer.confidence == pytest.approx(expected, abs=1e-4)
    assert not answer.needs_review  # 0.835 ≥ 0.8
    strict = make_reader(settings, server, review_threshold=0.95)
    flagged = ask(strict, rendered, "How much did revenue grow?")
    assert flagged.needs_review and any("Low-confidence" in n for n in map(str, flagged.notes))


def test_length_finish_and_chinese_prompt(settings, server, rendered):
    server.deltas = [{"delta": {"content": "收入增长了"}}]
    server.finish_reason = "length"
    answer = ask(make_reader(settings, server), rendered, "收入增长了多少？")
    assert answer.text == "收入增长了"
    assert any("GLYPH_MAX_NEW_TOKENS" in n for n in map(str, answer.notes))
    assert "问题：收入增长了多少？" in server.chats[0]["body"]["messages"][0]["content"][-1]["text"]


def test_transient_errors_are_retried(settings, server, rendered):
    server.deltas = [{"delta": {"content": "ok"}}]
    server.fail_chat = 2
    answer = ask(make_reader(settings, server, openai_max_retries=2), rendered, "Revenue?")
    assert answer.text == "ok" and len(server.chats) == 3


def test_errors_become_reader_errors(settings, server, rendered):
    server.fail_chat = 5
    with pytest.raises(ReaderError, match="HTTP 503"):
        ask(make_reader(settings, server, openai_max_retries=1), rendered, "Revenue?")
    server.fail_chat = 0
    server.chat_status = (400, {"error": {"message": "maximum context length is 65536 tokens"}})
    with pytest.raises(ReaderError, match="maximum context length") as info:
        ask(make_reader(settings, server), rendered, "Revenue?")
    assert "GLYPH_MAX_VISUAL_TOKENS" in info.value.en and "GLYPH_MAX_VISUAL_TOKENS" in info.value.zh


def test_timeout(settings, server, rendered):
    server.deltas = [{"delta": {"content": "late"}}]
    server.delay_s = 1.5
    reader = make_reader(settings, server, openai_timeout_s=0.3, openai_max_retries=0)
    started = time.perf_counter()
    with pytest.raises(ReaderError, match="GLYPH_OPENAI_TIMEOUT_S"):
        ask(reader, rendered, "Revenue?")
    assert time.perf_counter() - started < 1.4


def test_unusable_servers_fail_at_construction(settings, server):
    with pytest.raises(ReaderError, match="GLYPH_OPENAI_BASE_URL"):
        OpenAIReader(settings)
    server.models = ["other/model"]
    with pytest.raises(ReaderError, match="other/model"):
        make_reader(settings, server)
    server.models_status = 401
    with pytest.raises(ReaderError, match="API key"):
        make_reader(settings, server)
    closed = FakeServer()
    url = closed.url
    closed.close()
    with pytest.raises(ReaderError, match="Cannot reach"):
        OpenAIReader(settings.model_copy(update={"openai_base_url": url, "openai_max_retries": 0}))


def test_registry_and_gateways_without_models_endpoint(settings, server, rendered):
    server.models_status = 404  # e.g. a proxy that only forwards chat completions
    server.deltas = [{"delta": {"content": "fine"}}]
    reader = load_reader("openai", settings.model_copy(update={"openai_base_url": server.url}))
    assert (
        isinstance(reader, OpenAIReader) and "OpenAI-compatible" in reader.capabilities.description
    )
    assert ask(reader, rendered, "Revenue?").text == "fine"
    reader.close()


def test_page_budget_sends_fewer_images(settings, server, rendered):
    server.deltas = [{"delta": {"content": "Jane Smith"}}]
    reader = make_reader(settings, server, max_visual_tokens=2 * 36)
    chunks = list(reader.answer(rendered, "Who was the auditor from Berlin?"))
    answer = final_of(chunks)
    needle = rendered.layout.char_box(DOC.index("Berlin"))[0]
    assert needle in answer.pages_read and len(answer.pages_read) == 2
    images = server.chats[0]["body"]["messages"][0]["content"][:-1]
    assert len(images) == 2
    assert any("GLYPH_MAX_VISUAL_TOKENS" in n for n in map(str, answer.notes))
    summary = ask(reader, rendered, "", Mode.SUMMARY)
    assert summary.pages_read[0] == 0 and len(summary.pages_read) == 2


def test_context_reported_by_vllm_limits_the_pages(settings, server, rendered):
    from app.readers.vlm.select import PROMPT_RESERVE

    server.deltas = [{"delta": {"content": "Jane Smith"}}]
    server.max_model_len = PROMPT_RESERVE + 64 + 3 * 36
    reader = make_reader(settings, server)
    assert reader.context == server.max_model_len
    answer = ask(reader, rendered, "Who was the auditor from Berlin?")
    assert answer.stats.visual_tokens <= 3 * 36 and len(answer.pages_read) < len(rendered.pages)
    images = server.chats[0]["body"]["messages"][0]["content"][:-1]
    assert len(images) == len(answer.pages_read)
    assert any("-token context" in n for n in map(str, answer.notes))
