"""Outgoing webhooks: events pushed to the utility's systems, signed, retried and ordered per object."""
