"""Galen's tools layer (see DESIGN.md)."""
