"""The research tools around the model: evaluation, judges, ablation, comparison, contact sheets.

Each runs as `python -m vae.eval.<tool>`; the model, its training and its export never import them.
"""
