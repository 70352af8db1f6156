"""Glyph-视觉推理: visual-text compression for document question answering."""

__version__ = "0.1.0"
