"""Customer-page tests; a package, so the demo fixture of scope "package" stops after this folder."""
