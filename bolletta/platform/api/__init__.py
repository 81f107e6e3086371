"""The public JSON API for tenants' systems: bearer tokens, routes and problem-details errors."""
