"""Clinical specialists: Brock nodule malignancy risk, genomic–clinical risk, treatment benefit.

Nothing is loaded at import; each module loads its weights on first use and caches them.
"""
