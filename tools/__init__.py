"""Build tools, run from the repository root; never installed with interp."""
