# The user store behind t/auth.t: WSGIAuthUserScript (Basic and Digest)
# and WSGIAuthGroupScript.  Some users exist only to misbehave.
import hashlib

USERS = {'alice': 'secret', 'bob': 'builder', 'carol': 'c4rol',
         'dave': 'd4ve'}
GROUPS = {'alice': ['staff', b'admins'], 'bob': ['staff']}


def check_password(environ, user, password):
    if user == 'boom':
        raise RuntimeError('wsl-marker-auth-boom')
    if user == 'weird':
        return 1                     # an int is not True
    if user == 'env':
        # Built like the application's environ, minus the request body.
        ok = ('wsgi.input' not in environ
              and environ['REQUEST_URI'].startswith('/auth/')
              and environ['mod_wsgi_lite.application_group']
              == environ.get('HTTP_X_WSL_EXPECT_GROUP', '')
              and 'mod_wsgi_lite.callable_object' not in environ
              and type(environ.get('apache.request_rec')).__name__
              == 'PyCapsule')
        environ['wsgi.errors'].write('wsl-marker-env-check %s\n' % ok)
        return ok
    if user == 'alias':
        # mod_wsgi: a string grants and names the user.
        return 'alice' if password == 'secret' else False
    if user not in USERS:
        return None
    return USERS[user] == password


def get_realm_hash(environ, user, realm):
    if user == 'boom':
        raise RuntimeError('wsl-marker-digest-boom')
    if user == 'weird':
        return 42
    if user not in USERS:
        return None
    text = '%s:%s:%s' % (user, realm, USERS[user])
    return hashlib.md5(text.encode('latin-1')).hexdigest()


def groups_for_user(environ, user):
    if user == 'carol':
        raise LookupError('wsl-marker-group-raise')
    if user == 'dave':
        return 'admins'              # a str is not a list of groups
    return GROUPS.get(user, [])
