"""The demo county (怀远县, 340321): synthetic households and lists imported through the real import jobs."""
