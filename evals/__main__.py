"""`make eval`: print every quality table (retrieval, grader, simulated learners)."""

from rich.console import Console

from evals import grading, retrieval, simulation


def main() -> None:
    """Run the evals one after another."""
    console = Console()
    retrieval.run(console)
    grading.run(console)
    simulation.run(console)  # after the grader: its embedding cache already holds the rubrics


if __name__ == "__main__":
    main()
