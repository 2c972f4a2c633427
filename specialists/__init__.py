"""Galen's specialists layer (see DESIGN.md)."""
