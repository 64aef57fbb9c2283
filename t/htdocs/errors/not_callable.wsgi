# "application" exists but cannot be called.
application = 'not callable'
