"""Contact tests. The folder is a package so that its stack fixture of scope "package" stops after its last test."""
