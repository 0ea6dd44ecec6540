"""Authentication: passwords, tokens, rate limits, sign-in sessions, request principals."""
