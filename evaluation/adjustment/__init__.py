"""Dynamic adjustment (动态调整): published rules that turn scores into decisions."""
