"""Your answer style: few-shot examples and system instructions, with the real default model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.answer.generation import GenerationRequest
from assistant.answer.prompts import Example, answer_prefix, build_prompt, system_message
from assistant.errors import ConfigError

HOUSE = """# House notes

## Boiler

The boiler was serviced by Nordvarme on 12 March 2026. The next service is due in March 2027. The service
cost 180 euros.

## Insurance

The home insurance policy number is HX-4471-B. It is renewed every October with Fjord Mutual.
"""
BULLETS = [
    {"question": "What do we know about the car?",
     "sources": ["The car is a blue Volvo from 2018. It was inspected in May. The inspection cost 90 euros."],
     "answer": "- The car is a blue Volvo from 2018 [1].\n- It was inspected in May [1].\n- The inspection cost "
               "90 euros [1]."},
    {"question": "What about the roof?",
     "sources": ["The roof was repaired in 2021 by Takbyggarna. The repair took three days."],
     "answer": "- The roof was repaired in 2021 by Takbyggarna [1].\n- The repair took three days [1]."},
    {"question": "What about the garden?",
     "sources": ["The apple trees were planted in 2019. They are pruned every February."],
     "answer": "- The apple trees were planted in 2019 [1].\n- They are pruned every February [1]."},
]


def _items(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.startswith("- ")]


@pytest.mark.parametrize("style", ["generate", "auto"])
def test_examples_that_answer_in_lists_make_the_default_model_answer_in_lists(
        home: Path, embedder, generator, library: Path, style: str) -> None:
    (library / "house.md").write_text(HOUSE)
    a = Assistant(Settings.load({"answer_style": style, "answer_cache": False, "answer_tokens": 64}),
                  embedder=embedder, generator=generator)
    a.index([library])
    plain = a.ask("What do we know about the boiler?")
    assert not _items(plain.answer)
    (home / "examples.jsonl").write_text("\n".join(json.dumps(e) for e in BULLETS) + "\n")
    listed = a.ask("What do we know about the boiler?")
    items = _items(listed.answer)
    assert len(items) >= 2 and "Nordvarme" in listed.answer, listed.answer
    assert listed.answer.split("\n\n> ")[0].rstrip().endswith(items[-1])  # the list leads; the quotes follow
    assert listed.stats["model_text"].startswith("- ")


def test_instructions_follow_the_built_in_rules_and_examples_fit_the_budget(home: Path, generator) -> None:
    message = system_message("Answer in French.")
    assert message.startswith("Answer the question from the numbered sources only") and message.endswith(
        "Answer in French.")
    examples = [Example(e["question"], e["answer"], tuple(e["sources"])) for e in BULLETS]
    from assistant.types import Hit

    hit = Hit("/h.md", 1, 1.0, "The boiler was serviced in March.", None, None, 1, 1)
    prompt = build_prompt(generator, "When was the boiler serviced?", [hit], [], 64, message, examples)
    roles = [m["role"] for m in prompt.messages]
    assert roles == ["system"] + ["user", "assistant"] * 3 + ["user"] and prompt.messages[0]["content"] == message
    small = build_prompt(generator, "q", [hit], [], generator.n_ctx - 200, message, examples)
    assert small.dropped_turns >= 1 and small.tokens <= generator.n_ctx  # examples go first when over budget
    assert answer_prefix(examples) == "- " and answer_prefix([*examples, Example("q", "Plain.")]) == ""
    assert GenerationRequest([]).prefix == ""


def test_a_broken_examples_file_says_which_line(home: Path, embedder) -> None:
    a = Assistant(Settings.load({}), embedder=embedder)
    home.mkdir(parents=True, exist_ok=True)
    (home / "examples.jsonl").write_text('{"question": "a", "answer": "b"}\n{"question": "no answer"}\n')
    with pytest.raises(ConfigError, match="examples.jsonl, line 2"):
        a.examples()
