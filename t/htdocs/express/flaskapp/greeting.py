# Imported by hello.py from the same directory (on the Python path because
# the launcher puts the current directory / --python-path there).
TEXT = 'flask index via express'
