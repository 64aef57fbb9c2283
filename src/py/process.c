/*
 * process.c: what this process is to Python: one of Apache's children
 * (embedded mode), or a daemon process of a WSGIDaemonProcess group.  Set
 * once, by the daemon before Python starts in it; read by the files that
 * tell the application (environ.c's mod_wsgi.process_group, pymodule.c's
 * mod_wsgi attributes, metrics.c's thread and process counts) and by
 * interp.c (the group's python-home and python-path).
 */
#include "py.h"

static const wsl_daemon_group *daemon_group;

void wsl_process_set_daemon(const wsl_daemon_group *group)
{
    daemon_group = group;
}

const wsl_daemon_group *wsl_process_daemon(void)
{
    return daemon_group;
}

const char *wsl_process_group_name(void)
{
    return daemon_group ? daemon_group->name : "";
}
