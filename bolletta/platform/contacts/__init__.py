"""The tenant's contacts directory, fed by contacts CSV files uploaded without a flow."""
