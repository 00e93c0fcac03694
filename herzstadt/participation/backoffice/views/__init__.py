"""The participation sections of the back office, one module per concern."""
