"""Open data in the Open Contracting Data Standard (OCDS) 1.1.5."""
