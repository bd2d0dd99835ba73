"""The curriculum: notes, their catalog, the vector index and retrieval."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
NOTES_DIR = PACKAGE_DIR / "notes"
CURRICULUM_FILE = PACKAGE_DIR / "curriculum.yaml"
