"""The platform operator's console under ``/admin``: tenants and their health, plugins, audit, users, system."""
