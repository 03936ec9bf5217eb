"""What `flask --app app tick` runs: the duty list (scheduler.DUTIES), one module per family."""
