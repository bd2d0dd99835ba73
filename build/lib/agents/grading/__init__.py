"""Graders: the offline rubric grader, and the policy that combines it with Claude's."""
