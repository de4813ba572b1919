"""Checks on an answer: numbers, grounding, calculation, signals, calibration, consistency."""
