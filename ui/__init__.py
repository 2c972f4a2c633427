"""Galen's ui layer (see DESIGN.md)."""
