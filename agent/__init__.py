"""Galen's agent layer (see DESIGN.md)."""
