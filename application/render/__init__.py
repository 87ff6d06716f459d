"""Rendering one job: the pipeline and its stages (depth, painting, finishing, panes, print files)."""
