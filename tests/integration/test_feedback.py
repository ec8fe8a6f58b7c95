"""Rating answers, and the ratings as the user's own eval set, through the command line."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli, run_cli_json

HOUSE = """# House notes

## Boiler

The boiler was serviced by Nordvarme on 12 March 2026; the next service is due in March 2027.

## Insurance

The home insurance policy number is HX-4471-B, renewed every October with Fjord Mutual.

## Garden

The apple trees in the garden were planted in 2019 and are pruned every February.
"""


def test_ratings_are_kept_listed_and_become_an_eval_set(home: Path, library: Path, capsys) -> None:
    (library / "house.md").write_text(HOUSE)
    run_cli_json("index", str(library), capsys=capsys)
    chats = []
    for q in ("When is the boiler service due?", "What is the insurance policy number?",
              "When are the apple trees pruned?", "Who is the mayor of the town?"):
        answer = run_cli_json("ask", q, "--style", "quote", capsys=capsys)
        chats.append(answer["chat_id"])
    for chat in chats[:3]:
        assert run_cli_json("feedback", chat, "up", capsys=capsys)["rating"] == "up"
    run_cli_json("feedback", chats[3], "down", "--note", "should have said it does not know", capsys=capsys)
    run_cli_json("feedback", chats[0], "up", "--turn", "1", "--note", "exactly right", capsys=capsys)  # replaces

    rated = run_cli_json("feedback", capsys=capsys)
    assert len(rated) == 4 and {r["rating"] for r in rated} == {"up", "down"}
    first = next(r for r in rated if r["chat_id"] == chats[0])
    assert first["note"] == "exactly right" and first["cited"][0]["path"].endswith("house.md")

    report = run_cli_json("eval", "--from-feedback", capsys=capsys)
    assert report["questions"] == 3 and report["hit@1"] == 1.0 and report["mrr"] == 1.0
    assert [d["question"] for d in report["downvoted"]] == ["Who is the mayor of the town?"]
    assert report["downvoted"][0]["note"] == "should have said it does not know"

    code, out, _ = run_cli("eval", "--from-feedback", capsys=capsys)
    assert code == 0 and "hit@1" in out and "downvoted" in out
    code, _, err = run_cli("feedback", chats[0], "up", "--turn", "9", capsys=capsys)
    assert code == 1 and "has no answer 9" in err
    code, _, err = run_cli("feedback", "nosuchid", "down", capsys=capsys)
    assert code == 1 and "no conversation" in err
