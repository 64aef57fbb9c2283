# t/htdocs/pool/preload.py: a WSGIImportScript for t/interp_pool.t: records
# in this interpreter's builtins that it ran here (each interpreter of a
# pool has its own builtins module), for pool.wsgi's /who to report.
import builtins

builtins.wsl_pool_preloaded = getattr(builtins, 'wsl_pool_preloaded', 0) + 1
