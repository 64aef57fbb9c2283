# Importable only if WSGIPythonPath t/pylib took effect.
MARKER = 'from WSGIPythonPath'
