"""Data files of the agent (routing exemplars)."""
