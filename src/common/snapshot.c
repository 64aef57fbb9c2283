/*
 * snapshot.c (common): the names of the snapshot's values, by index
 * (snapshot.h).  The format's own data, shared by the side that takes a
 * snapshot (request/snapshot.c) and the side that reads one
 * (py/environ.c); daemon mode will have both in different processes.
 */
#include "snapshot.h"

const char *const wsl_snapshot_names[WSL_SV_COUNT] = {
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO",
    "QUERY_STRING", "REQUEST_URI", "SERVER_NAME",
    "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_ADDR",
    "SERVER_ADMIN", "SERVER_SIGNATURE", "REMOTE_ADDR",
    "REMOTE_PORT", "REMOTE_HOST", "REMOTE_USER",
    "AUTH_TYPE", "DOCUMENT_ROOT", "REQUEST_SCHEME",
    "CONTEXT_PREFIX", "CONTEXT_DOCUMENT_ROOT",
    "SCRIPT_FILENAME", "wsgi.url_scheme",
    "mod_wsgi_lite.application_group", "mod_wsgi_lite.script_reloading",
    "mod_wsgi_lite.request_start", "mod_wsgi_lite.callable_object",
    "mod_wsgi.application_group", "mod_wsgi.script_reloading",
    "mod_wsgi.request_start", "mod_wsgi.callable_object",
    "mod_wsgi.request_handler", "mod_wsgi.handler_script",
    "mod_wsgi.enable_sendfile", "mod_wsgi.ignore_activity",
    "mod_wsgi.listener_host", "mod_wsgi.listener_port",
    "mod_wsgi.request_id", "mod_wsgi.connection_id",
    "mod_wsgi.script_name", "mod_wsgi.path_info",
};

const char *const wsl_snapshot_constant_names[WSL_SC_COUNT] = {
    "GATEWAY_INTERFACE", "SERVER_SOFTWARE", "wsgi.version",
    "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
    "wsgi.file_wrapper", "mod_wsgi_lite.process_group",
    "mod_wsgi.process_group", "mod_wsgi_lite.version", "mod_wsgi.version",
    "apache.version",
};
