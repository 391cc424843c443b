"""The results folder: its layout, files, tables, provenance, manifest, comparison and evaluation."""
