"""Galen's evals layer (see DESIGN.md)."""
