"""The district's figures, the monthly briefing (简报), provider reports and the dashboards."""
