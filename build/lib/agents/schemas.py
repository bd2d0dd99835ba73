"""Data models shared by the workflow, the engines and the fronts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Grade(BaseModel):
    """A graded answer: Claude's output schema, what is stored, and what is shown."""

    score: int = Field(ge=0, le=100, description="0–100: share of the key points answered "
                       "correctly, minus deductions for wrong statements.")
    confidence: float = Field(ge=0.0, le=1.0, description="0–1: how sure the grader is that "
                              "this score is right (low for ambiguous or borderline answers).")
    covered: list[str] = Field(default_factory=list,
                               description="Key points the answer states correctly.")
    gaps: list[str] = Field(default_factory=list,
                            description="Key points missing or wrong in the answer.")
    misconceptions: list[str] = Field(default_factory=list,
                                      description="Wrong beliefs the answer expresses.")
    feedback: str = Field(description="1–3 sentences of specific, actionable feedback "
                          "addressed to the learner.")
    grader: str = Field(default="", description="Which grader produced this; set by the tutor.")


class QuizQuestion(BaseModel):
    """A question put to the learner, with what a full answer must contain."""

    note_id: str
    question_id: str
    prompt: str
    reference_answer: str
    key_points: list[str]
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    is_review: bool = False


class GeneratedQuestion(BaseModel):
    """Claude's output schema for a new quiz question grounded in a note."""

    prompt: str = Field(description="The question, as an interviewer would ask it.")
    reference_answer: str = Field(description="A model answer in 2–6 sentences.")
    key_points: list[str] = Field(min_length=3, max_length=6,
                                  description="3–6 atomic statements a full answer contains.")
    difficulty: Literal["easy", "medium", "hard"]
