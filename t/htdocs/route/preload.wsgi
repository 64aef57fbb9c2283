# t/route.t: a WSGIImportScript that marks the interpreter it ran in.
import builtins

import mod_wsgi

builtins.wsl_route_preloaded_in = mod_wsgi.application_group
