"""The tutor's brain: the LangGraph workflow, its nodes, the LLM engines and the graders."""
