"""Guidelines as computable decisions: Fleischner 2017, Lung-RADS v2022 and BTS 2015.

The rules are data (``fleischner_2017.yaml``, ``lung_rads_2022.yaml``, ``bts_2015.yaml``), each
row citing the corpus passage it rests on; the code that applies them is small:

- :mod:`~knowledge.decisions.facts`: the case and nodule facts, each with its source, and each
  guideline's way of measuring size;
- :mod:`~knowledge.decisions.tables`: loading and validating the tables, and the cited passages;
- :mod:`~knowledge.decisions.engine`: conditions, first-match rows, facts that do not matter;
- :mod:`~knowledge.decisions.decide`: one decision per case (most suspicious nodule first);
- :mod:`~knowledge.decisions.categories`: a Lung-RADS category named in the question;
- :mod:`~knowledge.decisions.choose`: which guideline applies, and why.
"""
