"""Spreadsheets (.xlsx and .csv): reading and writing rows, and the download of every list page."""
