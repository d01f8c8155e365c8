"""The model side of geobrief: prompts, summarization, training pairs, fine-tuning, evaluation, registry.

Imports nothing of geobrief's; takes a ``sqlite_utils.Database``, paths and settings objects.
"""
