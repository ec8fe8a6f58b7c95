"""question_parts: a question that names two things, once per thing; any other question untouched."""

import pytest

from assistant.search.parts import question_parts


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("What is the difference between PEP 8 and PEP 257?",
         ["What is the PEP 8?", "What is the PEP 257?"]),
        ("Compare usearch with FAISS for filtered search",
         ["usearch for filtered search", "FAISS for filtered search"]),
        ("Compare Decorators for Functions and Methods with Generator Expressions",
         ["Decorators for Functions and Methods", "Generator Expressions"]),
        ("What is the age difference between Newton and Manning in Super Bowl 50?",
         ["What is the age Newton in Super Bowl 50?", "What is the age Manning in Super Bowl 50?"]),
        ("Should I use tabs or spaces for indentation?",
         ["Should I use tabs for indentation?", "Should I use spaces for indentation?"]),
        ("How does incremental sync differ from a full rebuild?",
         ["How does incremental sync differ?", "How does a full rebuild differ?"]),
        ("Python 2 vs. Python 3", ["Python 2", "Python 3"]),
        # Two names that fill a clause keep their small words; a question word ends the first one.
        ("Style Guide for Python Code vs Docstring Conventions",
         ["Style Guide for Python Code", "Docstring Conventions"]),
        ("Which should I read, Style Guide for Python Code or Docstring Conventions?",
         ["Which should I read, Style Guide for Python Code?", "Which should I read, Docstring Conventions?"]),
        ("Which team won Super Bowl 50, Denver or Carolina?",
         ["Which team won Super Bowl 50, Denver?", "Which team won Super Bowl 50, Carolina?"]),
        ("Did Beyonce or Coldplay headline the halftime show?",
         ["Did Beyonce headline the halftime show?", "Did Coldplay headline the halftime show?"]),
        ("How many yards or points did Newton have?",
         ["How many yards did Newton have?", "How many points did Newton have?"]),
    ],
)
def test_a_question_naming_two_things_is_asked_once_for_each(question, parts):
    assert question_parts(question) == parts


@pytest.mark.parametrize(
    "question",
    [
        "Who won the game?",
        "What did the Broncos and the Panthers wear?",  # "and" without a comparing word
        "bread or butter",  # "or" outside a question
        "Is PEP 8 or PEP 8 older?",  # the same thing twice
        "Compare them",
        "",
        "or?",
    ],
)
def test_any_other_question_is_not_split(question):
    assert question_parts(question) == []
