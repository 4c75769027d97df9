"""The public portal (信息公开): what the public and the press read without logging in."""
