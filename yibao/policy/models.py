"""Models of the policy app."""
