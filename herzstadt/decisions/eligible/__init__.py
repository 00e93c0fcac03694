"""Eligibility in practice (helper "eligible"): voting codes and their letters, the census import,
account verification, the polling station and the postal vote. The rules themselves live in
``herzstadt.decisions.eligibility``."""
