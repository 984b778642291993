"""Inventory API views: interface only (validate, call one service or selector, shape the answer)."""
