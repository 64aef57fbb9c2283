# WSGIAccessScript for t/auth.t: the X-WSL-Access header picks the answer.
def allow_access(environ, host):
    mode = environ.get('HTTP_X_WSL_ACCESS', '')
    if mode == 'deny':
        return False
    if mode == 'none':
        return None
    if mode == 'raise':
        raise PermissionError('wsl-marker-access-raise')
    if mode == 'weird':
        return 'yes'
    # HostnameLookups is Off: host is the client's address.
    return host == environ['REMOTE_ADDR'] and host in ('127.0.0.1', '::1')
