"""Flee's input and output formats: reader, model, series, out.csv and ARD."""
