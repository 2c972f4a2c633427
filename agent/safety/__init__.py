"""Request safety: the layers behind :func:`agent.policy.check_request`.

``text`` (normalise, clauses, framing, language) → ``rules`` (a) · ``semantic`` (b) ·
``molecules`` (c) → ``decide`` (each layer's verdict, combined by OR) → ``messages`` (d, e).
Nothing is loaded at import.
"""
