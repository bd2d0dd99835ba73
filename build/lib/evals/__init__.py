"""Quality measurements on labelled cases (retrieval, grading, learner simulation)."""
