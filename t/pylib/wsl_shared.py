# Per-interpreter state for t/htdocs/wsgi/group.wsgi (via WSGIPythonPath).
value = None
