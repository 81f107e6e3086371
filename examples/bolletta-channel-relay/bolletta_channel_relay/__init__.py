"""Example channel plugin: SMS through a generic JSON relay."""
