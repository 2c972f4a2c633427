"""Molecules specialist: SMILES handling, descriptors, rule checks, alerts, learned properties, design."""
