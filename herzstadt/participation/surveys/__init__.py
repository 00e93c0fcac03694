"""Surveys of a participation process: answering (who may answer, validation, the anonymous
protections), the survey form, aggregated results and the citizen pages."""
