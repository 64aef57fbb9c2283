#!/usr/bin/python3
"""t/apps.t's CalDAV client: python3-caldav against Radicale.

    caldav_client.py URL USER PASSWORD UID

Logs in, makes a calendar, saves an event with the given UID, reads it
back three ways (by UID, by a time-range REPORT, by listing the calendar),
then adds and completes a to-do, and prints what it saw as one JSON object.
Any exception is printed as {"error": ...}, so the test shows the reason.
"""
import datetime
import json
import sys
import traceback

import caldav

EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//mod_wsgi_lite//t/apps.t//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20240301T120000Z
DTSTART:20240315T090000Z
DTEND:20240315T100000Z
SUMMARY:Release planning \u00e9t\u00e9
LOCATION:Room 101
END:VEVENT
END:VCALENDAR
"""

TODO = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//mod_wsgi_lite//t/apps.t//EN
BEGIN:VTODO
UID:{uid}-todo
DTSTAMP:20240301T120000Z
SUMMARY:Write the release notes
STATUS:NEEDS-ACTION
END:VTODO
END:VCALENDAR
"""


def main(url, user, password, uid):
    client = caldav.DAVClient(url=url, username=user, password=password)
    principal = client.principal()
    calendar = principal.make_calendar(name='WSL test calendar',
                                       cal_id='wsl-test')
    calendar.save_event(EVENT.format(uid=uid))

    by_uid = calendar.event_by_uid(uid)
    by_uid.load()
    in_range = calendar.date_search(
        start=datetime.datetime(2024, 3, 15, tzinfo=datetime.timezone.utc),
        end=datetime.datetime(2024, 3, 16, tzinfo=datetime.timezone.utc),
        expand=False)
    out_of_range = calendar.date_search(
        start=datetime.datetime(2024, 4, 1, tzinfo=datetime.timezone.utc),
        end=datetime.datetime(2024, 4, 2, tzinfo=datetime.timezone.utc),
        expand=False)

    calendar.save_todo(TODO.format(uid=uid))
    todo = calendar.todo_by_uid(uid + '-todo')
    todo.complete()
    pending = calendar.todos()
    with_done = calendar.todos(include_completed=True)

    names = [c.get_display_name() for c in principal.calendars()]
    vevent = by_uid.vobject_instance.vevent
    return {
        'calendars': names,
        'summary': vevent.summary.value,
        'location': vevent.location.value,
        'event_url': str(by_uid.url),
        'in_range': [e.vobject_instance.vevent.uid.value for e in in_range],
        'out_of_range': len(out_of_range),
        'todos_pending': len(pending),
        'todos_all': len(with_done),
        'todo_status': with_done[0].vobject_instance.vtodo.status.value
        if with_done else None,
    }


if __name__ == '__main__':
    try:
        result = main(*sys.argv[1:5])
    except Exception:
        result = {'error': traceback.format_exc()}
    json.dump(result, sys.stdout, ensure_ascii=True)
    sys.stdout.write('\n')
