"""Blueprints. Views stay thin: read the request, call the pure modules, render."""
