"""Shipped calibrators: one JSON file per model (written by `assistant eval calibrate`)."""
