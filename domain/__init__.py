"""Pure rules and data: no Flask, no database, no models (tests/test_layers.py keeps it so)."""
