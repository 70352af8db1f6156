"""The LLM proposer against a tiny local server speaking OpenAI chat completions."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.errors import ConfigError
from app.search import EvalCache, GeneticSearch, LlmProposer, SearchOptions, parse_candidates
from tests.search.conftest import LegibilityStandIn

PROPOSAL = {
    "font_size": 7.3,  # off the grid: snapped to 7.5
    "line_spacing": 1.1,
    "dpi": 96,
    "margin_x": 2,
    "margin_y": 2,
    "alignment": "LEFT",
    "newline_markup": None,
    "font_path": "DejaVuSansCondensed.ttf",
    "colour": "blue",  # not a gene: ignored
}


class ChatServer:
    """Answers POST /v1/chat/completions with ``self.reply`` as the message content."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.reply = json.dumps({"candidates": [PROPOSAL]})
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                payload = {
                    "id": "x",
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": outer.reply},
                            "finish_reason": "stop",
                        }
                    ],
                }
                data = json.dumps(payload).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = ChatServer()
    yield srv
    srv.close()


def test_parse_candidates_accepts_common_reply_shapes():
    one = {"font_size": 8}
    assert parse_candidates(json.dumps({"candidates": [one]})) == [one]
    assert parse_candidates(json.dumps([one, one])) == [one, one]
    assert parse_candidates(json.dumps(one)) == [one]
    assert parse_candidates(f"Sure!\n```json\n{json.dumps([one])}\n```\nGood luck.") == [one]
    assert parse_candidates(f"<think>maybe {{}}</think>Here: {json.dumps(one)} done") == [one]
    assert parse_candidates("I would try a smaller font.") == []


def test_proposals_join_the_search_on_the_grid(space, items, tmp_path, server):
    proposer = LlmProposer(server.url, "glyph-tuner", "secret", timeout_s=10)
    options = SearchOptions(population=6, generations=3, elite=2, seed=3)
    search = GeneticSearch(
        space, LegibilityStandIn(), items, options, cache=EvalCache(tmp_path), proposer=proposer
    )
    result = search.run()
    llm = [i for i in result.history if i.origin == "llm"]
    assert len(llm) == 1  # generation 2 would repeat the same proposal: dropped as a duplicate
    assert llm[0].generation == 1
    expected = {k: v for k, v in PROPOSAL.items() if k != "colour"} | {"font_size": 7.5}
    assert llm[0].genes == expected
    assert llm[0].result is not None and llm[0].result.questions == len(items)
    # one request per generation after the first, with the space and the history in the prompt
    assert len(server.requests) == 2
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer secret"
    prompt = req["body"]["messages"][-1]["content"]
    assert req["body"]["model"] == "glyph-tuner"
    assert "font_size" in prompt and "accuracy^1 * compression^0.5" in prompt
    assert prompt.count('"genes"') == 6  # generation 0, best first then latest, deduplicated


def test_bad_replies_and_dead_servers_fall_back_to_genetic_children(space, items, tmp_path, server):
    server.reply = "I cannot help with that."
    proposer = LlmProposer(server.url, "m", timeout_s=10)
    options = SearchOptions(population=4, generations=2, elite=1, seed=0)
    result = GeneticSearch(space, LegibilityStandIn(), items, options, proposer=proposer).run()
    assert proposer.failures == 1 and not [i for i in result.history if i.origin == "llm"]
    assert len([i for i in result.history if i.generation == 1]) == 4
    server.status = 500
    assert LlmProposer(server.url, "m", timeout_s=10).propose(space, [], 2) == []
    dead = LlmProposer("http://127.0.0.1:9/v1", "m", timeout_s=2)
    assert dead.propose(space, [], 2) == [] and dead.failures == 1


def test_unknown_choices_are_skipped(space, server):
    server.reply = json.dumps([{"alignment": "DIAGONAL"}, {"font_size": 6, "dpi": 60}])
    cands = LlmProposer(server.url, "m", timeout_s=10).propose(space, [], 3)
    assert len(cands) == 1 and cands[0]["font_size"] == 6.0 and cands[0]["dpi"] == 60


def test_from_settings_needs_a_server(settings):
    with pytest.raises(ConfigError, match="GLYPH_OPENAI_BASE_URL"):
        LlmProposer.from_settings(settings)
    proposer = LlmProposer.from_settings(settings, base_url="http://h:1/v1/")
    assert proposer.url == "http://h:1/v1/chat/completions"
    assert proposer.model == settings.openai_model
