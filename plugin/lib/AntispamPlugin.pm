package AntispamPlugin;

# Shared code of the panel-side files (WHM shim, cPanel shim, cPanel admin module, hook script).
# Core Perl modules only: these files run on a cPanel server where nothing else is guaranteed.
# No business logic: read the plugin config, read the shared secrets, sign, hand over to the app.

use strict;
use warnings;

use Digest::SHA  ();
use JSON::PP     ();
use MIME::Base64 ();

our $VERSION = '1.0';

# Where install.sh places the panel-side files (relative to the root prefix). Every script and
# install.sh/uninstall.sh use these same paths; keep them in sync with plugin/README.md.
our $BASE_REL        = 'usr/local/cpanel/3rdparty/antispam';
our $HOOK_REL        = "$BASE_REL/bin/antispam-hook";
our $LIB_REL         = "$BASE_REL/lib";
our $CONF_REL        = 'etc/antispam-plugin/plugin.conf';
our $RESELLERS_REL   = 'var/cpanel/resellers';
our $FAILURE_LOG_REL = 'var/log/antispam-plugin/hook-failures.log';

our $TOKEN_TTL   = 60;    # seconds; the app refuses tokens with exp - iat > 60
our $APP_FEATURE = 'antispam';

our %ROLES = map { $_ => 1 } qw(admin reseller customer);

# ---------------------------------------------------------------------------------------------
# Root prefix and paths

# The root prefix from ANTISPAM_ROOT (default "/"), without a trailing slash ("" for "/").
sub root {
    my $root = $ENV{ANTISPAM_ROOT};
    $root = '/' if !defined $root || $root eq '';
    $root =~ s{/+\z}{};
    return $root;
}

# An absolute path under the root prefix: path('etc/x') is "/etc/x" for root "/".
sub path {
    my ($rel) = @_;
    $rel =~ s{\A/+}{};
    return root() . '/' . $rel;
}

sub hook_path { return path($HOOK_REL) }

# ---------------------------------------------------------------------------------------------
# Config

# Reads <root>/etc/antispam-plugin/plugin.conf (key=value lines, # comments) over the defaults.
# Dies with a message that says what is wrong when the file is missing or unreadable.
sub read_config {
    my $file = path($CONF_REL);
    my %conf = (
        app_url          => 'http://127.0.0.1:3000',
        sso_secret_file  => path('etc/antispam-plugin/sso.key'),
        hook_secret_file => path('etc/antispam-plugin/hook.key'),
        hook_timeout     => 2,
    );
    open( my $fh, '<', $file ) or die "cannot read the plugin config $file: $!\n";
    while ( my $line = <$fh> ) {
        $line =~ s/\r?\n\z//;
        next if $line =~ /\A\s*(?:#|\z)/;
        my ( $key, $value ) = $line =~ /\A\s*([A-Za-z0-9_]+)\s*=\s*(.*?)\s*\z/ or next;
        $conf{$key} = $value;
    }
    close $fh;

    $conf{app_url} =~ s{/+\z}{};
    die "app_url in $file must be an http(s) URL, not '$conf{app_url}'\n" if $conf{app_url} !~ m{\Ahttps?://[^/\s]+(?:/\S*)?\z};
    # public_url (optional): the browser-facing base of the app for the SSO redirect, when the
    # app_url (loopback, used by the hooks) is not reachable from the browser. Defaults to app_url.
    if ( defined $conf{public_url} && $conf{public_url} ne '' ) {
        $conf{public_url} =~ s{/+\z}{};
        die "public_url in $file must be an http(s) URL, not '$conf{public_url}'\n" if $conf{public_url} !~ m{\Ahttps?://[^/\s]+(?:/\S*)?\z};
    }
    else {
        $conf{public_url} = $conf{app_url};
    }
    my $timeout = $conf{hook_timeout};
    $timeout = 2 if !defined $timeout || $timeout !~ /\A\d+(?:\.\d+)?\z/ || $timeout <= 0;
    $timeout = 30 if $timeout > 30;
    $conf{hook_timeout} = $timeout;
    $conf{file}         = $file;
    return \%conf;
}

# The secret bytes of a key file with trailing whitespace trimmed. Dies when unreadable or empty.
sub read_secret {
    my ($file) = @_;
    die "no secret file configured\n" if !defined $file || $file eq '';
    open( my $fh, '<:raw', $file ) or die "cannot read the secret file $file: $!\n";
    local $/;
    my $secret = <$fh> // '';
    close $fh;
    $secret =~ s/\s+\z//;
    die "the secret file $file is empty\n" if $secret eq '';
    return $secret;
}

# ---------------------------------------------------------------------------------------------
# Encoding, randomness, signatures

sub b64url {
    my ($bytes) = @_;
    my $b64 = MIME::Base64::encode_base64( $bytes, '' );
    $b64 =~ tr{+/}{-_};
    $b64 =~ s/=+\z//;
    return $b64;
}

sub random_hex {
    my ($nbytes) = @_;
    open( my $fh, '<:raw', '/dev/urandom' ) or die "cannot read /dev/urandom: $!\n";
    my $got = read( $fh, my $buf, $nbytes );
    close $fh;
    die "short read from /dev/urandom\n" if !defined $got || $got != $nbytes;
    return unpack( 'H*', $buf );
}

# Panel user names: cPanel lowercases them; accept the usual characters only.
sub valid_username {
    my ($user) = @_;
    return defined $user && $user =~ /\A[a-z0-9][a-z0-9._-]{0,63}\z/ ? 1 : 0;
}

# SSO token "<payload>.<sig>": payload = base64url(JSON claims), sig = base64url(HMAC-SHA256(secret, payload)).
sub mint_sso_token {
    my (%args) = @_;
    my $user = lc( $args{user} // '' );
    my $role = $args{role} // '';
    die "invalid user name for SSO\n" if !valid_username($user);
    die "invalid role '$role' for SSO\n" if !$ROLES{$role};
    my $iat    = int( $args{now} // time() );
    my $claims = {
        v     => 1,
        user  => $user,
        role  => $role,
        iat   => $iat + 0,
        exp   => $iat + $TOKEN_TTL,
        nonce => random_hex(16),
    };
    my $payload = b64url( JSON::PP->new->utf8->canonical->encode($claims) );
    my $sig     = b64url( Digest::SHA::hmac_sha256( $payload, $args{secret} ) );
    return "$payload.$sig";
}

# "<public_url>/sso?token=<token>&embedded=1" (public_url defaults to app_url).
sub sso_redirect_url {
    my ( $conf, $token ) = @_;
    return "$conf->{public_url}/sso?token=$token&embedded=1";
}

# Reads config and SSO secret, mints a token for (user, role), returns the redirect URL.
sub sso_url_for {
    my ( $user, $role ) = @_;
    my $conf   = read_config();
    my $secret = read_secret( $conf->{sso_secret_file} );
    return sso_redirect_url( $conf, mint_sso_token( secret => $secret, user => $user, role => $role ) );
}

# X-Antispam-Signature value: "sha256=" . hex HMAC-SHA256(secret, "<timestamp>.<body>").
sub hook_signature {
    my ( $secret, $timestamp, $body ) = @_;
    return 'sha256=' . Digest::SHA::hmac_sha256_hex( "$timestamp.$body", $secret );
}

# ---------------------------------------------------------------------------------------------
# WHM reseller privileges

# The ACL list of a WHM reseller from <root>/var/cpanel/resellers ("user:acl1,acl2,..." lines,
# the format cPanel's Whostmgr::Resellers::Parse reads). Returns an arrayref, or undef when the
# user is not listed. Dies when the file cannot be read.
sub reseller_acls {
    my ($user) = @_;
    my $file = path($RESELLERS_REL);
    open( my $fh, '<', $file ) or die "cannot read the reseller list $file: $!\n";
    my $found;
    while ( my $line = <$fh> ) {
        $line =~ s/\r?\n\z//;
        my ( $name, $acllist ) = split /:/, $line, 2;
        next if !defined $name || $name eq '' || $name ne $user;
        $found = [ grep { $_ ne '' } map { s/\A\s+|\s+\z//gr } split /,/, ( $acllist // '' ) ];
    }
    close $fh;
    return $found;
}

# ---------------------------------------------------------------------------------------------
# CGI responses

sub html_escape {
    my ($s) = @_;
    $s //= '';
    $s =~ s/&/&amp;/g;
    $s =~ s/</&lt;/g;
    $s =~ s/>/&gt;/g;
    $s =~ s/"/&quot;/g;
    $s =~ s/'/&#39;/g;
    return $s;
}

my %REASON = ( 302 => 'Found', 403 => 'Forbidden', 405 => 'Method Not Allowed', 500 => 'Internal Server Error' );

sub cgi_redirect {
    my ($url) = @_;
    my $safe = html_escape($url);
    return "Status: 302 Found\r\n"
      . "Location: $url\r\n"
      . "Cache-Control: no-store\r\n"
      . "Content-Type: text/html; charset=utf-8\r\n\r\n"
      . "<!DOCTYPE html><html><head><title>Anti-Spam Policy</title></head>"
      . "<body><p><a href=\"$safe\">Continue to Anti-Spam Policy</a></p></body></html>\n";
}

sub cgi_error {
    my ( $status, $title, $message ) = @_;
    my $reason = $REASON{$status} // 'Error';
    my $t      = html_escape($title);
    my $m      = html_escape($message);
    return "Status: $status $reason\r\n"
      . "Cache-Control: no-store\r\n"
      . "Content-Type: text/html; charset=utf-8\r\n\r\n"
      . "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Anti-Spam Policy: $t</title></head>\n"
      . "<body style=\"font-family:sans-serif;max-width:40em;margin:2em auto\">\n"
      . "<h1>Anti-Spam Policy</h1>\n<h2>$t</h2>\n<p>$m</p>\n</body></html>\n";
}

# Only GET and HEAD open the app; anything else gets a 405 page (undef = method is fine).
sub method_error {
    my $method = uc( $ENV{REQUEST_METHOD} // 'GET' );
    return undef if $method eq 'GET' || $method eq 'HEAD';
    return cgi_error( 405, 'Method not allowed', "This page only answers GET requests, not $method." );
}

# ---------------------------------------------------------------------------------------------
# Hooks

# The Standardized Hook descriptors printed by "antispam-hook --describe".
sub hook_descriptors {
    my ($hook) = @_;
    $hook //= hook_path();
    my @whm = map {
        { category => 'Whostmgr', event => $_, stage => 'post', exectype => 'script', hook => $hook, blocking => 0, escalateprivs => 0 }
    } qw(Accounts::Create Accounts::Remove Accounts::Modify Accounts::suspendacct Accounts::unsuspendacct);
    # Cpanel events run as the cPanel user, who cannot read the root-only hook secret:
    # escalateprivs=1 makes cPanel run the script as root (through its admin binary).
    my @cpanel = map {
        { category => 'Cpanel', event => $_, stage => 'post', exectype => 'script', hook => $hook, blocking => 0, escalateprivs => 1 }
    } qw(UAPI::Email::add_pop UAPI::Email::delete_pop);
    return [ @whm, @cpanel ];
}

# Appends one line to <root>/var/log/antispam-plugin/hook-failures.log. Never dies.
sub append_failure_log {
    my ($line) = @_;
    my $file = path($FAILURE_LOG_REL);
    ( my $dir = $file ) =~ s{/[^/]+\z}{};
    eval {
        if ( !-d $dir ) {
            require File::Path;
            File::Path::make_path( $dir, { mode => 0750 } );
        }
        $line =~ s/[\r\n]+/ /g;
        require Fcntl;
        sysopen( my $fh, $file, Fcntl::O_WRONLY() | Fcntl::O_APPEND() | Fcntl::O_CREAT(), 0640 ) or die "open $file: $!\n";
        syswrite( $fh, "$line\n" );
        close $fh;
        1;
    } or return 0;
    return 1;
}

sub utc_timestamp {
    my @t = gmtime( $_[0] // time() );
    return sprintf( '%04d-%02d-%02dT%02d:%02d:%02dZ', $t[5] + 1900, $t[4] + 1, $t[3], $t[2], $t[1], $t[0] );
}

1;
