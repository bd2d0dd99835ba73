"""`make eval`: print every quality table (retrieval, grader)."""

from rich.console import Console

from evals import grading, retrieval


def main() -> None:
    """Run the evals one after another."""
    console = Console()
    retrieval.run(console)
    grading.run(console)


if __name__ == "__main__":
    main()
