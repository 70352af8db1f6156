import pytest

from app.readers.vlm.output import OutputSplitter, split_output, visible_text


def _stream(deltas, **kw):
    splitter = OutputSplitter(**kw)
    pieces = []
    for delta in deltas:
        pieces.extend(splitter.feed(delta))
    pieces.extend(splitter.finish())
    thinking = "".join(t for k, t in pieces if k == "thinking")
    answer = "".join(t for k, t in pieces if k == "answer")
    return thinking, answer


GLM_OUTPUT = (
    "<think>The page says revenue grew 12%.</think>"
    "<answer>Revenue grew by <|begin_of_box|>12%<|end_of_box|>.</answer><|user|>"
)


def test_split_thinking_answer_and_box_markers():
    assert split_output(GLM_OUTPUT) == ("The page says revenue grew 12%.", "Revenue grew by 12%.")


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11])
def test_streaming_split_matches_final_split_for_any_cut(size):
    deltas = [GLM_OUTPUT[i : i + size] for i in range(0, len(GLM_OUTPUT), size)]
    thinking, answer = _stream(deltas)
    assert (thinking.strip(), answer.strip()) == split_output(GLM_OUTPUT)


def test_no_marker_text_leaks_while_streaming():
    deltas = ["<th", "ink>a", "</th", "ink><|begin_of", "_box|>42<|end_of_box|><|endof", "text|>"]
    splitter = OutputSplitter()
    seen = [piece for d in deltas for _, piece in splitter.feed(d)]
    seen += [piece for _, piece in splitter.finish()]
    assert "".join(seen) == "a42"
    assert all("<" not in piece for piece in seen)


def test_close_tag_without_open_tag_makes_the_start_thinking():
    # templates that open <think> inside the prompt: the output starts mid-thought
    assert split_output("reasoning first</think>final answer") == (
        "reasoning first",
        "final answer",
    )


def test_plain_answer_and_extra_control_tokens():
    assert split_output("just text<|endoftext|>") == ("", "just text")
    assert split_output("x<|custom|>y", extra_drop=["<|custom|>"]) == ("", "xy")
    assert visible_text("<think>a</think>b<|user|>") == "ab"


def test_lone_angle_brackets_are_text():
    assert split_output("if a < b and c > d then <x>") == ("", "if a < b and c > d then <x>")
    assert _stream(["a <", " b"]) == ("", "a < b")
