"""Persistent learner state: learners, sessions, attempts, grades and review cards."""
