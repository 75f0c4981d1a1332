"""Orchestration of nvc: the command line, the per-case pipeline, the batch runner, presets."""
