"""Public supervision (监督): supervisors and their supervision items (督办事项), answered by officers in time."""
