"""Catalog versions: the catalog as published for a year, and the comparison of two versions."""
