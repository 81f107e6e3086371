"""Editing a tenant's settings after activation, one section at a time, from the console or the backoffice."""
