"""Flow plugins: readers of billing flow formats (entry point group ``bolletta.flows``)."""
