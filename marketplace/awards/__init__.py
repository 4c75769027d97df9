"""Awards (中标), their publicity and challenges (质疑)."""
