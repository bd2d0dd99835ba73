"""Every prompt renders with its variables; a missing variable is an error."""

import pytest

import prompts


def test_every_prompt_renders():
    assert prompts.names(), "no prompts found"
    for name in prompts.names():
        values = {v: f"<{v}>" for v in prompts.variables(name)}
        text = prompts.render(name, **values)
        assert "$" not in text.replace("$$", ""), name
        for v in values.values():
            assert v in text


def test_missing_variable_raises():
    name = "grade"
    values = {v: "x" for v in prompts.variables(name)}
    values.pop("answer")
    with pytest.raises(prompts.PromptError, match="answer"):
        prompts.render(name, **values)


def test_unknown_prompt_raises():
    with pytest.raises(prompts.PromptError):
        prompts.load("no-such-prompt")
