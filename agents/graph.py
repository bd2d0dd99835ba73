"""Wiring of the teach → quiz → grade workflow. No logic lives here."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.types import Checkpointer

from agents import followups, nodes
from agents.state import TurnContext, TutorState


def build_graph(checkpointer: Checkpointer = None):
    """Compile the tutor graph; the checkpointer makes pending questions survive restarts."""
    g = StateGraph(TutorState, context_schema=TurnContext)
    g.add_node("route", nodes.route)
    g.add_node("teach", nodes.teach)
    g.add_node("respond", nodes.respond)
    g.add_node("help", nodes.help_node)
    g.add_node("topics", nodes.topics)
    g.add_node("nothing_pending", nodes.nothing_pending)
    g.add_node("pick_question", nodes.pick_question)
    g.add_node("ask", nodes.ask)
    g.add_node("empty_answer", nodes.empty_answer)
    g.add_node("hint", nodes.hint)
    g.add_node("skip", nodes.skip)
    g.add_node("abandon", nodes.abandon)
    g.add_node("record", nodes.record)
    g.add_node("grade", nodes.grade)
    g.add_node("summary", nodes.summary)
    g.add_node("dispute", nodes.dispute)
    g.add_node("weights", nodes.weights)
    g.add_node("plan_check", nodes.plan_check)
    g.add_node("review_gate", followups.review_gate)
    g.add_node("explain_gaps", followups.explain_gaps)
    g.add_node("progress", followups.progress)
    g.add_node("aside", followups.aside)

    g.add_edge(START, "route")
    g.add_conditional_edges("route", nodes.after_route)
    g.add_conditional_edges("pick_question", nodes.after_pick)
    g.add_conditional_edges("ask", nodes.after_answer)
    g.add_edge("empty_answer", "ask")
    g.add_edge("hint", "ask")
    g.add_edge("aside", "ask")
    g.add_conditional_edges("review_gate", followups.after_review_gate)
    g.add_edge("abandon", "route")
    g.add_edge("record", "grade")
    g.add_edge("plan_check", "pick_question")
    g.add_conditional_edges("grade", nodes.after_question)
    g.add_conditional_edges("skip", nodes.after_question)
    for node in ("teach", "respond", "help", "topics", "nothing_pending", "summary", "dispute",
                 "weights", "explain_gaps", "progress"):
        g.add_edge(node, END)
    return g.compile(checkpointer=checkpointer)
