"""Service sessions (场次): schedules, the provider's report with photos, the venue's acceptance."""
