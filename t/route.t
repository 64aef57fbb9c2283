# route.t: one place (src/route.c) decides what a request runs, and the
# same rules name the interpreter a WSGIImportScript preloads into.
#
# On a server of the test's own with three virtual hosts:
# - an HTTPS one (mod_ssl, a throwaway self-signed certificate) whose
#   ServerName says port 443 while it listens on a free port: %{SERVER}
#   is "localhost" for its requests and for its WSGIImportScript alike
#   (mod_wsgi leaves out :80 and :443).  Before src/route.c the preload
#   named it "localhost:443" while requests (by ap_default_port, 443 on
#   HTTPS) named it "localhost": the preload landed in an interpreter no
#   request ever used.
# - a plain one on another port: "localhost:PORT" for both.
# - a plain one whose dispatch script's process_group() reaches the same
#   process decision as WSGIProcessGroup: '' runs here, a daemon group
#   meets WSGIRestrictProcess first, then the daemon group lookup.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use File::Temp ();
use IO::Socket::INET ();
use JSON::PP ();
use Time::HiRes ();
use WSLTest qw(t_ok);
use WSLServer ();

my $ssl_so = '/usr/lib/apache2/modules/mod_ssl.so';
my $have_ssl = -f $ssl_so && eval { require IO::Socket::SSL; 1 };

plan tests => 17, need_module 'mod_wsgi_lite.c';

my $docroot = Apache::Test::vars('documentroot');
my $dir = "$docroot/route";
my $json = JSON::PP->new;

# A certificate for the HTTPS virtual host, made now, valid one day.
my $certdir = File::Temp->newdir('wsl-route-XXXXXX', TMPDIR => 1);
my ($cert, $key) = ("$certdir/cert.pem", "$certdir/key.pem");
system('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
       '-keyout', $key, '-out', $cert, '-days', '1', '-subj', '/CN=localhost',
       '-loglevel', 'error') == 0
    or system('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
              '-keyout', $key, '-out', $cert, '-days', '1',
              '-subj', '/CN=localhost') == 0
    or $have_ssl = 0;

my ($https_port, $plain_port, $dispatch_port) =
    map { WSLServer::free_port() } 1 .. 3;
my $ssl_conf = $have_ssl ? <<"CONF" : '';
<IfModule !ssl_module>
    LoadModule ssl_module $ssl_so
</IfModule>
Listen 127.0.0.1:$https_port https
<VirtualHost 127.0.0.1:$https_port>
    ServerName https://localhost:443
    SSLEngine on
    SSLCertificateFile "$cert"
    SSLCertificateKeyFile "$key"
    WSGIImportScript "$dir/preload.wsgi" application-group=%{SERVER}
    WSGIScriptAlias /route "$dir/app.wsgi" application-group=%{SERVER}
</VirtualHost>
CONF

my $srv = eval {
    WSLServer->start(conf => <<"CONF");
$ssl_conf
Listen 127.0.0.1:$plain_port
<VirtualHost 127.0.0.1:$plain_port>
    ServerName localhost:$plain_port
    WSGIImportScript "$dir/preload.wsgi" application-group=%{SERVER}
    WSGIScriptAlias /route "$dir/app.wsgi" application-group=%{SERVER}
</VirtualHost>
Listen 127.0.0.1:$dispatch_port
<VirtualHost 127.0.0.1:$dispatch_port>
    ServerName localhost:$dispatch_port
    WSGIScriptAlias /open "$dir/app.wsgi"
    WSGIScriptAlias /restricted "$dir/app.wsgi"
    WSGIDispatchScript "$dir/dispatch.wsgi"
    <Location /restricted>
        WSGIRestrictProcess %{GLOBAL} listed
    </Location>
</VirtualHost>
CONF
};
ok t_ok($srv, '(setup) a server with an HTTPS, a plain and a dispatch virtual host starts')
    or t_debug($@);

# GET over HTTPS, certificate not checked (it is our own): (status, body).
sub https_get {
    my ($port, $path) = @_;
    my $sock = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                    SSL_verify_mode => 0, SSL_hostname => 'localhost',
                                    Timeout => 10) or return (0, "connect: " . IO::Socket::SSL::errstr());
    my $data = '';
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 20;
        print $sock "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        while (defined(my $line = <$sock>)) { $data .= $line }
        alarm 0;
    };
    alarm 0;
    close $sock;
    my ($head, $body) = split /\r\n\r\n/, $data, 2;
    my ($code) = ($head // '') =~ m{^HTTP/\d\.\d (\d{3})};
    return ($code || 0, $body // '');
}

# GET on a port of the server, plain HTTP: (status, body).
sub plain_get {
    my ($port, $path) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                     Timeout => 10) or return (0, "connect: $!");
    print $sock "GET $path HTTP/1.0\r\nHost: localhost:$port\r\n\r\n";
    my $data = WSLTest::read_until_eof($sock, Time::HiRes::time() + 20);
    close $sock;
    my ($head, $body) = split /\r\n\r\n/, $data, 2;
    my ($code) = ($head // '') =~ m{^HTTP/\d\.\d (\d{3})};
    return ($code || 0, $body // '');
}

sub decode { my $j = eval { $json->decode($_[0] // '') }; $j || {} }

# --- HTTPS on 443 by its ServerName ----------------------------------------
SKIP: {
    # Test.pm's skip() records one test and returns: skip each, then leave.
    unless ($have_ssl && $srv) {
        skip('mod_ssl or IO::Socket::SSL or openssl missing', 0) for 1 .. 4;
        last SKIP;
    }
    my ($code, $body) = https_get($https_port, '/route');
    my $j = decode($body);
    ok t_cmp($code, 200, 'HTTPS virtual host: the app answers over TLS');
    ok t_cmp($j->{group}, 'localhost',
             'HTTPS, ServerName port 443: %{SERVER} is "localhost" for a request');
    ok t_cmp($j->{preloaded_in}, 'localhost',
             'and its WSGIImportScript application-group=%{SERVER} ran in that same interpreter');
    my @wrong = grep /WSL00003: created application group 'localhost:443'/,
        split /^/, $srv->log_text;
    ok t_cmp(scalar(@wrong), 0, 'no interpreter named "localhost:443" was ever made');
}

# --- a plain virtual host on another port ---------------------------------
my ($code, $body) = $srv ? plain_get($plain_port, '/route') : (0, '');
my $j = decode($body);
ok t_cmp($code, 200, 'plain virtual host on its own port: the app answers');
ok t_cmp($j->{group}, "localhost:$plain_port", '%{SERVER} is "localhost:PORT" for a request');
ok t_cmp($j->{preloaded_in}, "localhost:$plain_port",
         'and its WSGIImportScript ran in that interpreter');

# --- WSGIDispatchScript's process_group() meets the one process decision ---
($code, $body) = $srv ? plain_get($dispatch_port, '/open?pg=') : (0, '');
$j = decode($body);
ok t_cmp($code, 200, "process_group() returning '' runs the request here");
ok t_cmp($j->{process_group}, '', 'with mod_wsgi.process_group empty (embedded)');
($code) = $srv ? plain_get($dispatch_port, '/open?pg=%25%7BGLOBAL%7D') : (0);
ok t_cmp($code, 200, 'process_group() returning %{GLOBAL} runs it here too');

my $log_before = $srv ? length $srv->log_text : 0;
($code) = $srv ? plain_get($dispatch_port, '/open?pg=wsl-route-daemon') : (0);
ok t_cmp($code, 500, 'process_group() naming no daemon group: 500');
my $log = $srv ? substr($srv->log_text, $log_before) : '';
ok t_cmp($log, qr/WSL00051: WSGIDispatchScript wsl-route-daemon: no WSGIDaemonProcess of that name \(for '\/open'\)/,
         'logged by the same check as WSGIProcessGroup (WSL00051), naming the dispatch script');

$log_before = $srv ? length $srv->log_text : 0;
($code) = $srv ? plain_get($dispatch_port, '/restricted?pg=wsl-route-daemon') : (0);
ok t_cmp($code, 500, 'a daemon group not in WSGIRestrictProcess: 500');
$log = $srv ? substr($srv->log_text, $log_before) : '';
ok t_cmp($log, qr/WSL00160: process group 'wsl-route-daemon' is not one that WSGIRestrictProcess allows here \(for '\/restricted'\)/,
         'WSGIRestrictProcess checks what the dispatch script chose, before daemon mode');
($code) = $srv ? plain_get($dispatch_port, '/restricted?pg=listed') : (0);
$log = $srv ? substr($srv->log_text, $log_before) : '';
ok t_ok($code == 500 && $log =~ /WSL00051: WSGIDispatchScript listed: no WSGIDaemonProcess/,
        'a listed group passes WSGIRestrictProcess, then is looked up among the daemon groups');

my $secs = $srv ? $srv->stop(15) : undef;
ok t_ok(defined $secs, 'the server stops, no process left behind');
