"""Models of the enrollment app."""
