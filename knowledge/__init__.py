"""Galen's knowledge layer (see DESIGN.md)."""
