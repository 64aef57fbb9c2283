# t/interp.t: C-extension-backed modules work in this interpreter (a
# sub-interpreter or the main one): json with its _json accelerator,
# sqlite3 (in-memory), hashlib and ssl.  Reports each result.
import hashlib
import json
import json.decoder
import json.scanner
import os
import sqlite3
import ssl
import sys

import _json


def application(environ, start_response):
    report = {'group': environ.get('mod_wsgi_lite.application_group'),
              'pid': os.getpid(), 'modules_id': id(sys.modules)}
    report['json_c_scanner'] = json.scanner.make_scanner is _json.make_scanner
    report['json_c_scanstring'] = json.decoder.scanstring is _json.scanstring
    report['json_roundtrip'] = json.loads(
        json.dumps({'a': [1, 2.5, 'x\u00e9'], 'b': None}))
    db = sqlite3.connect(':memory:')
    db.execute('create table t (x integer)')
    db.executemany('insert into t values (?)', [(i,) for i in range(1, 11)])
    report['sqlite_sum'] = db.execute('select sum(x) from t').fetchone()[0]
    db.close()
    report['sha256'] = hashlib.sha256(b'abc').hexdigest()
    report['md5'] = hashlib.md5(b'abc').hexdigest()
    ctx = ssl.create_default_context()
    report['ssl_verify'] = ctx.verify_mode == ssl.CERT_REQUIRED
    report['ssl_openssl'] = ssl.OPENSSL_VERSION.startswith('OpenSSL')
    body = json.dumps(report).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
