"""Reading clinical facts from text (one owner): patient, nodule and breast-cancer facts, corrections.

See :mod:`tools.facts.text` for the ``Fact`` type and the sources a fact can have.
"""
