/*
 * status.c: the daemon processes on mod_status's page (server-status),
 * from the status board (board.h), in an Apache child: per group and
 * process, its pid, state, requests served, running and queued, how
 * long the oldest queued one has waited, and the slot's recycles and
 * why (a process handing over to its replacement shows beside it, as
 * "retiring"); per group, the connections waiting in its socket for a process
 * to accept them (backlog.c).  `?auto` gets the same as "Key: value"
 * lines, one per group and one per process (numbered from 1, as on the
 * page and in process_metrics()).
 */
#include "daemon.h"
#include "common/board.h"
#include "common/clock.h"

#include "http_protocol.h"
#include "mod_status.h"

/* Seconds, as the page shows them: between two of the board's
 * wsl_clock_now() times (board.h), which a wall clock step does not
 * move. */
static double since(apr_time_t then, apr_time_t now)
{
    return then && now > then ? (double)(now - then) / APR_USEC_PER_SEC : 0;
}

/* The halves of a slot to show, the slot's process first; n of them. */
static int live_halves(wsl_board_slot *bs, int halves[2])
{
    int n = 0, current = wsl_board_current(bs);

    if (current >= 0) {
        halves[n++] = current;
        if (atomic_load_explicit(&bs->half[!current].pid,
                                 memory_order_relaxed))
            halves[n++] = !current;
    }
    return n;
}

static void short_report(request_rec *r, const apr_array_header_t *groups,
                         apr_time_t now)
{
    int i, slot, k, n, halves[2];

    for (i = 0; i < groups->nelts; i++) {
        const wsl_daemon_group *g =
            APR_ARRAY_IDX(groups, i, const wsl_daemon_group *);
        apr_int64_t recycles = 0;
        int active = 0, queued = 0;
        apr_time_t oldest = 0;
        wsl_board_view v;

        for (slot = 0; slot < g->processes; slot++) {
            wsl_board_slot *bs = wsl_board_slot_of(g->index, slot);

            if (!bs)
                return;
            recycles += atomic_load_explicit(&bs->recycles,
                                             memory_order_relaxed);
            n = live_halves(bs, halves);
            if (!n) {
                /* Between a process's end and the next one's start. */
                wsl_board_read(bs, 0, &v);
                ap_rprintf(r, "WSGIDaemonProcess.%s.%d: pid=0 state=none "
                           "recycles=%" APR_INT64_T_FMT " last_recycle=\"%s\""
                           "\n", g->name, slot + 1, v.recycles, v.last);
            }
            for (k = 0; k < n; k++) {
                wsl_board_read(bs, halves[k], &v);
                active += v.active;
                queued += v.queued;
                if (v.oldest_queued &&
                    (!oldest || v.oldest_queued < oldest))
                    oldest = v.oldest_queued;
                ap_rprintf(r, "WSGIDaemonProcess.%s.%d%s: pid=%d state=%s "
                           "uptime=%.0f served=%" APR_INT64_T_FMT " active=%d "
                           "queued=%d oldest_queued_age=%.3f recycles=%"
                           APR_INT64_T_FMT " last_recycle=\"%s\" "
                           "stopping_because=\"%s\"\n", g->name, slot + 1,
                           k ? ".retiring" : "", v.pid,
                           wsl_board_state_name(v.state),
                           since(v.began, now), v.served, v.active,
                           v.queued, since(v.oldest_queued, now),
                           v.recycles, v.last, v.why);
            }
        }
        ap_rprintf(r, "WSGIDaemonGroup.%s: processes=%d threads=%d "
                   "active=%d queued=%d backlog=%d oldest_queued_age=%.3f "
                   "recycles=%" APR_INT64_T_FMT "\n", g->name, g->processes,
                   g->threads, active, queued,
                   wsl_socket_backlog(wsl_board_socket(g->index)),
                   since(oldest, now), recycles);
    }
}

static void html_report(request_rec *r, const apr_array_header_t *groups,
                        apr_time_t now)
{
    int i, slot, k, n, halves[2];

    ap_rputs("<hr />\n<h2>mod_wsgi_lite daemon processes</h2>\n"
             "<table border=\"1\"><tr><th>Group</th><th>Processes</th>"
             "<th>Threads each</th><th>Waiting in its socket</th></tr>\n",
             r);
    for (i = 0; i < groups->nelts; i++) {
        const wsl_daemon_group *g =
            APR_ARRAY_IDX(groups, i, const wsl_daemon_group *);

        ap_rprintf(r, "<tr><td>%s</td><td>%d</td><td>%d</td><td>%d</td>"
                   "</tr>\n", ap_escape_html(r->pool, g->name),
                   g->processes, g->threads,
                   wsl_socket_backlog(wsl_board_socket(g->index)));
    }
    ap_rputs("</table>\n"
             "<table border=\"1\"><tr><th>Group</th><th>Process</th>"
             "<th>PID</th><th>State</th><th>Up (s)</th><th>Served</th>"
             "<th>Active</th><th>Queued</th><th>Oldest queued (s)</th>"
             "<th>Recycles</th><th>Last recycle</th>"
             "<th>Stopping because</th></tr>\n", r);
    for (i = 0; i < groups->nelts; i++) {
        const wsl_daemon_group *g =
            APR_ARRAY_IDX(groups, i, const wsl_daemon_group *);
        wsl_board_view v;

        for (slot = 0; slot < g->processes; slot++) {
            wsl_board_slot *bs = wsl_board_slot_of(g->index, slot);

            if (!bs)
                break;
            n = live_halves(bs, halves);
            for (k = 0; k < n; k++) {
                wsl_board_read(bs, halves[k], &v);
                ap_rprintf(r, "<tr><td>%s</td><td>%d%s</td><td>%d</td>"
                           "<td>%s</td><td>%.0f</td><td>%" APR_INT64_T_FMT
                           "</td><td>%d</td><td>%d</td><td>%.3f</td><td>%"
                           APR_INT64_T_FMT "</td><td>%s</td><td>%s</td>"
                           "</tr>\n", ap_escape_html(r->pool, g->name),
                           slot + 1, k ? " (retiring)" : "", v.pid,
                           wsl_board_state_name(v.state),
                           since(v.began, now), v.served, v.active,
                           v.queued, since(v.oldest_queued, now), v.recycles,
                           ap_escape_html(r->pool, v.last),
                           ap_escape_html(r->pool, v.why));
            }
        }
    }
    ap_rputs("</table>\n", r);
}

int wsl_daemon_status_hook(request_rec *r, int flags)
{
    const apr_array_header_t *groups = wsl_daemon_groups();

    if (!groups || !groups->nelts || !wsl_board_slot_of(
            APR_ARRAY_IDX(groups, 0, const wsl_daemon_group *)->index, 0))
        return OK;
    if (flags & AP_STATUS_SHORT)
        short_report(r, groups, wsl_clock_now());
    else
        html_report(r, groups, wsl_clock_now());
    return OK;
}
