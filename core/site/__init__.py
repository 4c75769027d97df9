"""The site's own pages: home, language switch, inbox, health check, API documentation."""
