"""Onboarding a utility: the platform admin's wizard, its drafts, and activation.

:mod:`.steps` defines each step's answers, :mod:`.checks` what each step must satisfy, :mod:`.drafts`
keeps the answers between visits, and :mod:`.activation` provisions the tenant all at once.
"""
