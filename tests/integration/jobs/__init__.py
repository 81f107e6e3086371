"""Job lifecycle tests. The folder is a package so that its stack fixture of scope "package" ends with the folder."""
