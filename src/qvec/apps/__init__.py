"""Models built on qvec: the bundled demo classifier (more applications will live here)."""
