"""Admin pages: users and roles, areas, venues, settings, the audit log."""
